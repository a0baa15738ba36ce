//! Panics caught outside the task harness (in a task group's child, on a blocking thread),
//! turned into the [`TaskError`] that awaiting them gives.

use crate::task::{PanicPayload, TaskError};
use std::any::Any;

/// `TaskError::Panicked` for a caught panic's payload, and the panic's message.
pub(crate) fn panicked(payload: Box<dyn Any + Send + 'static>) -> (TaskError, String) {
    let payload = PanicPayload::new(payload);
    let message = payload.message().to_owned();
    (TaskError::Panicked(payload), message)
}
