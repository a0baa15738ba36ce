//! [`Lock`]: `asyncio.Lock`, an async mutex that guards no data of its own.
//!
//! It is a [`Mutex<()>`](crate::Mutex) under another name, so it inherits that type's FIFO
//! fairness and cancel safety; see [`mutex`](crate::mutex).

use crate::mutex::{MutexGuard, MutexLock, TryLockError};
use crate::Mutex;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An async lock without data, like `asyncio.Lock`; use [`Mutex`] to guard a value.
///
/// # Examples
///
/// ```
/// use ringloop_sync::Lock;
/// # use pollster::block_on;
///
/// let lock = Lock::new();
/// block_on(async {
///     let guard = lock.acquire().await;
///     assert!(lock.locked());
///     assert!(lock.try_acquire().is_err());
///     drop(guard);
/// });
/// assert!(!lock.locked());
/// ```
#[derive(Default)]
pub struct Lock {
    mutex: Mutex<()>,
}

impl Lock {
    /// Creates an unlocked lock.
    pub fn new() -> Self {
        Lock {
            mutex: Mutex::new(()),
        }
    }

    /// Waits for the lock, in FIFO order. Cancel-safe.
    pub fn acquire(&self) -> LockAcquire<'_> {
        LockAcquire {
            inner: self.mutex.lock(),
        }
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    pub fn try_acquire(&self) -> Result<LockGuard<'_>, TryLockError> {
        self.mutex
            .try_lock()
            .map(|guard| LockGuard { _guard: guard })
    }

    /// `true` if the lock is held (or waiters are queued for it), like `asyncio.Lock.locked`.
    pub fn locked(&self) -> bool {
        self.mutex.locked()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

/// Holds a [`Lock`]; releases it when dropped.
#[must_use = "dropping the guard releases the lock at once"]
pub struct LockGuard<'a> {
    _guard: MutexGuard<'a, ()>,
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard")
    }
}

/// The future of [`Lock::acquire`]. Cancel-safe.
#[must_use = "futures do nothing unless polled"]
pub struct LockAcquire<'a> {
    inner: MutexLock<'a, ()>,
}

impl<'a> Future for LockAcquire<'a> {
    type Output = LockGuard<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().inner)
            .poll(cx)
            .map(|guard| LockGuard { _guard: guard })
    }
}

impl fmt::Debug for LockAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockAcquire").finish_non_exhaustive()
    }
}
