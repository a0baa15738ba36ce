//! The two schedulers and what they have in common.
//!
//! - `multi_thread/`: worker threads with work-stealing deques.
//! - `single_thread/`: everything on the thread that calls `block_on`, asyncio's model.
//! - `local.rs`: the per-thread queue of tasks that must stay on one thread, used by both;
//!   `loom_local.rs`: its loom model.

pub(crate) mod local;
#[cfg(all(test, loom))]
mod loom_local;
pub(crate) mod multi_thread;
pub(crate) mod single_thread;

use crate::task::{Task, TaskInfo};
use local::LocalShared;
use std::future::Future;
use std::sync::Arc;

/// A handle to the scheduler of one runtime, as the thread context and [`crate::Handle`] hold.
#[derive(Clone, Debug)]
pub(crate) enum Scheduler {
    Multi(Arc<multi_thread::Shared>),
    Single(Arc<LocalShared>),
}

impl Scheduler {
    /// Spawns a `Send` task; it may run on any thread of the runtime.
    pub(crate) fn spawn<F>(&self, future: F, name: Option<Box<str>>) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Scheduler::Multi(shared) => shared.spawn(future, name),
            Scheduler::Single(local) => local.spawn_send(future, name),
        }
    }

    /// Snapshots every task of the runtime that has not completed.
    pub(crate) fn collect_info(&self, out: &mut Vec<TaskInfo>) {
        match self {
            Scheduler::Multi(shared) => shared.collect_info(out),
            Scheduler::Single(local) => local.owned.collect_info(out),
        }
    }
}
