//! ringloop's runtime: tasks, the work-stealing and single-threaded schedulers, and the
//! asyncio-style task API (`run`, `create_task`, `gather`, `yield_now`, cancellation).
//!
//! # Examples
//! ```
//! use ringloop::{create_task, gather, run, yield_now};
//!
//! run(async {
//!     let workers = (0..4).map(|id| create_task(async move {
//!         yield_now().await; // let the others run, like asyncio.sleep(0)
//!         id * 10
//!     }));
//!     let results = gather(workers).await;
//!     let values: Vec<u32> = results.into_iter().map(|r| r.unwrap()).collect();
//!     assert_eq!(values, [0, 10, 20, 30]);
//! });
//! ```
//!
//! # Where things are
//! - `task/`: the task cell, its state machine, wakers, join handles, the owner list.
//! - `scheduler/multi_thread/`: workers, deques, stealing, idle workers.
//! - `scheduler/single_thread/` and `scheduler/local.rs`: one thread, and per-thread queues.
//! - `park.rs`: how idle threads sleep and are woken.
//! - `runtime.rs`, `builder.rs`, `spawn.rs`: the public entry points.
//! - `signal_handler.rs`: `Handle::add_signal_handler` / `remove_signal_handler`.
//! - `lookup.rs`: how a `Handle` finds what its runtime owns (blocking pool, signal handlers).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod blocking;
mod builder;
mod cancel_on_drop;
mod caught;
mod context;
mod coop;
mod debug;
mod gather;
mod lookup;
mod loom;
mod loop_api;
mod metrics;
mod park;
mod report;
mod runtime;
mod scheduler;
mod shield;
mod signal_handler;
mod spawn;
pub mod streams;
mod task;
mod task_group;
mod user_waker;
mod wait;
mod yield_now;

pub use blocking::{to_thread, BlockingTask};
pub use builder::Builder;
pub use cancel_on_drop::CancelOnDrop;
pub use gather::{gather, try_gather, Gather, TryGather};
pub use loop_api::{create_future, CallHandle, FutureCell, FutureError, InvalidStateError};
pub use metrics::{RuntimeMetrics, WorkerMetrics};
pub use runtime::{run, run_local, try_run, try_run_local, Handle, Runtime};
pub use shield::{shield, Shield};
pub use spawn::{all_tasks, create_local_task, create_task, current_task, TaskBuilder};
pub use streams::{open_connection, open_unix_connection, start_server, start_unix_server};
pub use task::{PanicPayload, Task, TaskError, TaskId, TaskInfo, TaskState};
pub use task_group::{
    task_group, Failure, FailureKind, GroupTask, TaskGroup, TaskGroupError, TaskGroupScope,
};
pub use wait::{
    as_completed, timeout_scope, timeout_scope_at, wait, wait_for, AsCompleted, Next, Outcome,
    ReturnWhen, Scoped, TimeoutScope, Wait, WaitFor,
};
pub use yield_now::{yield_now, YieldNow};

/// Items the exported macros expand to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::gather::MaybeDone;

    /// Per-child wake flags of a `gather!`.
    #[derive(Debug)]
    pub struct WakeFlags(crate::gather::WakeFlags);

    impl WakeFlags {
        /// Flags for `len` children.
        pub fn new(len: usize) -> WakeFlags {
            WakeFlags(crate::gather::WakeFlags::new(len))
        }
        /// Records the waker of the task awaiting the gather.
        pub fn register(&self, waker: &std::task::Waker) {
            self.0.register(waker);
        }
        /// True if child `index` was woken since its last poll.
        pub fn take(&self, index: usize) -> bool {
            self.0.take(index)
        }
        /// Child `index`'s waker.
        pub fn waker(&self, index: usize) -> &std::task::Waker {
            self.0.waker(index)
        }
    }
}
