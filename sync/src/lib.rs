//! ringloop's synchronization primitives, usable from any runtime or none.
//!
//! The types mirror Python's `asyncio` synchronization primitives and queues: [`Lock`] (and
//! [`Mutex<T>`], which holds the data it guards), [`Event`], [`Condition`], [`Semaphore`],
//! [`BoundedSemaphore`], [`Barrier`], and [`Queue`], [`LifoQueue`], [`PriorityQueue`]. They
//! are `Send + Sync`, work across threads, and know nothing of any scheduler: a waiting future
//! stores the plain [`std::task::Waker`] it was polled with and is woken through it.
//!
//! Two promises hold for every type:
//!
//! * **Fairness.** Waiters are served first in, first out. Whatever a waiter is owed (permits,
//!   the lock, an item, a free place) is handed to the oldest one, and a newcomer, including the
//!   non-waiting `try_*`/`*_nowait` forms, never takes what is promised to a waiter.
//! * **Cancel safety.** A future may be dropped at any moment: before its first poll, while
//!   queued, or after it was handed something but before it was polled again. Nothing is lost:
//!   permits, the lock, an item or a notification handed to a dropped future passes to the
//!   next waiter.
//!
//! All state of a primitive sits behind one short-held lock; wakers are woken after it is
//! released. Waiters live in a slab reused across waits, so waiting does not allocate once the
//! slab has grown to the number of simultaneous waiters. See `sync/DESIGN.md` for why.
//!
//! # Examples
//!
//! A bounded work queue with two consumer threads, each running its own tiny executor:
//!
//! ```
//! use ringloop_sync::{Queue, Semaphore};
//! use std::sync::Arc;
//! # use pollster::block_on;
//!
//! let queue = Arc::new(Queue::new(4));
//! let done = Arc::new(Semaphore::new(0));
//! let consumers: Vec<_> = (0..2)
//!     .map(|_| {
//!         let (queue, done) = (queue.clone(), done.clone());
//!         std::thread::spawn(move || {
//!             block_on(async {
//!                 while let Ok(job) = queue.get().await {
//!                     assert!(job < 100);
//!                     done.release(1);
//!                 }
//!             })
//!         })
//!     })
//!     .collect();
//! block_on(async {
//!     for job in 0..100 {
//!         queue.put(job).await.unwrap();
//!     }
//!     done.acquire_many(100).await.forget(); // all 100 jobs handled
//! });
//! queue.shutdown(false);
//! for c in consumers {
//!     c.join().unwrap();
//! }
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
#![warn(unreachable_pub, missing_docs, missing_debug_implementations)]

mod barrier;
mod bounded_semaphore;
mod condition;
mod event;
mod lock;
mod loom;
mod mutex;
mod queue;
mod raw_semaphore;
mod semaphore;
mod wait_list;
mod wake_list;

pub use crate::barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use crate::bounded_semaphore::{BoundedSemaphore, ReleaseError};
pub use crate::condition::{Condition, ConditionWait, ConditionWaitFor};
pub use crate::event::{Event, EventWait};
pub use crate::lock::{Lock, LockAcquire, LockGuard};
pub use crate::mutex::{Mutex, MutexGuard, MutexLock, TryLockError};
pub use crate::queue::{
    Get, Join, LifoQueue, PriorityQueue, Put, Queue, QueueShutDown, TaskDoneError, TryGetError,
    TryPutError,
};
pub use crate::semaphore::{
    Acquire, AcquireOwned, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
