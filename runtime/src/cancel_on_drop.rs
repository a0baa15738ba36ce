//! [`CancelOnDrop`]: a task handle that cancels its task when dropped, as awaiting a task
//! does in asyncio when the awaiting side is cancelled.

use crate::{Task, TaskError};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Awaits a task and cancels it if dropped before the task completed.
///
/// A plain [`Task`] handle *detaches* its task when dropped. Wrap it in `CancelOnDrop` where
/// asyncio would cancel the task along with its awaiter: in [`wait_for`](crate::wait_for)
/// (cancelled at the timeout), in a [`TimeoutScope`](crate::TimeoutScope) block, or in a
/// `select`-style race.
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let forever = ringloop::create_task(std::future::pending::<()>());
///     let guard = ringloop::CancelOnDrop::new(forever);
///     drop(guard); // cancels the task
///
///     let task = ringloop::create_task(async { 5 });
///     assert_eq!(ringloop::CancelOnDrop::new(task).await.unwrap(), 5);
/// });
/// ```
#[must_use = "dropping a CancelOnDrop cancels its task"]
pub struct CancelOnDrop<T> {
    /// `None` once disarmed by `into_task`.
    task: Option<Task<T>>,
}

impl<T> CancelOnDrop<T> {
    /// Takes charge of `task`.
    pub fn new(task: Task<T>) -> CancelOnDrop<T> {
        CancelOnDrop { task: Some(task) }
    }

    /// The task.
    pub fn task(&self) -> &Task<T> {
        self.task
            .as_ref()
            .expect("only into_task takes the task out")
    }

    /// Gives the handle back without cancelling the task.
    pub fn into_task(mut self) -> Task<T> {
        self.task.take().expect("only into_task takes the task out")
    }
}

impl<T> Future for CancelOnDrop<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self
            .task
            .as_mut()
            .expect("only into_task takes the task out");
        Pin::new(task).poll(cx)
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            // Cancelling a completed task does nothing.
            task.cancel();
        }
    }
}

impl<T> fmt::Debug for CancelOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CancelOnDrop").field(&self.task).finish()
    }
}
