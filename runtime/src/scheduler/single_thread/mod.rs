//! The single-threaded scheduler: asyncio's model. Every task runs on the thread that calls
//! [`Runtime::block_on`](crate::Runtime::block_on); there are no worker threads, `!Send` tasks
//! are allowed, and a wake on that thread is a `push_back` on a plain `VecDeque`.
//!
//! The runtime binds to the first thread that drives it: its tasks may be `!Send`, so they
//! must never be polled or dropped anywhere else. Tasks spawned from other threads (through a
//! [`Handle`](crate::Handle)) and wakes from other threads go through the mutex-protected
//! remote queue and unpark the driving thread.

use super::local::{self, LocalShared};
use super::Scheduler;
use crate::context;
use crate::park::{Park, ThreadParker};
use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::thread::ThreadId;

/// The state of a single-threaded runtime.
pub(crate) struct SingleThread {
    local: Arc<LocalShared>,
    parker: Mutex<ThreadParker>,
    /// The thread that drives this runtime, fixed by the first `block_on`.
    owner: Mutex<Option<ThreadId>>,
}

impl SingleThread {
    pub(crate) fn new() -> SingleThread {
        let parker = ThreadParker::new();
        SingleThread {
            local: LocalShared::new(parker.unparker(), 1),
            parker: Mutex::new(parker),
            owner: Mutex::new(None),
        }
    }

    pub(crate) fn local(&self) -> &Arc<LocalShared> {
        &self.local
    }

    /// Runs `future` to completion on this thread, running the runtime's tasks meanwhile.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        let me = std::thread::current().id();
        {
            let mut owner = self.owner.lock();
            match *owner {
                None => *owner = Some(me),
                Some(owner) if owner == me => {}
                Some(_) => panic!(
                    "a single-threaded ringloop runtime runs its tasks on the thread that first \
                     called `block_on`; call `block_on` from that thread, or build a \
                     multi-threaded runtime"
                ),
            }
        }
        let _enter = context::enter(Scheduler::Single(self.local.clone()), self.local.clone());
        // `enter` refuses nested use on this thread, so this lock is never contended.
        let mut parker = self.parker.lock();
        local::block_on(&self.local, &mut *parker, future)
    }

    /// Cancels every task. Must run on the owner thread (or before any `block_on`); elsewhere
    /// the tasks' futures, which may be `!Send`, are leaked rather than dropped on the wrong
    /// thread.
    pub(crate) fn shutdown(&self) {
        let me = std::thread::current().id();
        let owner = *self.owner.lock();
        if owner.is_some_and(|owner| owner != me) {
            if !self.local.owned.is_empty() {
                log::warn!(
                    "single-threaded ringloop runtime dropped on another thread than the one that \
                     drove it: its remaining tasks are leaked, not dropped, because they may not \
                     be `Send`"
                );
            }
            return;
        }
        let _local = context::enter_local(self.local.clone());
        self.local.shutdown();
    }
}

impl std::fmt::Debug for SingleThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleThread").finish_non_exhaustive()
    }
}
