//! The errors of the queue operations. Each one that refuses an item gives it back.

use std::fmt;

/// The error of `put_nowait`: `Full` is asyncio's `QueueFull`, `ShutDown` its `QueueShutDown`.
/// Either way the item comes back.
#[derive(Clone, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue has `maxsize` items (or its free places are promised to waiting putters).
    Full(T),
    /// The queue was shut down: it accepts no more items.
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }

    /// `true` for [`TryPutError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::Full(_))
    }

    /// `true` for [`TryPutError::ShutDown`].
    pub fn is_shut_down(&self) -> bool {
        matches!(self, TryPutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("queue is full"),
            TryPutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

/// The error of `get_nowait`: `Empty` is asyncio's `QueueEmpty`, `ShutDown` its
/// `QueueShutDown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item is available (or every item is promised to an already-woken getter).
    Empty,
    /// The queue was shut down and has no items left.
    ShutDown,
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("queue is empty"),
            TryGetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl std::error::Error for TryGetError {}

/// asyncio's `QueueShutDown`: the error of `put().await` (carrying the refused item) and of
/// `get().await` (carrying `()`) once the queue is shut down.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The refused item (`()` for a get).
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl<T> std::error::Error for QueueShutDown<T> {}

/// `task_done` was called more times than items were put (asyncio's `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDoneError(pub(crate) ());

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}
