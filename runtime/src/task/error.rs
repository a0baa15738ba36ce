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
    /// The task's future panicked; this holds the panic's payload.
    Panicked(PanicPayload),
}

/// The payload of a task's panic. Unlike a bare `Box<dyn Any + Send>` it is `Sync` (so
/// `TaskError` converts into `Box<dyn Error + Send + Sync>`): it only gives the payload out
/// by value, and its message as a `&str`.
pub struct PanicPayload(Box<dyn Any + Send + 'static>);

// SAFETY: a shared `&PanicPayload` only allows `message()`, which reads the payload's type id
// (not its data) and hands out a `&str` only when the payload *is* a `&'static str` or a
// `String`, both `Sync`. Everything else takes the payload by value.
unsafe impl Sync for PanicPayload {}

impl PanicPayload {
    pub(crate) fn new(payload: Box<dyn Any + Send + 'static>) -> PanicPayload {
        PanicPayload(payload)
    }

    /// The panic's message, if it was a string (as `panic!("...")` makes); a placeholder
    /// otherwise.
    pub fn message(&self) -> &str {
        panic_message(self.0.as_ref())
    }

    /// The payload itself, to re-raise it with [`std::panic::resume_unwind`].
    pub fn into_inner(self) -> Box<dyn Any + Send + 'static> {
        self.0
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.message(), f)
    }
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
            TaskError::Panicked(payload) => Ok(payload.into_inner()),
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
            TaskError::Panicked(payload) => write!(f, "task panicked: {}", payload.message()),
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("Cancelled"),
            TaskError::Panicked(payload) => f.debug_tuple("Panicked").field(payload).finish(),
        }
    }
}

impl std::error::Error for TaskError {}
