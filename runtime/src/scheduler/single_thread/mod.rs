//! The single-threaded scheduler: asyncio's model. Every task runs on the thread that calls
//! [`Runtime::block_on`](crate::Runtime::block_on); there are no worker threads, `!Send` tasks
//! are allowed, and a wake on that thread is a `push_back` on a plain `VecDeque`.
//!
//! The runtime binds to the first thread that drives it: its tasks may be `!Send`, and its
//! io_uring driver belongs to one thread, so they must never be polled or dropped anywhere
//! else. The driver is made there, at the first `block_on`. Tasks spawned from other threads
//! (through a [`Handle`](crate::Handle)) and wakes from other threads go through the
//! mutex-protected remote queue and unpark the driving thread.

use super::local::{self, LocalShared, RunConfig};
use super::Scheduler;
use crate::context;
use crate::debug::DebugConfig;
use crate::metrics::{Counters, RuntimeMetrics};
use crate::park::Park;
use crate::runtime::thread_parker;
use parking_lot::Mutex;
use ringloop_io::{Driver, DriverConfig};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::ThreadId;

/// The state of a single-threaded runtime.
pub(crate) struct SingleThread {
    local: Arc<LocalShared>,
    /// The driving thread's driver and parker, made by the first `block_on`.
    io: Mutex<Option<OwnerThreadOnly>>,
    /// The thread that drives this runtime, fixed by the first `block_on`.
    owner: Mutex<Option<ThreadId>>,
    driver_config: DriverConfig,
    debug: DebugConfig,
    counters: Counters,
}

/// The owner thread's driver and parker.
struct OwnerThreadOnly {
    driver: Option<Rc<Driver>>,
    parker: Box<dyn Park>,
}

// SAFETY: the driver and parker are made on the owner thread and only used there: `block_on`
// refuses other threads before touching them, and `shutdown` on another thread leaks them
// instead of dropping them.
unsafe impl Send for OwnerThreadOnly {}

impl SingleThread {
    pub(crate) fn new(driver_config: DriverConfig, debug: DebugConfig) -> SingleThread {
        SingleThread {
            local: LocalShared::new(None, 1),
            io: Mutex::new(None),
            owner: Mutex::new(None),
            driver_config,
            debug,
            counters: Counters::default(),
        }
    }

    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            workers: vec![self.counters.snapshot()],
        }
    }

    pub(crate) fn local(&self) -> &Arc<LocalShared> {
        &self.local
    }

    /// Runs `future` to completion on this thread, running the runtime's tasks meanwhile.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        // Refuse a nested call before this thread becomes the owner: a call that fails must
        // leave no trace (it would bind the runtime to a thread that cannot drive it). If the
        // owner check below panics instead, the guard leaves this thread's context as it was.
        let _enter = context::enter(Scheduler::Single(self.local.clone()), self.local.clone());
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
        // `enter` refuses nested use on this thread, and other threads are refused above, so
        // this lock is never contended.
        let mut io = self.io.lock();
        let io = io.get_or_insert_with(|| {
            let (driver, parker) = thread_parker(&self.driver_config);
            self.local.set_unparker(parker.unparker());
            OwnerThreadOnly { driver, parker }
        });
        let _io = io.driver.as_ref().map(|driver| driver.enter());
        let run = RunConfig {
            debug: self.debug,
            counters: Some(&self.counters),
        };
        local::block_on(&self.local, &mut *io.parker, run, future)
    }

    /// Cancels every task, then shuts the driver down. On the owner thread (or before any
    /// `block_on`) every future is dropped. On another thread the `Send` tasks are cancelled,
    /// but local tasks and the driver, which belong to the owner thread, are leaked rather
    /// than dropped on the wrong thread.
    pub(crate) fn shutdown(&self) {
        let me = std::thread::current().id();
        let owner = *self.owner.lock();
        let on_owner = owner.is_none_or(|owner| owner == me);
        let io = self.io.lock().take();
        {
            let _io = io
                .as_ref()
                .filter(|_| on_owner)
                .and_then(|io| io.driver.as_ref())
                .map(|driver| driver.enter());
            let _enter = context::enter_for_shutdown(
                Scheduler::Single(self.local.clone()),
                self.local.clone(),
            );
            if on_owner {
                self.local.shutdown();
            } else {
                self.local.shutdown_from_another_thread();
            }
        }
        if on_owner {
            drop(io);
        } else if io.is_some() {
            log::warn!(
                "a single-threaded ringloop runtime was dropped on another thread than the one \
                 that drove it: its io_uring is leaked, not closed, because it belongs to that \
                 thread"
            );
            std::mem::forget(io);
        }
    }
}

impl std::fmt::Debug for SingleThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SingleThread").finish_non_exhaustive()
    }
}
