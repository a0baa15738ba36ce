//! [`Semaphore`]: a fair, cancel-safe counting semaphore, and its permit guards and futures.
//!
//! The permit counting, fairness and cancellation protocol live in
//! [`raw_semaphore`](crate::raw_semaphore); this file is the public face. The guards and futures
//! defined here are shared with [`BoundedSemaphore`](crate::BoundedSemaphore): a guard only
//! needs the [`RawSemaphore`] it returns its permits to, which both types expose through
//! [`PermitSource`].

use crate::raw_semaphore::{AcquireState, RawSemaphore};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// A counting semaphore, like `asyncio.Semaphore`, with FIFO-fair, cancel-safe acquires.
///
/// A semaphore holds a number of permits. [`acquire`](Semaphore::acquire) waits for one and
/// returns it as a [`SemaphorePermit`] guard that gives it back when dropped;
/// [`acquire_many`](Semaphore::acquire_many) takes several at once. Waiters are served in
/// arrival order: while anyone is waiting, [`try_acquire`](Semaphore::try_acquire) fails and a
/// new `acquire` queues behind, even if enough permits are free for it (they are being kept for
/// the waiter at the head of the queue).
///
/// Every future here may be dropped at any moment without losing a permit: permits that had
/// already been handed to a dropped future go to the next waiter.
///
/// # Examples
///
/// ```
/// use ringloop_sync::Semaphore;
/// # use pollster::block_on;
///
/// let sem = Semaphore::new(2);
/// block_on(async {
///     let a = sem.acquire().await;
///     let b = sem.acquire().await;
///     assert_eq!(sem.available_permits(), 0);
///     assert!(sem.try_acquire().is_err());
///     drop(a);
///     let c = sem.try_acquire().unwrap();
///     assert_eq!(b.num_permits() + c.num_permits(), 2);
/// });
/// assert_eq!(sem.available_permits(), 2);
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

/// A semaphore whose permits an owned guard can return to: implemented by [`Semaphore`] and
/// [`BoundedSemaphore`](crate::BoundedSemaphore).
pub(crate) trait PermitSource: Send + Sync + 'static {
    /// The permit counter.
    fn raw(&self) -> &RawSemaphore;
}

impl PermitSource for Semaphore {
    fn raw(&self) -> &RawSemaphore {
        &self.raw
    }
}

impl Semaphore {
    /// Creates a semaphore with `permits` free permits.
    pub fn new(permits: usize) -> Self {
        Semaphore {
            raw: RawSemaphore::new(permits),
        }
    }

    /// Waits for one permit.
    ///
    /// Cancel-safe: dropping the future gives back anything it was handed.
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, taken all at once.
    ///
    /// The request keeps its place in the queue until `n` permits are free; waiters behind it
    /// wait too. `acquire_many(0)` is ready at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop_sync::Semaphore;
    /// # use pollster::block_on;
    ///
    /// let sem = Semaphore::new(5);
    /// let three = block_on(sem.acquire_many(3));
    /// assert_eq!(three.num_permits(), 3);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire::new(&self.raw, n)
    }

    /// Waits for one permit and returns a guard that keeps the semaphore alive (`'static`).
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop_sync::Semaphore;
    /// use std::sync::Arc;
    /// # use pollster::block_on;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = block_on(sem.clone().acquire_owned());
    /// std::thread::spawn(move || drop(permit)).join().unwrap();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Waits for `n` permits and returns a guard that keeps the semaphore alive.
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned {
        AcquireOwned::new(self, n)
    }

    /// Takes one permit if that needs no waiting.
    ///
    /// Fails if no permit is free or if another task is already waiting (fairness).
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if that needs no waiting; see [`try_acquire`](Self::try_acquire).
    pub fn try_acquire_many(&self, n: usize) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        try_acquire_many(&self.raw, n)
    }

    /// Takes one permit as an owned guard if that needs no waiting.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Takes `n` permits as an owned guard if that needs no waiting.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: usize,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        try_acquire_many_owned(self, n)
    }

    /// Adds `n` permits, like `asyncio.Semaphore.release`, waking waiters they satisfy.
    ///
    /// Use it to give back permits whose guard was consumed by
    /// [`forget`](SemaphorePermit::forget), or to raise the count; dropping a guard already
    /// returns its permits.
    ///
    /// # Panics
    ///
    /// If the number of free permits would overflow `usize`.
    pub fn release(&self, n: usize) {
        self.raw.release(n);
    }

    /// The number of permits free right now.
    pub fn available_permits(&self) -> usize {
        self.raw.available_permits()
    }

    /// `true` if [`acquire`](Self::acquire) would have to wait (no free permit, or waiters
    /// queued), like `asyncio.Semaphore.locked`.
    pub fn locked(&self) -> bool {
        self.raw.locked()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Semaphore").field(&self.raw).finish()
    }
}

pub(crate) fn try_acquire_many(
    raw: &RawSemaphore,
    n: usize,
) -> Result<SemaphorePermit<'_>, TryAcquireError> {
    if raw.try_acquire(n) {
        Ok(SemaphorePermit { raw, permits: n })
    } else {
        Err(TryAcquireError(()))
    }
}

pub(crate) fn try_acquire_many_owned<S: PermitSource>(
    sem: Arc<S>,
    n: usize,
) -> Result<OwnedSemaphorePermit, TryAcquireError> {
    if sem.raw().try_acquire(n) {
        Ok(OwnedSemaphorePermit { sem, permits: n })
    } else {
        Err(TryAcquireError(()))
    }
}

/// The error of `try_acquire*`: the permits are not free, or other tasks are waiting for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryAcquireError(());

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no semaphore permits available without waiting")
    }
}

impl std::error::Error for TryAcquireError {}

/// Permits borrowed from a [`Semaphore`] or [`BoundedSemaphore`](crate::BoundedSemaphore),
/// returned when the guard is dropped.
#[must_use = "dropping the permit releases it at once"]
pub struct SemaphorePermit<'a> {
    raw: &'a RawSemaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Drops the guard *without* returning its permits: the semaphore has that many fewer
    /// until someone calls `release`.
    pub fn forget(mut self) {
        self.raw.forget(self.permits);
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.raw.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits held on an `Arc`-shared semaphore; the guard is `'static` and can move anywhere.
#[must_use = "dropping the permit releases it at once"]
pub struct OwnedSemaphorePermit {
    sem: Arc<dyn PermitSource>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Drops the guard *without* returning its permits; see [`SemaphorePermit::forget`].
    pub fn forget(mut self) {
        self.sem.raw().forget(self.permits);
        self.permits = 0;
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.raw().release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`] (and of the same
/// methods on [`BoundedSemaphore`](crate::BoundedSemaphore)).
///
/// Cancel-safe: dropping it at any point loses no permit.
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    raw: &'a RawSemaphore,
    state: AcquireState,
}

impl<'a> Acquire<'a> {
    pub(crate) fn new(raw: &'a RawSemaphore, n: usize) -> Self {
        Acquire {
            raw,
            state: AcquireState::new(n),
        }
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let raw = this.raw;
        raw.poll_acquire(&mut this.state, cx)
            .map(|()| SemaphorePermit {
                raw,
                permits: this.state.needed(),
            })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.raw.cancel_acquire(&mut self.state);
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("state", &self.state)
            .finish()
    }
}

/// The future of [`Semaphore::acquire_owned`] and friends.
///
/// Cancel-safe: dropping it at any point loses no permit.
#[must_use = "futures do nothing unless polled"]
pub struct AcquireOwned {
    sem: Arc<dyn PermitSource>,
    state: AcquireState,
}

impl AcquireOwned {
    pub(crate) fn new<S: PermitSource>(sem: Arc<S>, n: usize) -> Self {
        AcquireOwned {
            sem,
            state: AcquireState::new(n),
        }
    }
}

impl Future for AcquireOwned {
    type Output = OwnedSemaphorePermit;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.sem.raw().poll_acquire(&mut this.state, cx) {
            Poll::Ready(()) => Poll::Ready(OwnedSemaphorePermit {
                sem: this.sem.clone(),
                permits: this.state.needed(),
            }),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        self.sem.raw().cancel_acquire(&mut self.state);
    }
}

impl fmt::Debug for AcquireOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireOwned")
            .field("state", &self.state)
            .finish()
    }
}
