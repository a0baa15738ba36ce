//! A child of a task group: the future the group spawns around the user's (`Child`), and
//! the slot through which its outcome reaches the user's [`GroupTask`](super::GroupTask).
//!
//! The child's task itself returns `()`: its outcome goes to its `Slot`, and a failure to the
//! group, so the group needs no join handle to learn either, and a panic the group has
//! reported is not logged again as "never retrieved" by the runtime.

use super::error::{Failure, FailureKind};
use super::shared::Shared;
use crate::loom::Mutex;
use crate::task::TaskError;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Tells whether an output is a failure of the group, and its message.
pub(super) type Classify<T> = fn(&T) -> Option<String>;

/// Where a child's outcome waits for its `GroupTask`.
pub(super) struct Slot<T> {
    state: Mutex<SlotState<T>>,
}

enum SlotState<T> {
    Running(Option<Waker>),
    Done(Result<T, TaskError>),
    /// The outcome was read; `true` if it was `Cancelled`.
    Taken {
        cancelled: bool,
    },
}

impl<T> Slot<T> {
    pub(super) fn new() -> Slot<T> {
        Slot {
            state: Mutex::new(SlotState::Running(None)),
        }
    }

    /// A slot whose child never ran (the group was closed).
    pub(super) fn cancelled() -> Slot<T> {
        Slot {
            state: Mutex::new(SlotState::Done(Err(TaskError::Cancelled))),
        }
    }

    fn complete(&self, outcome: Result<T, TaskError>) {
        let waker = {
            let mut state = self.state.lock();
            match std::mem::replace(&mut *state, SlotState::Done(outcome)) {
                SlotState::Running(waker) => waker,
                // Completed once only: put the first outcome back.
                previous => {
                    *state = previous;
                    None
                }
            }
        };
        if let Some(waker) = waker {
            // The `GroupTask`'s awaiter: its panic must not keep the child from exiting the
            // group (which would then wait for it forever).
            crate::user_waker::wake(waker, "a task group's task");
        }
    }

    pub(super) fn poll(&self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let mut state = self.state.lock();
        match &mut *state {
            SlotState::Running(waker) => {
                let replaced = match waker {
                    Some(waker) if waker.will_wake(cx.waker()) => None,
                    _ => waker.replace(cx.waker().clone()),
                };
                drop(state);
                // Not under the lock: dropping it runs the waker's code.
                drop(replaced);
                Poll::Pending
            }
            SlotState::Done(_) => {
                let cancelled = matches!(&*state, SlotState::Done(Err(TaskError::Cancelled)));
                match std::mem::replace(&mut *state, SlotState::Taken { cancelled }) {
                    SlotState::Done(outcome) => Poll::Ready(outcome),
                    _ => unreachable!("matched Done above"),
                }
            }
            SlotState::Taken { .. } => panic!("a GroupTask was polled after it completed"),
        }
    }

    pub(super) fn is_done(&self) -> bool {
        !matches!(&*self.state.lock(), SlotState::Running(_))
    }

    pub(super) fn is_cancelled(&self) -> bool {
        matches!(
            &*self.state.lock(),
            SlotState::Done(Err(TaskError::Cancelled)) | SlotState::Taken { cancelled: true }
        )
    }
}

/// The future a group spawns for each of its tasks.
pub(super) struct Child<F: Future> {
    /// The user's future; `None` once it finished. Structurally pinned (dropped in place by
    /// `Pin::set`). It is dropped before `exit` reports the exit, on completion and on
    /// cancellation alike (declared first, so `exit` is still dropped if dropping it
    /// panics): when the group sees its last exit, every child's future and whatever it held
    /// (a lock guard, a socket, a borrowed buffer) is gone.
    future: Option<F>,
    exit: Exit<F::Output>,
    classify: Classify<F::Output>,
}

/// Reports the child's end to its slot and its group, exactly once: on completion, or when
/// dropped before that (cancelled).
struct Exit<T> {
    group: Arc<Shared>,
    id: u64,
    slot: Arc<Slot<T>>,
    done: bool,
}

impl<F: Future> Child<F> {
    pub(super) fn new(
        future: F,
        group: Arc<Shared>,
        id: u64,
        slot: Arc<Slot<F::Output>>,
        classify: Classify<F::Output>,
    ) -> Child<F> {
        Child {
            future: Some(future),
            exit: Exit {
                group,
                id,
                slot,
                done: false,
            },
            classify,
        }
    }
}

impl<F: Future> Future for Child<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: `future` is structurally pinned (never moved out; dropped in place by
        // `Pin::set` or with `self`); `exit` and `classify` are not treated as pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let mut future = unsafe { Pin::new_unchecked(&mut this.future) };
        let Some(running) = future.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let polled = match catch_unwind(AssertUnwindSafe(|| running.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(payload),
        };
        // Drop the user's future before the group hears of this exit (see `future`).
        let dropped = catch_unwind(AssertUnwindSafe(|| future.set(None)));
        let outcome = match (polled, dropped) {
            (Ok(output), Ok(())) => {
                if let Some(message) = (this.classify)(&output) {
                    this.exit.group.fail(failure(FailureKind::Error, message));
                }
                Ok(output)
            }
            // A panic in the poll, or else in dropping the finished future, fails the child.
            (Err(payload), _) | (Ok(_), Err(payload)) => {
                let (error, message) = crate::caught::panicked(payload);
                this.exit
                    .group
                    .fail(failure(FailureKind::Panicked, message));
                Err(error)
            }
        };
        this.exit.finish(outcome);
        Poll::Ready(())
    }
}

/// A failure of the task being polled.
fn failure(kind: FailureKind, message: String) -> Failure {
    let info = crate::current_task().expect("a group's child runs as a task");
    Failure {
        task: info.id,
        name: info.name,
        kind,
        message,
    }
}

impl<T> Exit<T> {
    fn finish(&mut self, outcome: Result<T, TaskError>) {
        self.done = true;
        // The slot first: when the group sees its last exit, every outcome is readable.
        self.slot.complete(outcome);
        self.group.exit(self.id);
    }
}

impl<T> Drop for Exit<T> {
    fn drop(&mut self) {
        if !self.done {
            self.finish(Err(TaskError::Cancelled));
        }
    }
}
