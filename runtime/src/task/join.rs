//! [`Task`]: the handle to a spawned task (asyncio's `Task` object).

use super::error::TaskError;
use super::raw::RawTask;
use super::{TaskId, TaskInfo};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A handle to a spawned task: await it for the task's result, cancel it, or ask about it.
///
/// Awaiting gives `Ok(output)`, or `Err(TaskError::Cancelled)` if the task was cancelled, or
/// `Err(TaskError::Panicked(..))` if it panicked. Dropping the handle *detaches* the task: it
/// keeps running, as in asyncio (a panic nobody retrieves is then logged).
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let task = ringloop::create_task(async { 40 + 2 });
///     assert_eq!(task.await.unwrap(), 42);
///
///     let sleeper = ringloop::create_task(std::future::pending::<()>());
///     assert!(sleeper.cancel());
///     assert!(sleeper.await.unwrap_err().is_cancelled());
/// });
/// ```
#[must_use = "dropping a Task detaches it; await it or call .detach() to say so"]
pub struct Task<T> {
    raw: RawTask,
    /// `Send`/`Sync` follow the output's (it crosses to whoever awaits), and the handle owns a
    /// `T` once the task completes.
    _output: PhantomData<T>,
}

// The raw pointer is only used through the vtable, which is thread-safe; the output is moved
// to the handle's thread, so it must be `Send` for the handle to be.
// SAFETY: see above: everything shared through `raw` is synchronized by the state word.
unsafe impl<T: Send> Send for Task<T> {}
// SAFETY: `&Task` only reads the state word and immutable header fields, or cancels.
unsafe impl<T: Send> Sync for Task<T> {}

impl<T> Unpin for Task<T> {}

impl<T> Task<T> {
    /// Wraps the join reference of a new task.
    pub(crate) fn from_raw(raw: RawTask) -> Task<T> {
        Task {
            raw,
            _output: PhantomData,
        }
    }

    /// Requests cancellation, like asyncio's `Task.cancel()`: the task's future is dropped at
    /// its next scheduling point — at once if the task is idle and may be dropped on this
    /// thread, otherwise when its worker next picks it up. Awaiting the task then gives
    /// `Err(TaskError::Cancelled)` (unless it completed first).
    ///
    /// Returns false if the task had already completed (cancelling it has no effect).
    pub fn cancel(&self) -> bool {
        // SAFETY: the handle holds a reference.
        unsafe { (self.raw.header().vtable.cancel)(self.raw.header_ptr()) }
    }

    /// True once the task has completed (returned, panicked or was cancelled).
    pub fn is_done(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// True once the task has completed *because it was cancelled*.
    pub fn is_cancelled(&self) -> bool {
        let state = self.raw.header().state.load();
        state.is_complete() && state.is_cancelled()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.raw.id()
    }

    /// The name given when the task was created, if any.
    pub fn name(&self) -> Option<&str> {
        self.raw.header().name.as_deref()
    }

    /// A snapshot of the task (id, name, state).
    pub fn info(&self) -> TaskInfo {
        TaskInfo::of(self.raw.header())
    }

    /// Runs `callback` once the task completes (asyncio's `add_done_callback`), with a
    /// snapshot of the task whose state says how it ended. If the task has already
    /// completed, `callback` runs at once, on this thread; otherwise it runs on the thread
    /// that completes the task, right after it does. A panicking callback is logged.
    ///
    /// # Examples
    /// ```
    /// use std::sync::mpsc;
    ///
    /// ringloop::run(async {
    ///     let (tx, rx) = mpsc::channel();
    ///     let task = ringloop::TaskBuilder::new().name("worker").spawn(async { 7 });
    ///     task.add_done_callback(move |info| tx.send(info.name.clone()).unwrap());
    ///     assert_eq!(task.await.unwrap(), 7);
    ///     assert_eq!(rx.recv().unwrap().as_deref(), Some("worker"));
    /// });
    /// ```
    pub fn add_done_callback(&self, callback: impl FnOnce(&TaskInfo) + Send + 'static) {
        let header = self.raw.header();
        header.callbacks.add(header, Box::new(callback));
    }

    /// Wraps the handle so that dropping it cancels the task, as asyncio's `wait_for` and
    /// `timeout` do to the task they time out (a plain `Task` only detaches on drop).
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    ///
    /// ringloop::run(async {
    ///     let slow = ringloop::create_task(ringloop::sleep(Duration::from_secs(60)));
    ///     let probe = slow.info().id;
    ///     let timed_out = ringloop::wait_for(slow.cancel_on_drop(), Duration::from_millis(5)).await;
    ///     assert!(timed_out.is_err());
    ///     ringloop::yield_now().await;
    ///     // The task was cancelled, not left running.
    ///     assert!(ringloop::all_tasks().iter().all(|t| t.id != probe));
    /// });
    /// ```
    pub fn cancel_on_drop(self) -> crate::CancelOnDrop<T> {
        crate::CancelOnDrop::new(self)
    }

    /// Drops the handle on purpose: the task goes on running on its own.
    pub fn detach(self) {
        drop(self);
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = std::task::ready!(crate::coop::poll_proceed(cx));
        let mut out: Poll<Result<T, TaskError>> = Poll::Pending;
        // SAFETY: `out` has the output type the vtable was made for (`T` is the future's
        // output, enforced where the handle was created), and the handle holds a reference.
        unsafe {
            (self.raw.header().vtable.try_read_output)(
                self.raw.header_ptr(),
                &mut out as *mut Poll<Result<T, TaskError>> as *mut (),
                cx.waker(),
            )
        };
        if out.is_ready() {
            coop.made_progress();
        }
        out
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        // SAFETY: gives up the handle's reference exactly once.
        unsafe { (self.raw.header().vtable.drop_join_handle)(self.raw.header_ptr()) }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("state", &self.info().state)
            .finish()
    }
}
