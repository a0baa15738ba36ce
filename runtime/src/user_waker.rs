//! Waking and dropping wakers the runtime did not make, where a panic must not unwind.
//!
//! A waker given to one of our futures (a [`Task`](crate::Task) handle, a
//! [`GroupTask`](crate::GroupTask), a [`FutureCell`](crate::FutureCell), a
//! [`BlockingTask`](crate::BlockingTask), ...) is the awaiting side's code. The runtime
//! wakes it, and drops it, in the middle of its own bookkeeping: completing a task on a
//! worker, counting a task group's child out, finishing a blocking call. A panic in its
//! `wake` or `Drop` must not unwind through that bookkeeping (the worker thread would die,
//! a group would wait for a child forever, the other awaiters would never be woken), so
//! these functions catch it, report it the way the runtime reports other panics nobody can
//! receive (see `crate::report`), and return. They must be called with no lock held: the
//! waker may block, or come back into the structure it waits on.

use crate::task::panic_message;
use std::fmt::Display;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::task::Waker;

/// Wakes `waker`, which waits for `what`; a panic is reported, not propagated.
pub(crate) fn wake(waker: Waker, what: impl Display) {
    guard(|| waker.wake(), "woken", what);
}

/// Wakes `waker` without consuming it; a panic is reported, not propagated.
pub(crate) fn wake_by_ref(waker: &Waker, what: impl Display) {
    guard(|| waker.wake_by_ref(), "woken", what);
}

/// Drops `waker` (if any); a panic in its `Drop` is reported, not propagated.
pub(crate) fn drop_waker(waker: Option<Waker>, what: impl Display) {
    if let Some(waker) = waker {
        guard(move || drop(waker), "dropped", what);
    }
}

fn guard(f: impl FnOnce(), when: &str, what: impl Display) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        crate::report::report!(
            Error,
            "a waker waiting for {what} panicked when {when}: {}",
            panic_message(payload.as_ref())
        );
    }
}
