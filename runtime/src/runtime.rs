//! [`Runtime`], [`Handle`] and [`run`]: starting, entering and stopping a runtime.

use crate::blocking::{BlockingConfig, BlockingPool};
use crate::builder::Builder;
use crate::context;
use crate::metrics::RuntimeMetrics;
use crate::park::{DriverParker, Park, ThreadParker};
use crate::scheduler::local::{self, LocalShared, RunConfig};
use crate::scheduler::multi_thread::MultiThread;
use crate::scheduler::single_thread::SingleThread;
use crate::scheduler::Scheduler;
use crate::signal_handler::SignalHandlers;
use crate::task::Task;
use ringloop_io::{Driver, DriverConfig};
use std::fmt;
use std::future::Future;
use std::io;
use std::rc::Rc;

/// A ringloop runtime: its scheduler (multi-threaded or single-threaded) and its tasks.
///
/// Dropping the runtime cancels every task still alive (their futures are dropped) and joins
/// the worker threads, like the end of [`run`]; then it shuts its blocking pool down, waiting
/// for the calls still running up to
/// [`blocking_shutdown_timeout`](Builder::blocking_shutdown_timeout).
///
/// # Examples
/// ```
/// use ringloop::Runtime;
///
/// let rt = Runtime::builder().worker_threads(2).build()?;
/// let sum = rt.block_on(async {
///     let tasks: Vec<_> = (0..10u64).map(|i| ringloop::create_task(async move { i * i })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    flavor: Flavor,
    handle: Handle,
    /// For the rings of threads that call `block_on` on a multi-threaded runtime.
    driver_config: DriverConfig,
    /// The threads of `to_thread` and `run_in_executor`.
    blocking: BlockingPool,
    /// What `Handle::add_signal_handler` added.
    signal_handlers: SignalHandlers,
}

pub(crate) enum Flavor {
    Multi(MultiThread),
    Single(SingleThread),
}

/// A cloneable, `Send + Sync` reference to a runtime, to spawn onto it from anywhere
/// (asyncio's `get_running_loop()`).
#[derive(Clone)]
pub struct Handle {
    scheduler: Scheduler,
}

impl Runtime {
    /// A builder, to choose the flavour and settings.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A multi-threaded runtime with one worker per CPU.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    pub(crate) fn from_flavor(
        flavor: Flavor,
        driver_config: DriverConfig,
        blocking: BlockingConfig,
    ) -> Runtime {
        let scheduler = match &flavor {
            Flavor::Multi(multi) => Scheduler::Multi(multi.shared().clone()),
            Flavor::Single(single) => Scheduler::Single(single.local().clone()),
        };
        Runtime {
            flavor,
            blocking: BlockingPool::new(blocking, &scheduler),
            signal_handlers: SignalHandlers::new(&scheduler),
            handle: Handle { scheduler },
            driver_config,
        }
    }

    /// Runs `future` to completion on the calling thread and returns its output
    /// (asyncio's `loop.run_until_complete`).
    ///
    /// On a multi-threaded runtime, tasks run on the workers while this thread waits, and
    /// local tasks created from `future` run on this thread; those still alive when `future`
    /// completes are cancelled. On a single-threaded runtime, every task runs here, and tasks
    /// still alive stay in the runtime for the next `block_on`.
    ///
    /// # Panics
    /// When called from a thread that is already running a ringloop runtime (a task, or
    /// another `block_on`), and, for a single-threaded runtime, from another thread than the
    /// one that first drove it.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        match &self.flavor {
            Flavor::Single(single) => single.block_on(future),
            Flavor::Multi(multi) => {
                // This thread gets a ring of its own for the I/O of `future` and of the local
                // tasks it creates; declared first, it is shut down last.
                let (driver, mut parker) = thread_parker(&self.driver_config);
                let _io = driver.as_ref().map(|driver| driver.enter());
                let local = LocalShared::new(Some(parker.unparker()), 1);
                let _listed = multi.shared().register_block_on(&local);
                let _enter =
                    context::enter(Scheduler::Multi(multi.shared().clone()), local.clone());
                let _cancel_leftovers = ShutdownOnDrop(&local);
                let run = RunConfig {
                    debug: multi.shared().debug,
                    counters: None,
                };
                local::block_on(&local, &mut *parker, run, future)
            }
        }
    }

    /// Spawns a task from outside the runtime.
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// A snapshot of the runtime's metrics: per worker, task polls, steals, injector pulls,
    /// parks, and its ring's system calls, submissions and completions. Readable at any time,
    /// from any thread, while the runtime runs.
    pub fn metrics(&self) -> RuntimeMetrics {
        match &self.flavor {
            Flavor::Multi(multi) => multi.shared().metrics(),
            Flavor::Single(single) => single.metrics(),
        }
    }

    /// The number of worker threads (0 for a single-threaded runtime).
    pub fn worker_threads(&self) -> usize {
        match &self.flavor {
            Flavor::Multi(multi) => multi.shared().num_workers(),
            Flavor::Single(_) => 0,
        }
    }
}

/// A parker for a thread that drives tasks: its own io_uring driver, or, if a ring cannot be
/// made here (the runtime's own rings could), a condition variable, and I/O started on this
/// thread then reports that it has no driver.
pub(crate) fn thread_parker(config: &DriverConfig) -> (Option<Rc<Driver>>, Box<dyn Park>) {
    match Driver::new(config) {
        Ok(driver) => {
            let driver = Rc::new(driver);
            (Some(driver.clone()), Box::new(DriverParker::new(driver)))
        }
        Err(err) => {
            log::warn!("ringloop: no io_uring for this thread, parking without one: {err}");
            (None, Box::new(ThreadParker::new()))
        }
    }
}

/// Cancels a `block_on` thread's local tasks when `block_on` returns or unwinds.
struct ShutdownOnDrop<'a>(&'a LocalShared);

impl Drop for ShutdownOnDrop<'_> {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        match &mut self.flavor {
            Flavor::Multi(multi) => multi.shutdown(),
            Flavor::Single(single) => single.shutdown(),
        }
        // After the tasks: a call they made while being dropped is cancelled here or waited for.
        self.blocking.shutdown();
        // After the tasks too: the listeners are gone, the callbacks go now.
        self.signal_handlers.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("worker_threads", &self.worker_threads())
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// The handle of the runtime this thread is running in (asyncio's `get_running_loop()`):
    /// in one of its tasks, in the future given to its `block_on`, or in a blocking call on its
    /// pool ([`to_thread`](crate::to_thread), [`run_in_executor`](Self::run_in_executor)).
    ///
    /// # Panics
    /// Outside a runtime; see [`Handle::try_current`].
    pub fn current() -> Handle {
        Handle::try_current().unwrap_or_else(|| panic!("{}", crate::spawn::OUTSIDE_RUNTIME))
    }

    /// The handle of the runtime this thread is running in, or `None` outside one.
    pub fn try_current() -> Option<Handle> {
        context::with_scheduler(|scheduler| {
            scheduler.map(|scheduler| Handle {
                scheduler: scheduler.clone(),
            })
        })
    }

    /// Spawns a task on this runtime, from any thread.
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.scheduler.spawn(future, None)
    }

    pub(crate) fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

/// Runs `future` on a new multi-threaded runtime and returns its output, like `asyncio.run`:
/// when `future` completes, every task still alive is cancelled (its future dropped), the
/// worker threads are joined, and the runtime is gone.
///
/// # Panics
/// If the runtime cannot start (see [`try_run`] for the error instead), or when called from
/// inside a runtime.
///
/// # Examples
/// ```
/// let answer = ringloop::run(async {
///     let task = ringloop::create_task(async { 6 * 7 });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    match try_run(future) {
        Ok(output) => output,
        Err(err) => panic!("ringloop::run could not start a runtime: {err}"),
    }
}

/// Like [`run`], but returns the error if the runtime cannot start.
pub fn try_run<F: Future>(future: F) -> io::Result<F::Output> {
    let runtime = Runtime::new()?;
    Ok(runtime.block_on(future))
}

/// Runs `future` on a new single-threaded runtime: asyncio's own model, where every task
/// runs on the calling thread and tasks need not be `Send`
/// ([`create_local_task`](crate::create_local_task)). When `future` completes, every task
/// still alive is cancelled and the runtime is gone, as with [`run`].
///
/// # Panics
/// If the runtime cannot start (see [`try_run_local`] for the error instead), or when called
/// from inside a runtime.
///
/// # Examples
/// ```
/// use std::rc::Rc;
///
/// let shared = Rc::new(21); // not Send: fine on one thread
/// let answer = ringloop::run_local(async move {
///     let task = ringloop::create_local_task({
///         let shared = shared.clone();
///         async move { *shared * 2 }
///     });
///     task.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn run_local<F: Future>(future: F) -> F::Output {
    match try_run_local(future) {
        Ok(output) => output,
        Err(err) => panic!("ringloop::run_local could not start a runtime: {err}"),
    }
}

/// Like [`run_local`], but returns the error if the runtime cannot start.
pub fn try_run_local<F: Future>(future: F) -> io::Result<F::Output> {
    let runtime = Runtime::builder().single_threaded().build()?;
    Ok(runtime.block_on(future))
}
