//! Test harness shared by the `sync_*` and `stress_*` tests: a hand-polled task with a counting
//! waker, and a thread-per-task `block_on` with a thread-parking waker.
#![allow(dead_code)] // each test binary uses a different subset

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// A waker that counts how often it was woken.
#[derive(Default)]
pub(crate) struct CountingWaker {
    wakes: AtomicUsize,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future polled by hand: `poll()` it, check `wakes()`, drop it whenever the test wants.
pub(crate) struct Task<F: Future> {
    future: Pin<Box<F>>,
    counter: Arc<CountingWaker>,
    waker: Waker,
}

impl<F: Future> Task<F> {
    pub(crate) fn new(future: F) -> Self {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        Task {
            future: Box::pin(future),
            counter,
            waker,
        }
    }

    /// Polls once with this task's counting waker.
    pub(crate) fn poll(&mut self) -> Poll<F::Output> {
        self.future
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    /// Polls and expects `Pending`.
    #[track_caller]
    pub(crate) fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected Pending");
    }

    /// Polls and expects `Ready`, returning the output.
    #[track_caller]
    pub(crate) fn ready(&mut self) -> F::Output {
        match self.poll() {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("expected Ready"),
        }
    }

    /// How many times this task's waker was woken.
    pub(crate) fn wakes(&self) -> usize {
        self.counter.wakes.load(Ordering::SeqCst)
    }

    /// `true` if woken at least once.
    pub(crate) fn woken(&self) -> bool {
        self.wakes() > 0
    }
}

/// Polls `future` once with a waker that does nothing.
pub(crate) fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread, parking between polls.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

/// Iteration counts scale down in debug builds so `cargo test` stays quick.
pub(crate) fn scaled(release: usize) -> usize {
    if cfg!(debug_assertions) {
        (release / 10).max(1)
    } else {
        release
    }
}

/// A tiny xorshift generator: deterministic per seed, no dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// `true` with probability 1/n.
    pub(crate) fn one_in(&mut self, n: u64) -> bool {
        self.next() % n == 0
    }

    /// A number in `1..=max`.
    pub(crate) fn between_1_and(&mut self, max: u64) -> u64 {
        self.next() % max + 1
    }
}

/// Polls `future` once; if it is not ready, drops it (a cancelled wait) and returns `None`.
pub(crate) fn poll_or_cancel<F: Future + Unpin>(mut future: F) -> Option<F::Output> {
    match poll_once(&mut future) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}
