//! [`GroupTask`]: the handle of a task created in a task group.

use super::child::Slot;
use super::shared::Shared;
use crate::{TaskError, TaskId};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The handle of a task created in a [`TaskGroup`](crate::TaskGroup): await it for the
/// task's outcome, cancel it, or ask about it — like a [`Task`](crate::Task).
///
/// Awaiting gives `Ok(output)`, `Err(TaskError::Cancelled)` if the task was cancelled (by
/// [`cancel`](Self::cancel), by a failure of a sibling, or because it was created after the
/// group stopped taking tasks), or `Err(TaskError::Panicked(..))` with the panic's payload.
/// Dropping the handle does not cancel the task: the group still owns it, and reports its
/// failure (so it is not `#[must_use]`: creating a task and forgetting the handle is the
/// usual way to use a group).
pub struct GroupTask<T> {
    slot: Arc<Slot<T>>,
    /// `None` for a task created after the group closed (it never ran).
    group: Option<(Arc<Shared>, u64)>,
    id: TaskId,
    name: Option<Box<str>>,
}

impl<T> GroupTask<T> {
    pub(super) fn new(
        slot: Arc<Slot<T>>,
        group: Option<(Arc<Shared>, u64)>,
        id: TaskId,
        name: Option<Box<str>>,
    ) -> GroupTask<T> {
        GroupTask {
            slot,
            group,
            id,
            name,
        }
    }

    /// Cancels the task (its siblings and the group go on: a cancelled task is not a
    /// failure). Returns false if it had already completed.
    pub fn cancel(&self) -> bool {
        if self.slot.is_done() {
            return false;
        }
        match self
            .group
            .as_ref()
            .and_then(|(group, id)| group.take_handle(*id))
        {
            Some(task) => task.cancel(),
            // Finished meanwhile, or already being cancelled by an abort.
            None => !self.slot.is_done(),
        }
    }

    /// True once the task has completed (returned, panicked or was cancelled).
    pub fn is_done(&self) -> bool {
        self.slot.is_done()
    }

    /// True once the task has completed because it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.slot.is_cancelled()
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl<T> Future for GroupTask<T> {
    type Output = Result<T, TaskError>;

    /// # Panics
    /// If polled again after it returned `Ready`.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.slot.poll(cx)
    }
}

impl<T> Unpin for GroupTask<T> {}

impl<T> fmt::Debug for GroupTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupTask")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("done", &self.is_done())
            .finish()
    }
}
