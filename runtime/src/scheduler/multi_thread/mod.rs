//! The multi-threaded, work-stealing scheduler.
//!
//! Each worker thread owns a FIFO [`crossbeam_deque::Worker`] run queue; the others hold its
//! [`Stealer`]. Tasks spawned or woken on a worker go to the back of that worker's queue;
//! tasks spawned or woken from outside go to the global [`Injector`]. A worker with nothing to
//! run steals about half of a random victim's queue, or a batch from the injector. Every
//! [`FAIRNESS_INTERVAL`] polls a worker looks at the injector and its local-task queue first,
//! so that neither starves behind a busy deque.
//!
//! Local (`!Send`) tasks live in the worker's [`LocalShared`] queue, which nobody steals from.
//!
//! Sleeping and waking follow the protocol in `idle.rs`; parking goes through [`Park`], so the
//! io driver can take over. Shutdown: set the flag, unpark everyone, each worker cancels its
//! local tasks and exits; then the thread that shut down cancels every remaining task.

mod idle;
mod worker;

#[cfg(all(test, loom))]
mod loom_idle;

pub(crate) use idle::MAX_WORKERS;

use super::local::LocalShared;
use crate::loom::{AtomicBool, Ordering};
use crate::park::{Park, ThreadParker, Unparker};
use crate::task::{OwnedTasks, RawTask, Runnable, Schedule, Task, TaskInfo};
use crossbeam_deque::{Injector, Steal, Stealer};
use idle::Idle;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Polls between two looks at the injector and the local-task queue.
const FAIRNESS_INTERVAL: u32 = 61;

/// What every worker and every handle of one multi-threaded runtime share.
pub(crate) struct Shared {
    injector: Injector<Runnable>,
    stealers: Box<[Stealer<Runnable>]>,
    /// Per worker: how to wake it, and its local-task queue.
    remotes: Box<[Remote]>,
    idle: Idle,
    pub(crate) owned: OwnedTasks,
    shutdown: AtomicBool,
}

struct Remote {
    unparker: Unparker,
    local: Arc<LocalShared>,
}

/// The threads of a running multi-threaded scheduler.
pub(crate) struct MultiThread {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl MultiThread {
    /// Starts `workers` worker threads named by `thread_name`.
    pub(crate) fn start(
        workers: usize,
        thread_name: &dyn Fn(usize) -> String,
        stack_size: Option<usize>,
    ) -> io::Result<MultiThread> {
        let mut cores = Vec::with_capacity(workers);
        let mut stealers = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let deque = crossbeam_deque::Worker::new_fifo();
            let parker = ThreadParker::new();
            let unparker = parker.unparker();
            let local = LocalShared::new(unparker.clone(), 1);
            stealers.push(deque.stealer());
            remotes.push(Remote {
                unparker,
                local: local.clone(),
            });
            cores.push((deque, parker, local));
        }
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            stealers: stealers.into_boxed_slice(),
            remotes: remotes.into_boxed_slice(),
            idle: Idle::new(workers),
            owned: OwnedTasks::new(workers * 16),
            shutdown: AtomicBool::new(false),
        });
        let mut this = MultiThread {
            shared: shared.clone(),
            threads: Vec::with_capacity(workers),
        };
        for (index, (deque, parker, local)) in cores.into_iter().enumerate() {
            let shared = shared.clone();
            let mut builder = std::thread::Builder::new().name(thread_name(index));
            if let Some(size) = stack_size {
                builder = builder.stack_size(size);
            }
            let spawned = builder.spawn(move || {
                worker::run(worker::Core::new(index, shared, deque, Box::new(parker), local))
            });
            match spawned {
                Ok(handle) => this.threads.push(handle),
                Err(err) => {
                    // `this` shuts down the workers already started when dropped.
                    return Err(io::Error::new(
                        err.kind(),
                        format!("failed to start ringloop worker thread {index}: {err}"),
                    ));
                }
            }
        }
        Ok(this)
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops the workers, waits for them, and cancels every task left.
    pub(crate) fn shutdown(&mut self) {
        if self.shared.shutdown.swap(true, Ordering::AcqRel) {
            return;
        }
        for remote in self.shared.remotes.iter() {
            remote.unparker.unpark();
        }
        let current = std::thread::current().id();
        for thread in self.threads.drain(..) {
            if thread.thread().id() == current {
                // Dropped from a task on one of our own workers: it cannot join itself; it
                // exits when its poll returns, having seen the flag.
                continue;
            }
            if thread.join().is_err() {
                log::error!("a ringloop worker thread panicked outside of any task");
            }
        }
        for task in self.shared.owned.close_and_drain() {
            // SAFETY: the tasks in the shared list are `Send`: any thread may drop them.
            unsafe { task.shutdown() };
        }
        loop {
            match self.shared.injector.steal() {
                Steal::Success(task) => drop(task),
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
    }
}

impl Drop for MultiThread {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F, name: Option<Box<str>>) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, handle) = crate::task::spawn_on(future, self.clone(), &self.owned, name);
        if let Some(runnable) = runnable {
            self.schedule(runnable);
        }
        handle
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Queues a task from a thread that is not one of this runtime's workers.
    fn inject(&self, task: Runnable) {
        if self.is_shutdown() {
            // Nobody would run it; the owner list's shutdown cancels the task.
            drop(task);
            return;
        }
        self.injector.push(task);
        self.notify_parked();
    }

    /// Wakes a sleeping worker if work was made available and nobody is searching.
    fn notify_parked(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.remotes[worker].unparker.unpark();
        }
    }

    /// True if any queue another worker could take from holds a task.
    fn has_stealable_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    pub(crate) fn collect_info(&self, out: &mut Vec<TaskInfo>) {
        self.owned.collect_info(out);
        for remote in self.remotes.iter() {
            remote.local.owned.collect_info(out);
        }
    }

    /// True if `local` is one of this runtime's workers' local queues.
    pub(crate) fn owns_local(&self, local: &LocalShared) -> bool {
        self.remotes
            .iter()
            .any(|remote| std::ptr::eq(Arc::as_ptr(&remote.local), local))
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Runnable) {
        if let Err(task) = worker::push_if_current(self, task) {
            self.inject(task);
        }
    }

    fn reschedule(&self, task: Runnable) {
        if let Err(task) = worker::push_yielded_if_current(self, task) {
            self.inject(task);
        }
    }

    fn release(&self, task: RawTask) -> bool {
        self.owned.remove(task)
    }

    fn can_drop_here(&self) -> bool {
        true
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("multi_thread::Shared")
            .field("workers", &self.remotes.len())
            .finish_non_exhaustive()
    }
}
