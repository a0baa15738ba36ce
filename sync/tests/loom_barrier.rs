//! loom models of `Barrier`: one leader per round, and a withdrawal racing with the release.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 cargo test -p ringloop-sync --release
//! --test loom_barrier`
#![cfg(loom)]

use loom::future::block_on;
use loom::thread;
use ringloop_sync::Barrier;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

#[test]
fn exactly_one_leader_and_everyone_released() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                thread::spawn(move || block_on(barrier.wait()).is_leader())
            })
            .collect();
        let mut leaders = usize::from(block_on(barrier.wait()).is_leader());
        for t in threads {
            leaders += usize::from(t.join().unwrap());
        }
        assert_eq!(leaders, 1);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn withdrawal_racing_with_release_leaves_a_clean_barrier() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2));
        // Two parties that each poll once and then give up.
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let barrier = barrier.clone();
                thread::spawn(move || {
                    let mut wait = pin!(barrier.wait());
                    let poll = wait.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                    matches!(poll, Poll::Ready(r) if r.is_leader())
                })
            })
            .collect();
        let leaders: usize = threads
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert!(leaders <= 1);
        // Whatever happened, the barrier is empty and a fresh round works.
        assert_eq!(barrier.n_waiting(), 0);
        let other = {
            let barrier = barrier.clone();
            thread::spawn(move || block_on(barrier.wait()).is_leader())
        };
        let me = block_on(barrier.wait()).is_leader();
        assert!(me ^ other.join().unwrap());
    });
}
