//! A countdown latch: `n` tasks count down, one waiter wakes when the count reaches zero.
//!
//! # Protocol
//!
//! - `remaining` is the only state touched on the hot path: each [`Latch::count_down`]
//!   is one `fetch_sub`.
//! - `waiter` (a mutex) holds the `done` flag and the waiter's [`Waker`].
//!
//! 1. The task whose `fetch_sub` takes `remaining` from 1 to 0 locks `waiter`, sets
//!    `done`, takes the waker, unlocks and wakes it.
//! 2. The waiter's poll returns `Ready` if `remaining` is already 0; otherwise it locks
//!    `waiter`, returns `Ready` if `done` is set, else stores its waker and returns
//!    `Pending`, all under the lock.
//!
//! Both sides test and set under the same lock, so either the waiter sees `done` or the
//! last counter sees the waker: no wake-up is lost.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

/// Counts down from `n`; [`Latch::wait`] completes once it reaches zero.
pub struct Latch {
    remaining: AtomicUsize,
    waiter: Mutex<Waiter>,
}

#[derive(Default)]
struct Waiter {
    done: bool,
    waker: Option<Waker>,
}

impl Latch {
    /// A latch that opens after `n` calls to [`Latch::count_down`] (at once if `n` is 0).
    pub fn new(n: usize) -> Self {
        Latch {
            remaining: AtomicUsize::new(n),
            waiter: Mutex::new(Waiter {
                done: n == 0,
                waker: None,
            }),
        }
    }

    /// Counts one down; the call that reaches zero wakes the waiter.
    ///
    /// # Panics
    ///
    /// If called more than `n` times.
    pub fn count_down(&self) {
        let before = self.remaining.fetch_sub(1, Ordering::AcqRel);
        assert!(
            before > 0,
            "Latch counted down more times than it was created for"
        );
        if before == 1 {
            let waker = {
                let mut waiter = self.waiter.lock();
                waiter.done = true;
                waiter.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// How many counts are still missing.
    pub fn remaining(&self) -> usize {
        self.remaining.load(Ordering::Acquire)
    }

    /// A future that completes once the count has reached zero.
    pub fn wait(&self) -> Wait<'_> {
        Wait { latch: self }
    }
}

impl fmt::Debug for Latch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Latch")
            .field("remaining", &self.remaining())
            .finish()
    }
}

/// The future returned by [`Latch::wait`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Wait<'a> {
    latch: &'a Latch,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.latch.remaining() == 0 {
            return Poll::Ready(());
        }
        let mut waiter = self.latch.waiter.lock();
        if waiter.done {
            return Poll::Ready(());
        }
        match &mut waiter.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn opens_after_n_counts_across_threads() {
        for _ in 0..200 {
            let latch = Arc::new(Latch::new(4));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let latch = latch.clone();
                    thread::spawn(move || latch.count_down())
                })
                .collect();
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(latch.wait());
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(latch.remaining(), 0);
        }
    }

    #[test]
    fn zero_is_open() {
        let latch = Latch::new(0);
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(latch.wait());
    }
}
