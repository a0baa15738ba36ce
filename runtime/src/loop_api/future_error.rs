//! The errors of a [`FutureCell`](super::FutureCell).

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Why awaiting a [`FutureCell`](crate::FutureCell) gave no result.
#[derive(Clone)]
pub enum FutureError {
    /// The future was cancelled ([`FutureCell::cancel`](crate::FutureCell::cancel)).
    Cancelled,
    /// The future was completed with an error
    /// ([`FutureCell::set_exception`](crate::FutureCell::set_exception)); every awaiter
    /// sees the same one.
    Exception(Arc<dyn Error + Send + Sync + 'static>),
}

impl FutureError {
    /// True if the future was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, FutureError::Cancelled)
    }

    /// The error the future was completed with, if any.
    pub fn exception(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match self {
            FutureError::Cancelled => None,
            FutureError::Exception(error) => Some(&**error),
        }
    }
}

impl fmt::Display for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("the future was cancelled"),
            FutureError::Exception(error) => write!(f, "the future failed: {error}"),
        }
    }
}

impl fmt::Debug for FutureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FutureError::Cancelled => f.write_str("Cancelled"),
            FutureError::Exception(error) => f.debug_tuple("Exception").field(error).finish(),
        }
    }
}

impl Error for FutureError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            FutureError::Cancelled => None,
            FutureError::Exception(error) => Some(&**error),
        }
    }
}

/// The future was already done (asyncio's `InvalidStateError`); holds the value that could
/// not be set.
pub struct InvalidStateError<T>(pub T);

impl<T> InvalidStateError<T> {
    /// The value that could not be set.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Display for InvalidStateError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the future is already done")
    }
}

impl<T> fmt::Debug for InvalidStateError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvalidStateError(..)")
    }
}

impl<T> Error for InvalidStateError<T> {}
