//! Blocking calls on a thread pool (asyncio's `to_thread` and `loop.run_in_executor`).
//!
//! - `pool.rs`: the threads, their queue, keep-alive and shutdown (protocol in its docs);
//! - `task.rs`: [`BlockingTask`], how a call's outcome reaches the awaiting task;
//!
//! # Ownership
//! Each runtime owns one pool, a [`BlockingPool`] field of `Runtime`. `Builder::build` makes
//! it, sized by [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads)
//! (default 512), with idle threads retiring after
//! [`Builder::blocking_keep_alive`](crate::Builder::blocking_keep_alive) (default 10 s); no
//! thread starts before the first call. `Runtime`'s drop shuts it down once the scheduler has
//! stopped (every task dropped): queued calls are cancelled, and running ones are waited for
//! at most [`Builder::blocking_shutdown_timeout`](crate::Builder::blocking_shutdown_timeout)
//! (default 10 s), after which they are left to finish on their own threads. After that the
//! runtime's handles reach no pool, and their calls report `Cancelled`.
//!
//! Pool threads run with the runtime's handle current (`Handle::current()`, `create_task`,
//! `all_tasks()` work inside a call), but drive no tasks: `current_task()` is `None` there,
//! and `block_on` of a runtime is allowed, as on a plain thread.
//!
//! # Finding the pool
//! A call made through a [`Handle`] or from inside a runtime knows the runtime's scheduler
//! (`Handle` holds it; the thread context carries it), not its pool. The direct design, a pool
//! field in the scheduler's shared state, would change `scheduler/`; keeping the pool in the
//! thread context instead does not work for worker threads, whose context is entered by the
//! scheduler with nothing but the scheduler; and a pool field in `Handle` would have to be
//! filled from that same context by `Handle::current()`. So the pool is found by the identity
//! of the scheduler, in a table of live runtimes (`crate::lookup`) that the runtime's owner
//! writes: a row is added by `Builder::build` and removed by `Runtime`'s drop, and holds the
//! pool weakly. Once the scheduler's shared state has a slot for it, the table can go and
//! [`BlockingPool`] stays as it is.

mod pool;
mod task;

pub use task::BlockingTask;

pub(crate) use pool::BlockingConfig;

use crate::lookup::{Key, Table};
use crate::scheduler::Scheduler;
use crate::Handle;
use pool::Pool;
use std::fmt;
use std::sync::Arc;

/// The pools of the live runtimes.
static POOLS: Table<Pool> = Table::new();

/// A runtime's blocking pool, owned by the `Runtime`: listed (so the runtime's threads and
/// handles find it) from [`new`](Self::new) until [`shutdown`](Self::shutdown).
pub(crate) struct BlockingPool {
    pool: Arc<Pool>,
    key: Key,
    config: BlockingConfig,
}

impl BlockingPool {
    /// The pool of the runtime whose scheduler is `scheduler`; call once per runtime, before
    /// any of its tasks exists.
    pub(crate) fn new(config: BlockingConfig, scheduler: &Scheduler) -> BlockingPool {
        let pool = Arc::new(Pool::new(config, scheduler.clone()));
        let key = Key::of(scheduler);
        POOLS.list(key, &pool);
        BlockingPool { pool, key, config }
    }

    /// Unlists the pool, cancels its queued calls and waits up to the shutdown timeout for the
    /// running ones. For `Runtime`'s drop, after the scheduler has stopped.
    pub(crate) fn shutdown(&self) {
        POOLS.unlist(self.key);
        self.pool.shutdown(self.config.shutdown_timeout);
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPool")
            .field("pool", &self.pool)
            .field("config", &self.config)
            .finish()
    }
}

/// Runs the blocking function `f` on the blocking pool of the runtime that awaits it, and
/// gives its value (asyncio's `to_thread`), so that it does not hold up the tasks of a
/// worker. Like asyncio's coroutine, nothing happens until the returned future is first
/// polled: that poll submits the call.
///
/// Awaiting gives `Ok(value)`, `Err(TaskError::Panicked(..))` if `f` panicked, or
/// `Err(TaskError::Cancelled)` if it never ran because the runtime shut down. `f` runs on a
/// pool thread that has the runtime's handle current but runs no tasks: `Handle::current()`
/// and `create_task` work there (the task runs on the runtime), `current_task()` is `None`.
///
/// # Panics
/// When first polled outside a runtime; see [`Handle::run_in_executor`] from elsewhere.
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let contents = ringloop::to_thread(|| std::fs::read_to_string("/proc/self/status"))
///         .await
///         .unwrap()
///         .unwrap();
///     assert!(contents.contains("Name:"));
///
///     let err = ringloop::to_thread(|| panic!("oops")).await.unwrap_err();
///     assert!(err.is_panic());
///
///     // The runtime is current on the pool thread: spawn onto it from the call.
///     let task = ringloop::to_thread(|| ringloop::create_task(async { 6 * 7 })).await.unwrap();
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
pub fn to_thread<F, T>(f: F) -> BlockingTask<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (job, task) = task::job(f);
    task::submit_later(job, task)
}

/// Submits `job` to the pool of `handle`'s runtime; a job with no pool to run it (the runtime
/// was dropped) is dropped, and its completer reports `Cancelled`.
fn submit(handle: &Handle, job: pool::Job) {
    let refused = match POOLS.find(handle.scheduler()) {
        Some(pool) => pool.spawn(job).err(),
        None => Some(job),
    };
    drop(refused);
}

impl Handle {
    /// Runs the blocking function `f` on this runtime's blocking pool, from any thread
    /// (asyncio's `loop.run_in_executor(None, f)`); see [`to_thread`]. The call is submitted
    /// at once; once the runtime has been dropped it is not run, and awaiting it gives
    /// `Err(TaskError::Cancelled)`.
    ///
    /// # Examples
    /// ```
    /// let rt = ringloop::Runtime::builder().max_blocking_threads(4).build()?;
    /// let call = rt.handle().run_in_executor(|| 6 * 7);
    /// assert_eq!(rt.block_on(call).unwrap(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn run_in_executor<F, T>(&self, f: F) -> BlockingTask<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (job, task) = task::job(f);
        submit(self, job);
        task
    }
}
