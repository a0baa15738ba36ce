//! The concurrency facade: every atomic and `Mutex` of this crate comes from here.
//!
//! Normally these are `std`'s types; under `--cfg loom` they are `loom`'s, so that a model
//! checker can explore the interleavings of the code that uses them (see `tests/loom_wake.rs`).
//! Code outside this module never names `std::sync::atomic` or `std::sync::Mutex` directly.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
    pub(crate) use std::sync::{Mutex, MutexGuard};
}

#[cfg(loom)]
mod imp {
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Ordering};
    pub(crate) use loom::sync::{Mutex, MutexGuard};
}

pub(crate) use imp::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Mutex, MutexGuard, Ordering};

/// Locks `mutex`, ignoring poisoning.
///
/// Every critical section of this crate leaves its data consistent before it can panic (they
/// only move values in and out), so a poisoned lock still guards valid data; propagating the
/// poison would turn one panic into a cascade.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
