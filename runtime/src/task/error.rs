//! Why awaiting a task gave no value.

use std::any::Any;
use std::fmt;

/// The outcome of a task that did not return a value: awaiting a [`Task`](crate::Task) gives
/// `Err(TaskError)` when the task was cancelled or panicked.
///
/// # Examples
/// ```
/// let rt = ringloop::Runtime::builder().worker_threads(1).build().unwrap();
/// let err = rt.block_on(async {
///     ringloop::create_task(async { panic!("boom") }).await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "task panicked: boom");
/// ```
pub enum TaskError {
    /// The task was cancelled ([`Task::cancel`](crate::Task::cancel), or the runtime shut
    /// down) before it finished; its future was dropped.
    Cancelled,
    /// The task's future panicked; this is the panic's payload.
    Panicked(Box<dyn Any + Send + 'static>),
}

impl TaskError {
    /// True if the task was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled)
    }

    /// True if the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    /// The panic payload, to re-raise it with [`std::panic::resume_unwind`]; `Err(self)` if the
    /// task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, TaskError> {
        match self {
            TaskError::Panicked(payload) => Ok(payload),
            other => Err(other),
        }
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "<non-string panic payload>"
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("task was cancelled"),
            TaskError::Panicked(payload) => {
                write!(f, "task panicked: {}", panic_message(payload.as_ref()))
            }
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("Cancelled"),
            TaskError::Panicked(payload) => f
                .debug_tuple("Panicked")
                .field(&panic_message(payload.as_ref()))
                .finish(),
        }
    }
}

impl std::error::Error for TaskError {}
