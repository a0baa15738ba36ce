//! `call_soon`, `call_soon_threadsafe`, `call_later`, `call_at`: callbacks scheduled on the
//! running loop (asyncio's `loop.call_*`), each a small task, and [`CallHandle`] to cancel
//! one.

use crate::scheduler::Scheduler;
use crate::{context, Handle, Task};
use ringloop_io::time::sleep_until;
use std::fmt;
use std::time::{Duration, Instant};

/// A scheduled callback (asyncio's `Handle` / `TimerHandle`): [`cancel`](Self::cancel) it
/// before it runs. Dropping the `CallHandle` does *not* cancel the callback.
pub struct CallHandle {
    task: Task<()>,
    when: Option<Instant>,
}

impl CallHandle {
    /// Cancels the callback if it has not run yet (asyncio's `cancel()`). Returns false if
    /// it had already run (or been cancelled).
    pub fn cancel(&self) -> bool {
        self.task.cancel()
    }

    /// True if the callback was cancelled before it ran (asyncio's `cancelled()`).
    pub fn cancelled(&self) -> bool {
        self.task.is_cancelled()
    }

    /// True once the callback has run, or was cancelled.
    pub fn is_done(&self) -> bool {
        self.task.is_done()
    }

    /// When a timed callback is due (asyncio's `TimerHandle.when()`); `None` for
    /// `call_soon`.
    pub fn when(&self) -> Option<Instant> {
        self.when
    }
}

impl fmt::Debug for CallHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallHandle")
            .field("task", &self.task)
            .field("when", &self.when)
            .finish()
    }
}

/// True if both are the same runtime's scheduler.
fn same_runtime(a: &Scheduler, b: &Scheduler) -> bool {
    match (a, b) {
        (Scheduler::Multi(a), Scheduler::Multi(b)) => std::sync::Arc::ptr_eq(a, b),
        (Scheduler::Single(a), Scheduler::Single(b)) => std::sync::Arc::ptr_eq(a, b),
        _ => false,
    }
}

impl Handle {
    /// Runs `callback` soon, on this thread, after the tasks already queued here
    /// (asyncio's `loop.call_soon`). Callbacks scheduled from one thread run in the order
    /// they were scheduled. The callback need not be `Send`: it never leaves this thread.
    /// A panic in it is caught and logged, like a detached task's.
    ///
    /// # Panics
    /// If this thread does not run this runtime's tasks (a worker, or a thread inside
    /// `block_on`); from other threads, use
    /// [`call_soon_threadsafe`](Self::call_soon_threadsafe).
    ///
    /// # Examples
    /// ```
    /// use std::cell::RefCell;
    /// use std::rc::Rc;
    ///
    /// ringloop::run(async {
    ///     let log = Rc::new(RefCell::new(Vec::new()));
    ///     let handle = ringloop::Handle::current();
    ///     for i in 0..3 {
    ///         let log = log.clone();
    ///         handle.call_soon(move || log.borrow_mut().push(i));
    ///     }
    ///     let skipped = handle.call_soon(|| unreachable!());
    ///     assert!(skipped.cancel());
    ///     while log.borrow().len() < 3 {
    ///         ringloop::yield_now().await;
    ///     }
    ///     assert_eq!(*log.borrow(), [0, 1, 2]);
    /// });
    /// ```
    pub fn call_soon<F>(&self, callback: F) -> CallHandle
    where
        F: FnOnce() + 'static,
    {
        self.assert_on_loop("call_soon");
        CallHandle {
            task: crate::create_local_task(async move { callback() }),
            when: None,
        }
    }

    /// Runs `callback` soon on one of this runtime's threads, from any thread, inside the
    /// runtime or not (asyncio's `loop.call_soon_threadsafe`).
    ///
    /// # Examples
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let rt = ringloop::Runtime::builder().worker_threads(1).build()?;
    /// let handle = rt.handle().clone();
    /// let (tx, rx) = mpsc::channel();
    /// std::thread::spawn(move || {
    ///     handle.call_soon_threadsafe(move || tx.send(ringloop::current_task().is_some()).unwrap());
    /// })
    /// .join()
    /// .unwrap();
    /// assert!(rx.recv().unwrap()); // it ran as a task of the runtime
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn call_soon_threadsafe<F>(&self, callback: F) -> CallHandle
    where
        F: FnOnce() + Send + 'static,
    {
        CallHandle {
            task: self.spawn(async move { callback() }),
            when: None,
        }
    }

    /// Runs `callback` on this thread once `delay` has passed (asyncio's
    /// `loop.call_later`); never earlier.
    ///
    /// # Panics
    /// Like [`call_soon`](Self::call_soon), if this thread does not run this runtime's tasks.
    ///
    /// # Examples
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    ///
    /// ringloop::run(async {
    ///     let fired = Rc::new(Cell::new(false));
    ///     let flag = fired.clone();
    ///     let timer = ringloop::Handle::current()
    ///         .call_later(Duration::from_millis(5), move || flag.set(true));
    ///     assert!(timer.when().is_some());
    ///     while !timer.is_done() {
    ///         ringloop::sleep(Duration::from_millis(1)).await.unwrap();
    ///     }
    ///     assert!(fired.get());
    /// });
    /// ```
    pub fn call_later<F>(&self, delay: Duration, callback: F) -> CallHandle
    where
        F: FnOnce() + 'static,
    {
        let now = Instant::now();
        let when = now
            .checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30));
        self.call_at(when, callback)
    }

    /// Runs `callback` on this thread once `when` has come (asyncio's `loop.call_at`, with
    /// a `std::time::Instant` for the loop's clock); never earlier. If the timer cannot be
    /// armed (this thread has no io_uring driver), the callback is dropped without running,
    /// and the failure is logged.
    ///
    /// # Panics
    /// Like [`call_soon`](Self::call_soon), if this thread does not run this runtime's tasks.
    pub fn call_at<F>(&self, when: Instant, callback: F) -> CallHandle
    where
        F: FnOnce() + 'static,
    {
        self.assert_on_loop("call_at");
        let task = crate::create_local_task(async move {
            match sleep_until(when).await {
                Ok(()) => callback(),
                Err(err) => log::error!("ringloop: a call_at/call_later timer failed: {err}"),
            }
        });
        CallHandle {
            task,
            when: Some(when),
        }
    }

    /// Panics unless this thread runs this runtime's tasks.
    fn assert_on_loop(&self, what: &str) {
        let here = context::with_scheduler(|current| {
            current.is_some_and(|current| same_runtime(current, self.scheduler()))
        });
        assert!(
            here,
            "Handle::{what} must be called from a thread that runs this runtime's tasks (a \
             task, or the future given to block_on); from other threads use \
             Handle::call_soon_threadsafe"
        );
    }
}
