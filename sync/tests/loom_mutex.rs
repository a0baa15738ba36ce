//! loom models of `Mutex<T>`: exclusion (checked by loom's own cell inside the mutex) and a
//! cancelled locker racing with the hand-over.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 cargo test -p ringloop-sync --release
//! --test loom_mutex`
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::future::block_on;
use loom::thread;
use ringloop_sync::Mutex;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

fn increment(m: &Mutex<UnsafeCell<usize>>) {
    let guard = block_on(m.lock());
    // loom reports a race if another guard accesses the cell concurrently.
    // SAFETY: the pointer comes from the cell inside the mutex and we hold its guard.
    guard.with_mut(|n| unsafe { add_one(n) });
}

/// Adds one through a pointer into the mutex's data.
///
/// # Safety
///
/// `n` must be valid, and the caller must hold the mutex's guard (loom checks the latter).
unsafe fn add_one(n: *mut usize) {
    // SAFETY: valid and exclusive per this function's contract.
    unsafe { *n += 1 };
}

#[test]
fn guards_exclude_each_other() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(UnsafeCell::new(0)));
        let t = {
            let m = m.clone();
            thread::spawn(move || increment(&m))
        };
        increment(&m);
        t.join().unwrap();
        let total = m.try_lock().unwrap().with(|n| {
            // SAFETY: we hold the only guard.
            unsafe { *n }
        });
        assert_eq!(total, 2);
    });
}

#[test]
fn cancelled_locker_does_not_keep_the_lock() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(UnsafeCell::new(0)));
        let held = Arc::clone(&m);
        let guard_thread = thread::spawn(move || increment(&held));
        let canceller = {
            let m = m.clone();
            thread::spawn(move || {
                let mut lock = pin!(m.lock());
                let poll = lock.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                if let Poll::Ready(guard) = poll {
                    // SAFETY: the pointer comes from the cell inside the mutex; we hold the guard.
                    guard.with_mut(|n| unsafe { add_one(n) });
                }
            })
        };
        increment(&m);
        guard_thread.join().unwrap();
        canceller.join().unwrap();
        assert!(!m.locked());
    });
}
