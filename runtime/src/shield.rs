//! [`shield`]: await a task without cancelling it when the awaiting side goes away
//! (asyncio's `shield`).

use crate::{Task, TaskError};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `future` as a task on the current runtime and awaits it, such that cancelling the
/// awaiting side — dropping the `Shield`, because a timeout expired, a
/// [`TimeoutScope`](crate::TimeoutScope) or a [`TaskGroup`](crate::TaskGroup) cancelled the
/// block, or the awaiting task was cancelled — leaves the task running (asyncio's
/// `shield`). Cancelling the inner task itself ([`Shield::task`]) still cancels it.
///
/// To shield a task that already exists, use [`Shield::new`] (or `Shield::from(task)`).
/// A ringloop [`Task`] handle never cancels its task when dropped; `Shield` says so in the
/// types, and matters where something else would cancel: a [`CancelOnDrop`](crate::CancelOnDrop)
/// or a task group.
///
/// # Panics
/// Outside a runtime (like [`create_task`](crate::create_task)).
///
/// # Examples
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// ringloop::run(async {
///     let saved = Arc::new(AtomicBool::new(false));
///     let write = {
///         let saved = saved.clone();
///         async move {
///             ringloop::sleep(Duration::from_millis(20)).await.unwrap();
///             saved.store(true, Ordering::SeqCst);
///         }
///     };
///     // The caller gives up after 1 ms, but the write goes on.
///     let shielded = ringloop::shield(write);
///     let out = ringloop::wait_for(shielded, Duration::from_millis(1)).await;
///     assert!(out.is_err());
///     while !saved.load(Ordering::SeqCst) {
///         ringloop::sleep(Duration::from_millis(5)).await.unwrap();
///     }
/// });
/// ```
pub fn shield<F>(future: F) -> Shield<<F::IntoFuture as Future>::Output>
where
    F: IntoFuture,
    F::IntoFuture: Send + 'static,
    <F::IntoFuture as Future>::Output: Send + 'static,
{
    Shield::new(crate::create_task(future.into_future()))
}

/// A task awaited without the power to cancel it: dropping the `Shield` detaches the task.
/// Awaiting it gives the task's outcome. Made by [`shield`].
#[must_use = "futures do nothing unless awaited"]
pub struct Shield<T> {
    task: Task<T>,
}

impl<T> Shield<T> {
    /// Shields an existing task.
    pub fn new(task: Task<T>) -> Shield<T> {
        Shield { task }
    }

    /// The shielded task (to ask about it, or to cancel it on purpose).
    pub fn task(&self) -> &Task<T> {
        &self.task
    }

    /// The task's handle back.
    pub fn into_task(self) -> Task<T> {
        self.task
    }
}

impl<T> From<Task<T>> for Shield<T> {
    fn from(task: Task<T>) -> Shield<T> {
        Shield::new(task)
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shield").field(&self.task).finish()
    }
}
