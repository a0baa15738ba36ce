//! loom model of `Lock`: three contenders, one of which gives up after its first poll.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 cargo test -p ringloop-sync --release
//! --test loom_lock`
#![cfg(loom)]

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use ringloop_sync::Lock;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

#[test]
fn holders_never_overlap_and_a_cancelled_acquire_leaves_it_free() {
    loom::model(|| {
        let lock = Arc::new(Lock::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let critical = |lock: &Lock, inside: &AtomicUsize| {
            let guard = block_on(lock.acquire());
            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
            inside.fetch_sub(1, Ordering::SeqCst);
            drop(guard);
        };
        let t = {
            let (lock, inside) = (lock.clone(), inside.clone());
            thread::spawn(move || critical(&lock, &inside))
        };
        let canceller = {
            let lock = lock.clone();
            thread::spawn(move || {
                let mut acquire = pin!(lock.acquire());
                let poll = acquire
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()));
                if let Poll::Ready(guard) = poll {
                    drop(guard);
                }
            })
        };
        critical(&lock, &inside);
        t.join().unwrap();
        canceller.join().unwrap();
        assert!(!lock.locked());
    });
}
