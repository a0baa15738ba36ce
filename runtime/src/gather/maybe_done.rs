//! [`MaybeDone`]: a future, then its output, for the [`gather!`](crate::gather!) macro.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A child of [`gather!`](crate::gather!): the future while it runs, then its output.
/// Public only for the macro's expansion.
#[doc(hidden)]
#[derive(Debug)]
pub enum MaybeDone<F: Future> {
    /// Still running.
    Running(F),
    /// Finished; the output waits to be taken.
    Done(F::Output),
    /// The output was taken.
    Taken,
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future.
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Running(future)
    }

    /// Polls the future once with `waker`, if it is still running.
    pub fn poll_with(self: Pin<&mut Self>, waker: &Waker) {
        // SAFETY: we never move the future out of the pinned enum: it is polled in place and
        // dropped in place when replaced by its output.
        let this = unsafe { self.get_unchecked_mut() };
        if let MaybeDone::Running(future) = this {
            // SAFETY: `future` is structurally pinned (see above).
            let future = unsafe { Pin::new_unchecked(future) };
            if let Poll::Ready(output) = future.poll(&mut Context::from_waker(waker)) {
                *this = MaybeDone::Done(output);
            }
        }
    }

    /// True once the output is ready.
    pub fn is_done(&self) -> bool {
        !matches!(self, MaybeDone::Running(_))
    }

    /// Takes the output.
    ///
    /// # Panics
    /// If the future has not finished or the output was already taken.
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        // SAFETY: only the `Done` variant is moved out of, and it holds no pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        if !matches!(this, MaybeDone::Done(_)) {
            panic!("gather!: output taken before the future finished, or twice");
        }
        match std::mem::replace(this, MaybeDone::Taken) {
            MaybeDone::Done(output) => output,
            _ => unreachable!("checked above"),
        }
    }
}
