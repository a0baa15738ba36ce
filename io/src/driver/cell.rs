//! [`CoreCell`]: a driver's core behind its lock, shared by the owner thread and the siblings
//! that help it.
//!
//! The owner thread locks the core for every tick (`poll`, `reap`, `park`, an op's
//! submission), and keeps it locked while it blocks in `io_uring_enter`. Another thread locks
//! it only to help ([`CoreCell::try_lock`]): when the owner is stuck in a long poll of a task,
//! a sibling submits what the owner queued, dispatches its completions and fires its due
//! timers (`Core::help`). A parked owner holds its lock, so a sibling never helps a driver
//! that is merely asleep.
//!
//! # No user code under the lock
//!
//! Everything that runs user code — waking a waker, dropping a buffer, cloning a waker,
//! building an entry from a user's buffer — happens before the lock is taken or after it is
//! released (`Core`'s `Ready`). The lock is never held across anything that can block except
//! the owner's own park.
//!
//! # Re-entrancy
//!
//! A thread that already holds a core and asks for it again (a waker or `Drop` run inside the
//! driver using it: not possible while the rule above holds, but cheap to check) gets an
//! error instead of a deadlock: each thread records the core it holds.

use std::cell::Cell;
use std::io;
use std::ops::{Deref, DerefMut};

use crate::driver::core::Core;
use crate::loom::{Mutex, MutexGuard};

thread_local! {
    /// The address of the core this thread holds, or 0.
    static HELD: Cell<usize> = const { Cell::new(0) };
}

/// A driver's core and its lock; see the module docs.
pub(crate) struct CoreCell {
    core: Mutex<Core>,
}

/// A locked core; unlocking restores the thread's previous record of what it holds.
pub(crate) struct CoreGuard<'a> {
    guard: MutexGuard<'a, Core>,
    previous: usize,
}

impl CoreCell {
    pub(crate) fn new(core: Core) -> CoreCell {
        CoreCell {
            core: Mutex::new(core),
        }
    }

    fn address(&self) -> usize {
        self as *const CoreCell as usize
    }

    fn held_here(&self) -> bool {
        HELD.try_with(Cell::get).unwrap_or(0) == self.address()
    }

    fn guard<'a>(&'a self, guard: MutexGuard<'a, Core>) -> CoreGuard<'a> {
        let previous = HELD
            .try_with(|held| held.replace(self.address()))
            .unwrap_or(0);
        CoreGuard { guard, previous }
    }

    /// Locks the core, waiting while a helper holds it (briefly: a helper's critical section
    /// has no user code and no blocking).
    ///
    /// # Errors
    ///
    /// If this thread already holds it (re-entrant use from inside the driver).
    pub(crate) fn lock(&self) -> io::Result<CoreGuard<'_>> {
        if self.held_here() {
            return Err(io::Error::other(
                "ringloop: the io driver is busy: it was used re-entrantly, from inside the \
                 driver itself (a waker or a Drop it runs)",
            ));
        }
        Ok(self.guard(crate::loom::lock(&self.core)))
    }

    /// Locks the core if nobody holds it: the owner (running a tick, or parked) or another
    /// helper.
    pub(crate) fn try_lock(&self) -> Option<CoreGuard<'_>> {
        if self.held_here() {
            return None;
        }
        let guard = match self.core.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(self.guard(guard))
    }
}

impl Drop for CoreGuard<'_> {
    fn drop(&mut self) {
        let _ = HELD.try_with(|held| held.set(self.previous));
    }
}

impl Deref for CoreGuard<'_> {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.guard
    }
}

impl DerefMut for CoreGuard<'_> {
    fn deref_mut(&mut self) -> &mut Core {
        &mut self.guard
    }
}

impl std::fmt::Debug for CoreCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.try_lock() {
            Some(core) => f.debug_struct("CoreCell").field("core", &*core).finish(),
            None => f.debug_struct("CoreCell").finish_non_exhaustive(),
        }
    }
}
