//! The one place this crate's concurrency primitives come from.
//!
//! Normally this re-exports `parking_lot`'s mutex; under `cfg(loom)` it wraps
//! [loom](https://docs.rs/loom)'s checked mutex, so the models in `sync/tests/loom_*.rs`
//! explore every interleaving of the real code. Nothing else in the crate names a mutex or a
//! cell type directly.
//!
//! Every primitive in this crate keeps all of its shared state behind one [`Mutex`]; there are
//! no free-standing atomics, so the mutex is the only thing loom has to model.
//!
//! [`UnsafeCell`] is `std`'s under both configurations: the data of
//! [`crate::Mutex`] is borrowed for as long as its guard lives, which loom's closure-based
//! cell cannot express. The loom models check that exclusion instead by putting a
//! `loom::cell::UnsafeCell` *inside* the async mutex, so two guards alive at once are reported
//! as a data race.

#[cfg(not(loom))]
mod imp {
    /// A mutex whose `lock` returns the guard directly (no poisoning).
    pub(crate) type Mutex<T> = parking_lot::Mutex<T>;
}

#[cfg(loom)]
mod imp {
    /// loom's mutex, with `lock` returning the guard directly like `parking_lot`.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }
}

pub(crate) use imp::Mutex;
pub(crate) use std::cell::UnsafeCell;
