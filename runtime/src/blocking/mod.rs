//! Blocking calls on a thread pool (asyncio's `to_thread` and `loop.run_in_executor`).
//!
//! - `pool.rs`: the threads, their queue, keep-alive and shutdown (protocol in its docs);
//! - `task.rs`: [`BlockingTask`], how a call's outcome reaches the awaiting task;
//! - `registry.rs`: which pool belongs to which runtime, and how its shutdown is tied to the
//!   runtime's.
//!
//! Each runtime has its own pool, sized by
//! [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads) (default 512),
//! whose idle threads retire after
//! [`Builder::blocking_keep_alive`](crate::Builder::blocking_keep_alive) (default 10 s), and
//! which the runtime's `Drop` waits for at most
//! [`Builder::blocking_shutdown_timeout`](crate::Builder::blocking_shutdown_timeout)
//! (default 10 s): calls still running then are left to finish on their own threads.

mod pool;
mod registry;
mod task;

pub use task::BlockingTask;

pub(crate) use pool::BlockingConfig;
pub(crate) use registry::configure;

use crate::Handle;

/// Runs the blocking function `f` on the blocking pool of the runtime that awaits it, and
/// gives its value (asyncio's `to_thread`), so that it does not hold up the tasks of a
/// worker. Like asyncio's coroutine, nothing happens until the returned future is first
/// polled: that poll submits the call.
///
/// Awaiting gives `Ok(value)`, `Err(TaskError::Panicked(..))` if `f` panicked, or
/// `Err(TaskError::Cancelled)` if it never ran because the runtime shut down. `f` runs on a
/// pool thread, outside the runtime (`Handle::current()` is not available there; capture a
/// handle to spawn from it).
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

/// Submits `job` to `handle`'s pool; a job refused (the pool shut down) is dropped, and its
/// completer reports `Cancelled`.
fn submit(handle: &Handle, job: pool::Job) {
    if let Err(job) = registry::pool(handle).spawn(job) {
        drop(job);
    }
}

impl Handle {
    /// Runs the blocking function `f` on this runtime's blocking pool, from any thread
    /// (asyncio's `loop.run_in_executor(None, f)`); see [`to_thread`].
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
