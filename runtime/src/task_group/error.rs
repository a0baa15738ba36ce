//! [`TaskGroupError`]: what went wrong in a task group (asyncio's `ExceptionGroup`).

use crate::TaskId;
use std::error::Error;
use std::fmt;

/// How a task of a group failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The task panicked.
    Panicked,
    /// The task returned an `Err` (a task made with
    /// [`create_fallible_task`](crate::TaskGroup::create_fallible_task)).
    Error,
}

/// One failed task of a group: which task, how, and the message (the panic's message, or
/// the error's `Display`). The panic payload or the error value itself stays with the
/// task's [`GroupTask`](crate::GroupTask) handle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub(super) task: TaskId,
    pub(super) name: Option<String>,
    pub(super) kind: FailureKind,
    pub(super) message: String,
}

impl Failure {
    /// The id of the task that failed.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// Its name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Whether it panicked or returned an error.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The panic message, or the error's `Display`.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.task)?;
        if let Some(name) = &self.name {
            write!(f, " ({name})")?;
        }
        match self.kind {
            FailureKind::Panicked => write!(f, " panicked: {}", self.message),
            FailureKind::Error => write!(f, " failed: {}", self.message),
        }
    }
}

/// The error of a [`task_group`](crate::task_group) some of whose tasks failed (asyncio's
/// `ExceptionGroup`): every failure, in the order they happened. The first one cancelled
/// the group's other tasks and its body.
///
/// # Examples
/// ```
/// let err = ringloop::run(ringloop::task_group(|group| async move {
///     group.create_task(async { panic!("boom") });
///     group.create_task(std::future::pending::<()>()); // cancelled by the failure
/// }))
/// .unwrap_err();
/// assert_eq!(err.failures().len(), 1);
/// assert_eq!(err.failures()[0].message(), "boom");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskGroupError {
    failures: Vec<Failure>,
}

impl TaskGroupError {
    pub(super) fn new(failures: Vec<Failure>) -> TaskGroupError {
        debug_assert!(!failures.is_empty());
        TaskGroupError { failures }
    }

    /// Every failure, in the order they happened (never empty).
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// The failures, by value.
    pub fn into_failures(self) -> Vec<Failure> {
        self.failures
    }
}

impl fmt::Display for TaskGroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.failures.as_slice() {
            [one] => write!(f, "a task of the group failed: {one}"),
            many => {
                write!(f, "{} tasks of the group failed: ", many.len())?;
                for (i, failure) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{failure}")?;
                }
                Ok(())
            }
        }
    }
}

impl Error for TaskGroupError {}
