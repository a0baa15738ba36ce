//! Counting harnesses: [`Counters`] hands out drop guards and tracked futures, and checks that
//! each one was dropped exactly once (nothing leaked, nothing dropped twice).
//!
//! Every guard holds a `Box` with a canary value: a double drop is a double free (which the
//! allocator usually catches) and, before that, a canary that is already cleared.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::{self, ThreadId};

const CANARY: u64 = 0x5EED_CAFE_F00D_D00D;

/// Counts creations, drops and polls of the guards and futures it hands out.
#[derive(Clone, Default)]
pub(crate) struct Counters {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    created: AtomicUsize,
    dropped: AtomicUsize,
    double_drops: AtomicUsize,
    polls: AtomicUsize,
    /// Where each guard was dropped, if recording.
    drop_threads: Option<Mutex<Vec<ThreadId>>>,
}

impl Counters {
    pub(crate) fn new() -> Counters {
        Counters::default()
    }

    /// Counters whose guards also record the thread they are dropped on.
    pub(crate) fn recording_threads() -> Counters {
        Counters {
            inner: Arc::new(Inner {
                drop_threads: Some(Mutex::new(Vec::new())),
                ..Inner::default()
            }),
        }
    }

    /// A guard to move into a future: dropping the future drops the guard, which counts.
    pub(crate) fn guard(&self) -> DropGuard {
        self.inner.created.fetch_add(1, Ordering::SeqCst);
        DropGuard {
            counters: self.clone(),
            canary: Box::new(CANARY),
        }
    }

    /// Wraps `future`: counts its polls, and its drop like a guard.
    pub(crate) fn track<F: Future>(&self, future: F) -> Tracked<F> {
        Tracked {
            future: Box::pin(future),
            _guard: self.guard(),
        }
    }

    pub(crate) fn created(&self) -> usize {
        self.inner.created.load(Ordering::SeqCst)
    }

    pub(crate) fn dropped(&self) -> usize {
        self.inner.dropped.load(Ordering::SeqCst)
    }

    pub(crate) fn polls(&self) -> usize {
        self.inner.polls.load(Ordering::SeqCst)
    }

    /// Guards not dropped yet.
    pub(crate) fn live(&self) -> usize {
        self.created() - self.dropped()
    }

    /// The threads guards were dropped on (for `recording_threads` counters).
    pub(crate) fn drop_threads(&self) -> Vec<ThreadId> {
        let threads = self
            .inner
            .drop_threads
            .as_ref()
            .expect("recording_threads() counters");
        threads.lock().unwrap().clone()
    }

    /// Every guard handed out was dropped exactly once.
    #[track_caller]
    pub(crate) fn assert_all_dropped_once(&self) {
        assert_eq!(
            self.inner.double_drops.load(Ordering::SeqCst),
            0,
            "a guard was dropped twice"
        );
        assert_eq!(
            self.dropped(),
            self.created(),
            "{} of {} guards were not dropped (leaked futures)",
            self.live(),
            self.created()
        );
    }
}

/// Counts its drop in its [`Counters`].
pub(crate) struct DropGuard {
    counters: Counters,
    canary: Box<u64>,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        let inner = &self.counters.inner;
        if *self.canary != CANARY {
            inner.double_drops.fetch_add(1, Ordering::SeqCst);
        }
        *self.canary = 0;
        if let Some(threads) = &inner.drop_threads {
            threads.lock().unwrap().push(thread::current().id());
        }
        inner.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that counts its polls and its drop.
pub(crate) struct Tracked<F> {
    future: Pin<Box<F>>,
    _guard: DropGuard,
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self._guard
            .counters
            .inner
            .polls
            .fetch_add(1, Ordering::SeqCst);
        self.future.as_mut().poll(cx)
    }
}
