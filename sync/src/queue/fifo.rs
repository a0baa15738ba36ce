//! [`Queue`]: `asyncio.Queue`, first in, first out.

use super::buffer::Buffer;
use super::core::Core;
use super::error::{TaskDoneError, TryGetError, TryPutError};
use super::future::{Get, Join, Put};
use std::collections::VecDeque;
use std::fmt;

/// A first-in, first-out queue for many producers and consumers, like `asyncio.Queue`.
///
/// `maxsize` bounds the number of items (0 = unbounded): [`put`](Self::put) waits while the
/// queue is full, [`get`](Self::get) while it is empty. Waiting producers and consumers are
/// served in arrival order, and no newcomer (not even [`put_nowait`](Self::put_nowait) or
/// [`get_nowait`](Self::get_nowait)) takes an item or a place already promised to a woken
/// waiter. Every future is cancel-safe: dropping it loses no item that was in the queue.
///
/// Share it by reference (`&Queue` is all the methods need) or in an `Arc`.
///
/// [`task_done`](Self::task_done) and [`join`](Self::join) count work as asyncio does, and
/// [`shutdown`](Self::shutdown) has Python 3.13's semantics.
///
/// # Examples
///
/// ```
/// use ringloop_sync::Queue;
/// use std::sync::Arc;
/// # use pollster::block_on;
///
/// let queue = Arc::new(Queue::new(2));
/// let consumer = {
///     let queue = queue.clone();
///     std::thread::spawn(move || {
///         block_on(async {
///             let mut sum = 0;
///             // get() fails once the queue is shut down and drained.
///             while let Ok(n) = queue.get().await {
///                 sum += n;
///                 queue.task_done().unwrap();
///             }
///             sum
///         })
///     })
/// };
/// block_on(async {
///     for n in 1..=10 {
///         queue.put(n).await.unwrap(); // waits while 2 items are queued
///     }
///     queue.join().await; // every item processed
/// });
/// queue.shutdown(false);
/// assert_eq!(consumer.join().unwrap(), 55);
/// ```
pub struct Queue<T> {
    core: Core<T>,
}

impl<T> Queue<T> {
    /// Creates a queue holding at most `maxsize` items; `0` means unbounded.
    pub fn new(maxsize: usize) -> Self {
        Queue {
            core: Core::new(maxsize, Buffer::Fifo(VecDeque::new())),
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
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop_sync::{Queue, TryGetError, TryPutError};
    ///
    /// let q = Queue::new(1);
    /// q.put_nowait("a").unwrap();
    /// assert_eq!(q.put_nowait("b"), Err(TryPutError::Full("b")));
    /// assert_eq!(q.get_nowait(), Ok("a"));
    /// assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop_sync::{Queue, TryGetError, TryPutError};
    ///
    /// let q = Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.put_nowait(2).unwrap();
    /// q.shutdown(false);
    /// assert_eq!(q.put_nowait(3), Err(TryPutError::ShutDown(3)));
    /// assert_eq!(q.get_nowait(), Ok(1));
    /// q.shutdown(true);
    /// assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
    /// ```
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

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core.fmt_as("Queue", f)
    }
}
