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
//! Sleeping and waking follow the protocol in `idle.rs`; parking goes through
//! [`Park`](crate::park::Park), so the io driver can take over. Which worker runs what
//! follows the packing rules in `packing.rs`. Shutdown: set the flag, unpark everyone, each
//! worker cancels its local tasks and exits; then the thread that shut down cancels every
//! remaining task.

mod idle;
mod packing;
mod rescue;
mod worker;

#[cfg(all(test, loom))]
mod loom_idle;
#[cfg(all(test, loom))]
mod loom_rescue;

pub(crate) use idle::MAX_WORKERS;

use super::local::LocalShared;
use crate::context;
use crate::debug::{DebugConfig, PollClock, Watchdog};
use crate::loom::{AtomicBool, Mutex, Ordering};
use crate::metrics::{Counters, RuntimeMetrics};
use crate::park::{driver_unparker, DriverParker, Unparker};
use crate::scheduler::Scheduler;
use crate::task::{OwnedTasks, RawTask, Runnable, Schedule, Task, TaskInfo};
use crossbeam_deque::{Injector, Steal, Stealer};
use idle::Idle;
use packing::WorkerLoad;
use rescue::Watchers;
use ringloop_io::{Driver, DriverConfig, DriverHandle};
use std::fmt;
use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

/// Polls between two looks at the injector and the local-task queue.
const FAIRNESS_INTERVAL: u32 = 61;

/// What every worker and every handle of one multi-threaded runtime share.
pub(crate) struct Shared {
    injector: Injector<Runnable>,
    stealers: Box<[Stealer<Runnable>]>,
    /// Per worker: how to wake it, and its local-task queue.
    remotes: Box<[Remote]>,
    idle: Idle,
    /// Which parked workers watch their siblings for stalls (see `rescue.rs`).
    watchers: Watchers,
    pub(crate) owned: OwnedTasks,
    /// The local queues of threads blocked in `block_on`, so `all_tasks()` sees their tasks.
    block_on_locals: Mutex<Vec<Arc<LocalShared>>>,
    pub(crate) debug: DebugConfig,
    /// The time base of the workers' poll clocks.
    epoch: Instant,
    shutdown: AtomicBool,
}

struct Remote {
    unparker: Unparker,
    /// The worker's io driver, which siblings drive while it is stalled (see `rescue.rs`).
    driver: DriverHandle,
    local: Arc<LocalShared>,
    counters: Counters,
    /// What the worker is polling, for the debug-mode watchdog.
    clock: Arc<PollClock>,
    /// How busy the worker is, for stealing and hand-overs (see `packing.rs`).
    load: WorkerLoad,
    /// Tasks other workers handed over to this one (see `packing.rs`): its own work, stolen
    /// only if it is overloaded or stuck.
    handed: Injector<Runnable>,
}

/// The threads of a running multi-threaded scheduler.
pub(crate) struct MultiThread {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    /// Debug mode's watcher of stuck polls; stopped when the runtime is dropped.
    _watchdog: Option<Watchdog>,
}

impl MultiThread {
    /// Starts `workers` worker threads named by `thread_name`, each with its own io_uring
    /// driver. Fails (stopping the threads already started) if a thread cannot be started or
    /// a ring cannot be created.
    ///
    /// A driver belongs to the thread that creates it, so each worker creates its own and
    /// sends back its unparker; once all have, the shared state is built and handed to them.
    pub(crate) fn start(
        workers: usize,
        thread_name: &dyn Fn(usize) -> String,
        stack_size: Option<usize>,
        driver_config: &DriverConfig,
        debug: DebugConfig,
    ) -> io::Result<MultiThread> {
        let (ready_tx, ready_rx) = mpsc::channel::<(usize, io::Result<(Unparker, DriverHandle)>)>();
        let mut go_txs = Vec::with_capacity(workers);
        let mut threads = Vec::with_capacity(workers);
        let mut deques = Vec::with_capacity(workers);
        let mut stealers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let deque = crossbeam_deque::Worker::new_fifo();
            stealers.push(deque.stealer());
            deques.push(deque);
        }
        let mut startup_error = None;
        for (index, deque) in deques.into_iter().enumerate() {
            let (go_tx, go_rx) = mpsc::channel::<Arc<Shared>>();
            let ready_tx = ready_tx.clone();
            let config = driver_config.clone();
            let mut builder = std::thread::Builder::new().name(thread_name(index));
            if let Some(size) = stack_size {
                builder = builder.stack_size(size);
            }
            let spawned = builder.spawn(move || {
                let driver = match Driver::new(&config) {
                    Ok(driver) => Rc::new(driver),
                    Err(err) => {
                        let _ = ready_tx.send((index, Err(err)));
                        return;
                    }
                };
                let handles = (driver_unparker(&driver), driver.handle());
                let _ = ready_tx.send((index, Ok(handles)));
                // A closed channel means start-up failed elsewhere: exit quietly.
                let Ok(shared) = go_rx.recv() else { return };
                let _io = driver.enter();
                let local = shared.remotes[index].local.clone();
                let parker = Box::new(DriverParker::new(driver.clone()));
                worker::run(worker::Core::new(index, shared, deque, parker, local));
                drop(_io);
                driver.shutdown();
            });
            match spawned {
                Ok(handle) => {
                    threads.push(handle);
                    go_txs.push(go_tx);
                }
                Err(err) => {
                    startup_error = Some(io::Error::new(
                        err.kind(),
                        format!("failed to start ringloop worker thread {index}: {err}"),
                    ));
                    break;
                }
            }
        }
        drop(ready_tx);
        let mut unparkers: Vec<Option<(Unparker, DriverHandle)>> =
            (0..threads.len()).map(|_| None).collect();
        if startup_error.is_none() {
            for _ in 0..threads.len() {
                match ready_rx.recv() {
                    Ok((index, Ok(unparker))) => unparkers[index] = Some(unparker),
                    Ok((index, Err(err))) => {
                        startup_error = Some(io::Error::new(
                            err.kind(),
                            format!("ringloop worker {index} could not create its io_uring: {err}"),
                        ));
                        break;
                    }
                    Err(_) => {
                        startup_error = Some(io::Error::other(
                            "a ringloop worker thread died during start-up",
                        ));
                        break;
                    }
                }
            }
        }
        if let Some(err) = startup_error {
            drop(go_txs);
            for thread in threads {
                let _ = thread.join();
            }
            return Err(err);
        }
        let remotes: Vec<Remote> = unparkers
            .into_iter()
            .map(|handles| {
                let (unparker, driver) = handles.expect("every worker reported");
                Remote {
                    local: LocalShared::new(Some(unparker.clone()), 1),
                    unparker,
                    driver,
                    counters: Counters::default(),
                    clock: Arc::default(),
                    load: WorkerLoad::default(),
                    handed: Injector::new(),
                }
            })
            .collect();
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            stealers: stealers.into_boxed_slice(),
            remotes: remotes.into_boxed_slice(),
            idle: Idle::new(workers),
            watchers: Watchers::new(workers),
            owned: OwnedTasks::new(workers * 16),
            block_on_locals: Mutex::new(Vec::new()),
            debug,
            epoch: Instant::now(),
            shutdown: AtomicBool::new(false),
        });
        let clocks = shared.remotes.iter().map(|r| r.clock.clone()).collect();
        let watchdog = Watchdog::start(debug, shared.epoch, clocks);
        for go in go_txs {
            // A worker that died since it reported shows up when it is joined.
            let _ = go.send(shared.clone());
        }
        Ok(MultiThread {
            shared,
            threads,
            _watchdog: watchdog,
        })
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
        // Drop the futures inside the runtime's context, so that a `create_task` in their
        // `Drop` finds the (closed) runtime and its task is cancelled on arrival.
        let local = LocalShared::new(None, 1);
        let _enter =
            context::enter_for_shutdown(Scheduler::Multi(self.shared.clone()), local.clone());
        for task in self.shared.owned.close_and_drain() {
            // SAFETY: the tasks in the shared list are `Send`: any thread may drop them.
            unsafe { task.shutdown() };
        }
        local.shutdown();
        let queues = std::iter::once(&self.shared.injector)
            .chain(self.shared.remotes.iter().map(|remote| &remote.handed));
        for queue in queues {
            drain(queue);
        }
    }
}

/// Drops every task in `queue`.
fn drain(queue: &Injector<Runnable>) {
    loop {
        match queue.steal() {
            Steal::Success(task) => drop(task),
            Steal::Retry => continue,
            Steal::Empty => break,
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
        crate::task::spawn(future, self.clone(), &self.owned, name)
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

    /// Where `worker`'s driver should hand a task it woke, if anywhere (see `packing.rs`): if
    /// `worker` is contended, the sibling that waits least for a CPU, if it waits clearly
    /// less; else the lowest-numbered calm and uncontended worker below it.
    fn handover_target(&self, worker: usize, now: u64) -> Option<usize> {
        let load = |w: usize| &self.remotes[w].load;
        if load(worker).is_contended(now) {
            let mine = load(worker).wait_percent(now);
            return (0..self.remotes.len())
                .filter(|&w| w != worker)
                .map(|w| (load(w).wait_percent(now), w))
                .filter(|&(theirs, _)| theirs + packing::MARGIN_PERCENT <= mine)
                .min()
                .map(|(_, w)| w);
        }
        (0..worker).find(|&w| !load(w).is_contended(now) && !load(w).is_helpable(now))
    }

    /// True if a worker other than `worker` is not contended: one that would help.
    fn has_uncontended_sibling(&self, worker: usize, now: u64) -> bool {
        (0..self.remotes.len()).any(|w| w != worker && !self.remotes[w].load.is_contended(now))
    }

    /// Queues `task` in `worker`'s hand-over inbox and wakes that worker.
    fn hand_over(&self, worker: usize, task: Runnable) {
        let remote = &self.remotes[worker];
        remote.handed.push(task);
        remote.unparker.unpark();
    }

    pub(crate) fn collect_info(&self, out: &mut Vec<TaskInfo>) {
        self.owned.collect_info(out);
        for remote in self.remotes.iter() {
            remote.local.owned.collect_info(out);
        }
        for local in self.block_on_locals.lock().iter() {
            local.owned.collect_info(out);
        }
    }

    /// Lists the local queue of a thread entering `block_on` until the guard drops.
    pub(crate) fn register_block_on(self: &Arc<Self>, local: &Arc<LocalShared>) -> BlockOnGuard {
        self.block_on_locals.lock().push(local.clone());
        BlockOnGuard {
            shared: self.clone(),
            local: local.clone(),
        }
    }

    /// A snapshot of every worker's counters.
    pub(crate) fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics {
            workers: self.remotes.iter().map(|r| r.counters.snapshot()).collect(),
        }
    }

    fn counters(&self, worker: usize) -> &Counters {
        &self.remotes[worker].counters
    }

    /// Runs a task on `worker`, timed and watched in debug mode.
    fn run_task(&self, worker: usize, task: Runnable) {
        self.debug
            .run_watched(task, &self.remotes[worker].clock, self.epoch);
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }
}

/// Takes a `block_on` thread's local queue off the runtime's list.
pub(crate) struct BlockOnGuard {
    shared: Arc<Shared>,
    local: Arc<LocalShared>,
}

impl Drop for BlockOnGuard {
    fn drop(&mut self) {
        self.shared
            .block_on_locals
            .lock()
            .retain(|local| !Arc::ptr_eq(local, &self.local));
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
