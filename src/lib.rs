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
//! This crate re-exports the workspace's crates: `ringloop-runtime` (tasks, schedulers, the
//! task API), `ringloop-io` (the io_uring driver) and `ringloop-sync` (synchronization
//! primitives).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub use ringloop_runtime::{
    all_tasks, create_local_task, create_task, current_task, gather, run, try_gather, try_run,
    yield_now, Builder, Gather, Handle, Runtime, Task, TaskBuilder, TaskError, TaskId, TaskInfo,
    TaskState, TryGather, YieldNow,
};
