//! [`LifoQueue`]: `asyncio.LifoQueue`, last in, first out.

use super::buffer::Buffer;
use super::core::Core;
use super::error::{TaskDoneError, TryGetError, TryPutError};
use super::future::{Get, Join, Put};
use std::fmt;

/// `asyncio.LifoQueue`, last in, first out.
///
/// Everything but the order in which items come out is as on [`Queue`](crate::Queue): the same
/// bound, FIFO-fair waiters, cancel safety, `task_done`/`join` and `shutdown`.
///
/// # Examples
///
/// ```
/// use ringloop_sync::LifoQueue;
///
/// let stack = LifoQueue::new(0);
/// for i in 0..3 {
///     stack.put_nowait(i).unwrap();
/// }
/// assert_eq!(stack.get_nowait(), Ok(2));
/// assert_eq!(stack.get_nowait(), Ok(1));
/// ```
pub struct LifoQueue<T> {
    core: Core<T>,
}

impl<T> LifoQueue<T> {
    /// Creates a queue holding at most `maxsize` items; `0` means unbounded.
    pub fn new(maxsize: usize) -> Self {
        LifoQueue {
            core: Core::new(maxsize, Buffer::Lifo(Vec::new())),
        }
    }

    /// Waits for a free place, then adds `item`.
    ///
    /// # Errors
    ///
    /// [`QueueShutDown`](crate::QueueShutDown) with the item if the queue is (or gets) shut
    /// down before the item is added.
    pub fn put(&self, item: T) -> Put<'_, T> {
        Put::new(&self.core, item)
    }

    /// Waits for an item and removes it.
    ///
    /// # Errors
    ///
    /// [`QueueShutDown`](crate::QueueShutDown) once the queue is shut down and empty.
    pub fn get(&self) -> Get<'_, T> {
        Get::new(&self.core)
    }

    /// Adds `item` if a place is free now.
    ///
    /// # Errors
    ///
    /// [`TryPutError::Full`] or [`TryPutError::ShutDown`], carrying the item back.
    pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        self.core.put_nowait(item)
    }

    /// Removes an item if one is available now.
    ///
    /// # Errors
    ///
    /// [`TryGetError::Empty`], or [`TryGetError::ShutDown`] once shut down and empty.
    pub fn get_nowait(&self) -> Result<T, TryGetError> {
        self.core.get_nowait()
    }

    /// Marks one item taken with `get` as processed; when every item put has been marked,
    /// [`join`](Self::join) returns.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        self.core.task_done()
    }

    /// Waits until every item put has been marked done (immediately if none is pending).
    pub fn join(&self) -> Join<'_, T> {
        Join::new(&self.core)
    }

    /// Shuts the queue down (Python 3.13): `put` fails from now on and waiting putters are
    /// woken with their item back. With `immediate == false`, `get` keeps returning the
    /// remaining items and fails once the queue is empty. With `immediate == true`, the
    /// remaining items are dropped (and counted as done, releasing `join`) and `get` fails at
    /// once.
    pub fn shutdown(&self, immediate: bool) {
        self.core.shutdown(immediate);
    }

    /// `true` once [`shutdown`](Self::shutdown) was called.
    pub fn is_shut_down(&self) -> bool {
        self.core.is_shut_down()
    }

    /// The number of items in the queue (including items promised to woken getters).
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// `true` if the queue holds no item.
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// `true` if the queue is bounded and holds `maxsize` items.
    pub fn full(&self) -> bool {
        self.core.full()
    }

    /// The bound given at creation; 0 means unbounded.
    pub fn maxsize(&self) -> usize {
        self.core.maxsize()
    }
}

impl<T> fmt::Debug for LifoQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt_as("LifoQueue", f)
    }
}
