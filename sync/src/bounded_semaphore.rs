//! [`BoundedSemaphore`]: a [`Semaphore`](crate::Semaphore) whose free permits may never exceed
//! the initial count, like `asyncio.BoundedSemaphore`.
//!
//! It shares the permit counter ([`RawSemaphore`]), the guards and the futures of
//! [`Semaphore`](crate::Semaphore). Guards always return permits that came from the semaphore,
//! so they cannot break the bound; only an explicit [`BoundedSemaphore::release`] can. The
//! counter keeps the number of permits whose guard was
//! [`forget`](crate::SemaphorePermit::forget)-ed, and `release(n)` succeeds only if at least
//! `n` of those are outstanding (checked and taken under the state lock); otherwise it fails
//! with [`ReleaseError`], changing nothing. Counting only free permits would not do: while a
//! guard is out, an extra release would fit under the bound, and the guard's drop would then
//! push the count past it.

use crate::raw_semaphore::RawSemaphore;
use crate::semaphore::{try_acquire_many, try_acquire_many_owned, PermitSource};
use crate::{Acquire, AcquireOwned, OwnedSemaphorePermit, SemaphorePermit, TryAcquireError};
use std::fmt;
use std::sync::Arc;

/// A semaphore that refuses to be released past its initial value.
///
/// Everything but [`release`](Self::release) behaves as on [`Semaphore`](crate::Semaphore):
/// FIFO-fair, cancel-safe acquires returning RAII guards.
///
/// # Examples
///
/// ```
/// use ringloop_sync::BoundedSemaphore;
/// # use pollster::block_on;
///
/// let sem = BoundedSemaphore::new(1);
/// let permit = block_on(sem.acquire());
/// permit.forget(); // hand the permit over to be released by hand
/// assert_eq!(sem.available_permits(), 0);
/// sem.release(1).unwrap();
/// // A second release would exceed the bound: an error, not a panic.
/// let err = sem.release(1).unwrap_err();
/// assert_eq!(err.permits(), 1);
/// assert_eq!(sem.available_permits(), 1);
/// ```
pub struct BoundedSemaphore {
    raw: RawSemaphore,
    bound: usize,
}

impl PermitSource for BoundedSemaphore {
    fn raw(&self) -> &RawSemaphore {
        &self.raw
    }
}

impl BoundedSemaphore {
    /// Creates a semaphore with `permits` free permits, which is also its bound.
    pub fn new(permits: usize) -> Self {
        BoundedSemaphore {
            raw: RawSemaphore::new(permits),
            bound: permits,
        }
    }

    /// The initial number of permits, which the free permits may never exceed.
    pub fn bound(&self) -> usize {
        self.bound
    }

    /// Waits for one permit; see [`Semaphore::acquire`](crate::Semaphore::acquire).
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits; see [`Semaphore::acquire_many`](crate::Semaphore::acquire_many).
    /// A request for more than [`bound`](Self::bound) permits never completes.
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire::new(&self.raw, n)
    }

    /// Waits for one permit as an owned guard.
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// Waits for `n` permits as an owned guard.
    pub fn acquire_many_owned(self: Arc<Self>, n: usize) -> AcquireOwned {
        AcquireOwned::new(self, n)
    }

    /// Takes one permit if that needs no waiting.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if that needs no waiting.
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

    /// Gives back `n` permits (typically ones whose guard was
    /// [`forget`](SemaphorePermit::forget)-ed), waking waiters they satisfy.
    ///
    /// # Errors
    ///
    /// [`ReleaseError`] if fewer than `n` permits were forgotten, i.e. if the permits (free,
    /// held by guards, or handed to waiters) would then exceed [`bound`](Self::bound); nothing
    /// is released then.
    pub fn release(&self, n: usize) -> Result<(), ReleaseError> {
        if self.raw.release_forgotten(n) {
            Ok(())
        } else {
            Err(ReleaseError {
                permits: n,
                bound: self.bound,
            })
        }
    }

    /// The number of permits free right now.
    pub fn available_permits(&self) -> usize {
        self.raw.available_permits()
    }

    /// `true` if [`acquire`](Self::acquire) would have to wait.
    pub fn locked(&self) -> bool {
        self.raw.locked()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("raw", &self.raw)
            .field("bound", &self.bound)
            .finish()
    }
}

/// [`BoundedSemaphore::release`] would have raised the permits above the bound
/// (`ValueError` in asyncio). Nothing was released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseError {
    permits: usize,
    bound: usize,
}

impl ReleaseError {
    /// The number of permits the refused call tried to release.
    pub fn permits(&self) -> usize {
        self.permits
    }

    /// The semaphore's bound.
    pub fn bound(&self) -> usize {
        self.bound
    }
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "releasing {} permit(s) would exceed the semaphore's bound of {}",
            self.permits, self.bound
        )
    }
}

impl std::error::Error for ReleaseError {}
