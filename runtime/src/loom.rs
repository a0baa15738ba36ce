//! The one place concurrency primitives come from.
//!
//! Normally this re-exports `std` (and `parking_lot`); under `cfg(loom)` it re-exports
//! [loom](https://docs.rs/loom)'s checked versions, so that the models (the `loom_*.rs` files beside the
//! code they check) explore every interleaving of the real code. Nothing else in the crate names
//! `std::sync::atomic`, `std::cell::UnsafeCell` or a mutex directly. `thread_local!` comes
//! from here where each model thread needs a value of its own (the thread's runtime context):
//! loom runs every model thread on one OS thread, where a `std` thread-local is shared.

#[cfg(not(loom))]
mod imp {
    pub(crate) use std::sync::OnceLock;
    pub(crate) use std::thread_local;

    pub(crate) use std::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };

    /// A mutex whose `lock` returns the guard directly (no poisoning).
    pub(crate) type Mutex<T> = parking_lot::Mutex<T>;
    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    /// A condition variable whose `wait` takes and returns the guard (loom's convention).
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(parking_lot::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(parking_lot::Condvar::new())
        }

        pub(crate) fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(&mut guard);
            guard
        }

        pub(crate) fn wait_timeout<'a, T>(
            &self,
            mut guard: MutexGuard<'a, T>,
            timeout: std::time::Duration,
        ) -> MutexGuard<'a, T> {
            let _ = self.0.wait_for(&mut guard, timeout);
            guard
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
    }

    /// `UnsafeCell` with loom's closure-based access API, so the same code checks under loom.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(loom)]
mod imp {
    /// loom's `thread_local!` (a value per model thread), in `std`'s `const { }` form.
    macro_rules! loom_thread_local {
        ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr };) => {
            ::loom::thread_local! { $(#[$attr])* $vis static $name: $t = $init; }
        };
    }
    pub(crate) use loom_thread_local as thread_local;

    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering,
    };

    /// loom's mutex, with `lock` returning the guard directly like `parking_lot`.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);
    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }
    }

    /// loom's condition variable; `wait` takes and returns the guard.
    #[derive(Debug)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap_or_else(|p| p.into_inner())
        }

        /// loom has no time: a timed wait is an untimed one (models always unpark).
        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _timeout: std::time::Duration,
        ) -> MutexGuard<'a, T> {
            self.wait(guard)
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }
    }

    /// `std::sync::OnceLock`'s `new`, `set` and `get` built from loom's primitives, with the
    /// same ordering: `set` publishes with a release store, `get` reads with an acquire load.
    /// loom cannot see inside `std`'s, so with it every `get` would see the latest `set`, and a
    /// model would miss the interleavings in which a `get` on another thread does not.
    pub(crate) struct OnceLock<T> {
        ready: AtomicBool,
        setting: loom::sync::Mutex<()>,
        value: UnsafeCell<Option<T>>,
    }

    // SAFETY: the value is written once, by one setter at a time (under `setting`), before
    // `ready` is published; after that it is only read, from any thread, as `&T`.
    unsafe impl<T: Send + Sync> Sync for OnceLock<T> {}
    // SAFETY: moving the lock moves its value, which may move between threads (`T: Send`).
    unsafe impl<T: Send> Send for OnceLock<T> {}

    impl<T> OnceLock<T> {
        pub(crate) fn new() -> Self {
            OnceLock {
                ready: AtomicBool::new(false),
                setting: loom::sync::Mutex::new(()),
                value: UnsafeCell::new(None),
            }
        }

        pub(crate) fn get(&self) -> Option<&T> {
            if !self.ready.load(Ordering::Acquire) {
                return None;
            }
            // SAFETY: `ready` was stored (release) after the value was written, this load
            // acquired it, and the value is never written again: only shared reads follow.
            self.value.with(|value| unsafe { (*value).as_ref() })
        }

        pub(crate) fn set(&self, value: T) -> Result<(), T> {
            let _setting = self.setting.lock().unwrap();
            // Setters are serialized by the lock, so this sees any earlier `set`.
            if self.ready.load(Ordering::Relaxed) {
                return Err(value);
            }
            // SAFETY: no reader looks at the value before `ready` is set, and the lock keeps
            // other setters out: this is the only access.
            self.value.with_mut(|slot| unsafe { *slot = Some(value) });
            self.ready.store(true, Ordering::Release);
            Ok(())
        }
    }
}

pub(crate) use imp::*;
