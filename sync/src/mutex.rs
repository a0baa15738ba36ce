//! [`Mutex<T>`]: an async mutual-exclusion lock that owns the data it protects.
//!
//! # Design
//!
//! A `Mutex` is a [`RawSemaphore`] with one permit plus an `UnsafeCell<T>`. Holding the permit
//! is holding the lock; the [`MutexGuard`] is the only way to reach the data and gives the
//! permit back when dropped. Fairness (FIFO, no barging) and cancel safety (a dropped
//! [`MutexLock`] future that had been handed the lock passes it to the next waiter) come from
//! the semaphore; see [`raw_semaphore`](crate::raw_semaphore).
//!
//! # Safety
//!
//! The unsafe code is the data access through the guard. Its argument:
//!
//! 1. A `MutexGuard` exists only after one permit was taken from `raw` (by `try_acquire` or a
//!    completed acquire), and is the only owner of that permit until its `Drop` releases it.
//! 2. `raw` starts with one permit and the `Mutex` never adds permits except through a guard's
//!    `Drop`, so at most one guard exists at a time: the guard's `&T`/`&mut T` cannot alias
//!    another guard's.
//! 3. Releasing the permit goes through the state lock, and so does taking it: the next guard
//!    holder's accesses happen after the previous holder's (the state lock's release/acquire
//!    orders them), so the data is never accessed concurrently.

use crate::loom::UnsafeCell;
use crate::raw_semaphore::{AcquireState, RawSemaphore};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

/// An async mutex holding a `T`, like `asyncio.Lock` with the data inside it.
///
/// [`lock`](Mutex::lock) waits for the lock (in FIFO order) and returns a [`MutexGuard`] that
/// derefs to the data and unlocks when dropped. The guard may be held across `.await` points
/// and, when `T: Send`, sent to another thread.
///
/// # Examples
///
/// ```
/// use ringloop_sync::Mutex;
/// use std::sync::Arc;
/// # use pollster::block_on;
///
/// let counter = Arc::new(Mutex::new(0));
/// let threads: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = counter.clone();
///         std::thread::spawn(move || {
///             block_on(async {
///                 for _ in 0..100 {
///                     *counter.lock().await += 1;
///                 }
///             })
///         })
///     })
///     .collect();
/// for t in threads {
///     t.join().unwrap();
/// }
/// assert_eq!(*counter.try_lock().unwrap(), 400);
/// ```
pub struct Mutex<T: ?Sized> {
    raw: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a `MutexGuard`, and at most one exists at a time
// (module docs, points 1-3), so sharing `&Mutex<T>` between threads only ever hands the `T` to
// one thread at a time: that needs `T: Send`, not `T: Sync`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub fn new(value: T) -> Self {
        Mutex {
            raw: RawSemaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock. Waiters get it in arrival order.
    ///
    /// Cancel-safe: dropping the future, even after it was handed the lock but before it was
    /// polled again, leaves the lock free for the next waiter.
    pub fn lock(&self) -> MutexLock<'_, T> {
        MutexLock {
            mutex: self,
            state: AcquireState::new(1),
        }
    }

    /// Takes the lock if it is free and nobody is waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop_sync::Mutex;
    ///
    /// let m = Mutex::new(String::from("a"));
    /// let mut guard = m.try_lock().unwrap();
    /// guard.push('b');
    /// assert!(m.try_lock().is_err());
    /// drop(guard);
    /// assert_eq!(&*m.try_lock().unwrap(), "ab");
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        if self.raw.try_acquire(1) {
            Ok(MutexGuard { mutex: self })
        } else {
            Err(TryLockError(()))
        }
    }

    /// `true` if the lock is held (or waiters are queued for it).
    pub fn locked(&self) -> bool {
        self.raw.locked()
    }

    /// The data, through an exclusive borrow of the mutex (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The error of [`Mutex::try_lock`] (and [`Lock::try_acquire`](crate::Lock::try_acquire)): the
/// lock is held, or other tasks are waiting for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("lock is held or contended")
    }
}

impl std::error::Error for TryLockError {}

/// Exclusive access to a [`Mutex`]'s data; unlocks when dropped.
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

// SAFETY: `&MutexGuard` hands out only `&T`, so sharing the guard between threads needs
// `T: Sync`; and the guard's `Send`-ness (auto, from `&Mutex<T>`) needs `T: Send`. This impl
// replaces the auto impl, which would have required only `T: Send`.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks. An associated function, so it cannot shadow a method of `T`.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard owns the mutex's only permit (module docs, points 1-3), so no other
        // reference to the data exists while `&self` lives.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` also excludes other borrows through this guard.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// The future of [`Mutex::lock`].
///
/// Cancel-safe: dropping it at any point leaves the lock usable by the next waiter.
#[must_use = "futures do nothing unless polled"]
pub struct MutexLock<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    state: AcquireState,
}

impl<'a, T: ?Sized> Future for MutexLock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mutex = this.mutex;
        mutex
            .raw
            .poll_acquire(&mut this.state, cx)
            .map(|()| MutexGuard { mutex })
    }
}

impl<T: ?Sized> Drop for MutexLock<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.cancel_acquire(&mut self.state);
    }
}

impl<T: ?Sized> fmt::Debug for MutexLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexLock")
            .field("state", &self.state)
            .finish()
    }
}
