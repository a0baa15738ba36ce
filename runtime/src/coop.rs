//! The cooperative budget: how many times a task may make progress through ringloop's own
//! futures in one poll before they start answering `Pending`, so that a task which is always
//! ready (say, joining tasks that are already finished, in a loop) cannot starve the others
//! on its worker.
//!
//! The scheduler sets the budget before each poll ([`crate::context::enter_task`]); code
//! outside a task is not constrained.

use crate::context;
use std::task::{Context, Poll};

/// Units of progress a task may make per poll.
pub(crate) const BUDGET_PER_POLL: u8 = 128;

/// A unit of budget taken by a leaf future; given back unless the future calls
/// [`made_progress`](Coop::made_progress).
#[must_use]
pub(crate) struct Coop {
    taken: bool,
}

impl Coop {
    pub(crate) fn made_progress(mut self) {
        self.taken = false;
    }
}

impl Drop for Coop {
    fn drop(&mut self) {
        if self.taken {
            context::refund_budget();
        }
    }
}

/// True if the running task has spent its budget: its ringloop futures now answer `Pending`.
/// A combinator polling many children stops there and comes back in its next poll.
pub(crate) fn budget_spent() -> bool {
    context::budget_spent()
}

/// Takes one unit of budget, or, when the task's budget is spent, wakes the task and returns
/// `Pending` so that it goes to the back of the run queue.
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<Coop> {
    match context::take_budget() {
        Some(taken) => Poll::Ready(Coop { taken }),
        None => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}
