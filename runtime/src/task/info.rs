//! [`TaskInfo`]: what `current_task()` and `all_tasks()` report about a task.

use super::raw::Header;
use super::TaskId;

/// Where a task is in its life, as seen at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting to be woken.
    Idle,
    /// In a run queue, waiting for a worker.
    Scheduled,
    /// Being polled (or cancelled) by a worker right now.
    Running,
    /// Finished with a value or a panic.
    Complete,
    /// Finished because it was cancelled.
    Cancelled,
}

/// A snapshot of one task: its id, name and state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task's id.
    pub id: TaskId,
    /// The name it was given, if any.
    pub name: Option<String>,
    /// Its state when the snapshot was taken.
    pub state: TaskState,
}

impl TaskInfo {
    pub(crate) fn of(header: &Header) -> TaskInfo {
        let s = header.state.load();
        let state = if s.is_complete() {
            if s.is_cancelled() {
                TaskState::Cancelled
            } else {
                TaskState::Complete
            }
        } else if s.is_running() {
            TaskState::Running
        } else if s.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        TaskInfo {
            id: header.id,
            name: header.name.as_deref().map(str::to_owned),
            state,
        }
    }
}
