//! # ringloop
//!
//! An async runtime for Rust with Python asyncio's model: `run`, `create_task`, `gather`,
//! cancellation, on a multi-threaded work-stealing scheduler (one worker per core) or a
//! single-threaded one, with an io_uring backend.
//!
//! ```
//! use ringloop::{create_task, gather, run};
//!
//! let total = run(async {
//!     let tasks = (1..=10u64).map(|n| create_task(async move { n * n }));
//!     gather(tasks).await.into_iter().map(|r| r.unwrap()).sum::<u64>()
//! });
//! assert_eq!(total, 385);
//! ```
//!
//! Timers and I/O go through the io_uring ring of the thread that polls them:
//!
//! ```
//! use std::time::Duration;
//!
//! ringloop::run(async {
//!     ringloop::sleep(Duration::from_millis(5)).await.unwrap();
//!     let slow = ringloop::sleep(Duration::from_secs(60));
//!     assert!(ringloop::timeout(Duration::from_millis(5), slow).await.is_err());
//! });
//! ```
//!
//! `#[ringloop::main]` does the same for a program's `async fn main` (asyncio's
//! `asyncio.run(main())`), and `#[ringloop::test]` for an `async fn` test:
//!
//! ```
//! #[ringloop::main]
//! async fn main() {
//!     let task = ringloop::create_task(async { 6 * 7 });
//!     assert_eq!(task.await.unwrap(), 42);
//! }
//! ```
//!
//! This crate re-exports the workspace's crates: `ringloop-runtime` (tasks, schedulers, the
//! task API, [`streams`]), `ringloop-io` (the io_uring driver: [`time`], [`fs`], [`net`],
//! [`signal`]), `ringloop-sync` ([`sync`]) and `ringloop-macros` ([`main`](macro@main),
//! [`test`](macro@test)).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub use ringloop_runtime::{
    all_tasks, create_local_task, create_task, current_task, gather, run, run_local, try_gather,
    try_run, try_run_local, yield_now, Builder, Gather, Handle, PanicPayload, Runtime, Task,
    TaskBuilder, TaskError, TaskId, TaskInfo, TaskState, TryGather, YieldNow,
};

// Waiting, timeouts, task groups, the loop's low-level API and blocking calls
// (asyncio's `wait`, `as_completed`, `wait_for`, `timeout`, `shield`, `TaskGroup`,
// `loop.call_*`, `loop.create_future`, `to_thread`).
pub use ringloop_runtime::{
    as_completed, create_future, shield, task_group, timeout_scope, timeout_scope_at, to_thread,
    wait, wait_for, AsCompleted, BlockingTask, CallHandle, CancelOnDrop, Failure, FailureKind,
    FutureCell, FutureError, GroupTask, InvalidStateError, Next, Outcome, ReturnWhen, Scoped,
    Shield, TaskGroup, TaskGroupError, TaskGroupScope, TimeoutScope, Wait, WaitFor,
};

// The attributes `#[ringloop::main]` and `#[ringloop::test]`. Attribute macros live in the
// macro namespace: they name no function or module of this crate.
pub use ringloop_macros::{main, test};

// What `Runtime::metrics` returns.
pub use ringloop_runtime::{RuntimeMetrics, WorkerMetrics};

pub use ringloop_io::time::{sleep, sleep_until, timeout};
pub use ringloop_io::{fs, net, signal, time, IoBuf, IoBufMut};

/// asyncio's streams: buffered readers and writers over TCP and Unix connections, and
/// servers that run a handler per connection.
pub mod streams {
    pub use ringloop_io::stream::{
        Flusher, IncompleteRead, LimitOverrun, ReadError, StreamAddr, StreamReader, StreamSocket,
        StreamWriter,
    };
    pub use ringloop_runtime::streams::{
        open_connection, open_unix_connection, start_server, start_unix_server, wrap,
        HandlerOutput, Server, ServerConfig,
    };
}
pub use ringloop_runtime::{
    open_connection, open_unix_connection, start_server, start_unix_server,
};

/// Synchronization primitives (asyncio's `Lock`, `Event`, `Condition`, `Semaphore`,
/// `BoundedSemaphore`, `Queue`, ...), usable from any runtime or none.
pub mod sync {
    pub use ringloop_sync::{
        Acquire, AcquireOwned, Barrier, BarrierWait, BarrierWaitResult, BoundedSemaphore,
        Condition, ConditionWait, ConditionWaitFor, Event, EventWait, Get, Join, LifoQueue, Lock,
        LockAcquire, LockGuard, Mutex, MutexGuard, MutexLock, OwnedSemaphorePermit, PriorityQueue,
        Put, Queue, QueueShutDown, ReleaseError, Semaphore, SemaphorePermit, TaskDoneError,
        TryAcquireError, TryGetError, TryLockError, TryPutError,
    };
}

/// The README's examples, compiled (and the runnable ones run) with the doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The guide for asyncio users, `docs/asyncio.md`, compiled into the documentation only when
/// doctests are collected, so that `cargo test --doc` runs every Rust snippet of the guide.
#[cfg(doctest)]
#[doc = include_str!("../docs/asyncio.md")]
pub struct AsyncioGuide;
