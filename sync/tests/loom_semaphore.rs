//! loom models of the semaphore (and so of `Mutex`/`Lock`, which are built on it).
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 cargo test -p ringloop-sync --release
//! --test loom_semaphore`
#![cfg(loom)]

use loom::future::block_on;
use loom::thread;
use ringloop_sync::Semaphore;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Polls a future once with a waker that does nothing.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn contended_acquires_conserve_permits() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || drop(block_on(sem.acquire())))
            })
            .collect();
        drop(block_on(sem.acquire()));
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn dropping_a_waiter_races_with_release() {
    // A waiter is dropped while a release may be handing it the permit; the permit must reach
    // the other waiter or stay free.
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(0));
        let canceller = {
            let sem = sem.clone();
            thread::spawn(move || {
                let mut acquire = pin!(sem.acquire());
                if let Poll::Ready(permit) = poll_once(acquire.as_mut()) {
                    drop(permit);
                }
            })
        };
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release(1))
        };
        // The main thread waits for the one permit; it must get it whatever the order.
        drop(block_on(sem.acquire()));
        canceller.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn big_request_at_the_head_is_not_starved_and_nothing_leaks() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let big = {
            let sem = sem.clone();
            thread::spawn(move || drop(block_on(sem.acquire_many(2))))
        };
        let small = {
            let sem = sem.clone();
            thread::spawn(move || drop(block_on(sem.acquire())))
        };
        sem.release(1);
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn cancelled_big_request_at_the_head_unblocks_the_queue() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let big = {
            let sem = sem.clone();
            thread::spawn(move || {
                let mut acquire = pin!(sem.acquire_many(2));
                assert!(poll_once(acquire.as_mut()).is_pending());
            })
        };
        let small = {
            let sem = sem.clone();
            thread::spawn(move || drop(block_on(sem.acquire())))
        };
        big.join().unwrap();
        small.join().unwrap();
        assert_eq!(sem.available_permits(), 1);
    });
}
