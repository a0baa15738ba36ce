//! The futures of `put`, `get` and `join`, shared by the three queue kinds.
//!
//! Each one is a thin shell around a [`Phase`] (and, for `put`, the item); the protocol and
//! its cancellation rules are in [`core`](super::core). Dropping any of them at any point loses
//! no item and no wake-up.

use super::core::{Core, Phase};
use super::error::QueueShutDown;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future of `put`: resolves once the item is in the queue, or gives it back in
/// [`QueueShutDown`] if the queue is shut down first.
///
/// Dropped before it resolves, it drops its item (it was never in the queue) and passes any
/// place it had been promised to the next waiting putter.
#[must_use = "futures do nothing unless polled"]
pub struct Put<'a, T> {
    core: &'a Core<T>,
    item: Option<T>,
    phase: Phase,
}

impl<'a, T> Put<'a, T> {
    pub(crate) fn new(core: &'a Core<T>, item: T) -> Self {
        Put {
            core,
            item: Some(item),
            phase: Phase::Init,
        }
    }
}

// The item is only ever moved by value, never pinned, so the future need not pin it.
impl<T> Unpin for Put<'_, T> {}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.core.poll_put(&mut this.item, &mut this.phase, cx)
    }
}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        self.core.cancel_put(&mut self.phase);
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").field("phase", &self.phase).finish()
    }
}

/// The future of `get`: resolves to the next item, or to [`QueueShutDown`] once the queue is
/// shut down and empty.
///
/// Dropped after an item was promised to it, it passes the item to the next getter (or leaves
/// it in the queue).
#[must_use = "futures do nothing unless polled"]
pub struct Get<'a, T> {
    core: &'a Core<T>,
    phase: Phase,
}

impl<'a, T> Get<'a, T> {
    pub(crate) fn new(core: &'a Core<T>) -> Self {
        Get {
            core,
            phase: Phase::Init,
        }
    }
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.core.poll_get(&mut this.phase, cx)
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        self.core.cancel_get(&mut self.phase);
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").field("phase", &self.phase).finish()
    }
}

/// The future of `join`: resolves once every item put so far has been marked done with
/// `task_done` (or dropped by an immediate shutdown).
#[must_use = "futures do nothing unless polled"]
pub struct Join<'a, T> {
    core: &'a Core<T>,
    phase: Phase,
}

impl<'a, T> Join<'a, T> {
    pub(crate) fn new(core: &'a Core<T>) -> Self {
        Join {
            core,
            phase: Phase::Init,
        }
    }
}

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.core.poll_join(&mut this.phase, cx)
    }
}

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        self.core.cancel_join(&mut self.phase);
    }
}

impl<T> fmt::Debug for Join<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").field("phase", &self.phase).finish()
    }
}
