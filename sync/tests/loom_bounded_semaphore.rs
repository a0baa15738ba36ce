//! loom models of `BoundedSemaphore`: owned permits crossing threads, and `release` racing with
//! guards so that the bound check sees a consistent count.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 cargo test -p ringloop-sync --release
//! --test loom_bounded_semaphore`
#![cfg(loom)]

use loom::future::block_on;
use loom::thread;
use ringloop_sync::BoundedSemaphore;
use std::sync::Arc;

#[test]
fn owned_permit_dropped_on_another_thread() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        let permit = sem.clone().try_acquire_owned().unwrap();
        let dropper = thread::spawn(move || drop(permit));
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || drop(block_on(sem.clone().acquire_owned())))
        };
        dropper.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
        assert!(sem.release(1).is_err());
    });
}

#[test]
fn manual_release_races_with_a_guard_and_never_exceeds_the_bound() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(2));
        sem.try_acquire().unwrap().forget();
        let guard_thread = {
            let sem = sem.clone();
            thread::spawn(move || drop(block_on(sem.acquire())))
        };
        let releaser = {
            let sem = sem.clone();
            // Gives back the forgotten permit; a second release must always fail.
            thread::spawn(move || (sem.release(1).is_ok(), sem.release(1).is_ok()))
        };
        guard_thread.join().unwrap();
        let (first, second) = releaser.join().unwrap();
        assert!(first && !second);
        assert_eq!(sem.available_permits(), 2);
    });
}
