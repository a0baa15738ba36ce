//! [`FirstPoll`]: runs a callback right after a future's first poll.
//!
//! `event_broadcast` uses it to know that every waiter has registered with the primitive
//! (a wait future registers on its first poll) before it sets the event, so the figure is
//! the wake-up alone, not the waiters' first polls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls `inner`; after its first poll, whatever it returned, calls `after_first_poll` once.
#[must_use = "futures do nothing unless polled"]
pub struct FirstPoll<F, C> {
    inner: Pin<Box<F>>,
    after_first_poll: Option<C>,
}

impl<F: Future, C: FnOnce()> FirstPoll<F, C> {
    /// Wraps `inner`.
    pub fn new(inner: F, after_first_poll: C) -> Self {
        FirstPoll {
            inner: Box::pin(inner),
            after_first_poll: Some(after_first_poll),
        }
    }
}

impl<F, C> Unpin for FirstPoll<F, C> {}

impl<F: Future, C: FnOnce()> Future for FirstPoll<F, C> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let poll = self.inner.as_mut().poll(cx);
        if let Some(callback) = self.after_first_poll.take() {
            callback();
        }
        poll
    }
}

impl<F, C> fmt::Debug for FirstPoll<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FirstPoll")
            .field("polled", &self.after_first_poll.is_none())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn calls_back_once_after_the_first_poll() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(FirstPoll::new(
            async {
                tokio::task::yield_now().await;
                tokio::task::yield_now().await;
                7
            },
            move || {
                counted.fetch_add(1, Ordering::SeqCst);
            },
        ));
        assert_eq!(out, 7);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
