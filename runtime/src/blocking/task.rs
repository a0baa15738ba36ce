//! [`BlockingTask`]: awaiting a blocking call's outcome, and the `Completer` the call's
//! thread reports it through.
//!
//! The two share a slot (one mutex): `Waiting(waker)` → `Done(outcome)` → `Taken`. The
//! completer fills it exactly once — with the call's value, its panic, or `Cancelled` when
//! the job is dropped without running (pool shut down). An `abandoned` flag, set when the
//! `BlockingTask` is dropped, lets a job that has not started skip the call.

use crate::loom::{AtomicBool, Mutex, Ordering};
use crate::task::TaskError;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    state: Mutex<State<T>>,
    abandoned: AtomicBool,
}

enum State<T> {
    Waiting(Option<Waker>),
    Done(Result<T, TaskError>),
    Taken,
}

/// A blocking call running on the runtime's blocking pool (from
/// [`to_thread`](crate::to_thread) or [`Handle::run_in_executor`](crate::Handle::run_in_executor)).
///
/// A call made by `run_in_executor` is submitted at once; one made by `to_thread` when the
/// `BlockingTask` is first polled (like asyncio's coroutine), on that thread's runtime.
/// Awaiting it gives the call's value, `Err(TaskError::Panicked(..))` if it panicked, or
/// `Err(TaskError::Cancelled)` if it never ran because the runtime shut down. Dropping it
/// does not interrupt a call that has started (a thread cannot be stopped from outside);
/// one that has not started yet is skipped.
#[must_use = "a blocking call's outcome is only seen by awaiting its BlockingTask"]
pub struct BlockingTask<T> {
    slot: Arc<Slot<T>>,
    /// The job of a `to_thread` call, submitted to the current runtime's pool at the first
    /// poll.
    unsubmitted: Unsubmitted,
}

/// A job not submitted yet. Only ever touched through `&mut`, so sharing `&BlockingTask`
/// between threads never reaches it.
struct Unsubmitted(Option<super::pool::Job>);

// SAFETY: every access to the `Option<Job>` goes through `&mut Unsubmitted` (see
// `BlockingTask::poll` and `submit_later`); a `&Unsubmitted` gives access to nothing.
unsafe impl Sync for Unsubmitted {}

/// The pool side of a [`BlockingTask`].
struct Completer<T> {
    slot: Arc<Slot<T>>,
    done: bool,
}

/// Wraps `f` into a pool job, and returns the job and the task that awaits it.
pub(super) fn job<F, T>(f: F) -> (super::pool::Job, BlockingTask<T>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(Slot {
        state: Mutex::new(State::Waiting(None)),
        abandoned: AtomicBool::new(false),
    });
    let mut completer = Completer {
        slot: slot.clone(),
        done: false,
    };
    let job = Box::new(move || {
        if completer.slot.abandoned.load(Ordering::Acquire) {
            return; // Nobody waits: skip the call (the completer reports Cancelled).
        }
        let outcome = catch_unwind(AssertUnwindSafe(f)).map_err(|p| crate::caught::panicked(p).0);
        completer.complete(outcome);
    });
    let task = BlockingTask {
        slot,
        unsubmitted: Unsubmitted(None),
    };
    (job, task)
}

/// A task whose job is submitted to the current runtime's pool when it is first polled.
pub(super) fn submit_later<T>(job: super::pool::Job, mut task: BlockingTask<T>) -> BlockingTask<T> {
    task.unsubmitted.0 = Some(job);
    task
}

impl<T> Completer<T> {
    fn complete(&mut self, outcome: Result<T, TaskError>) {
        self.done = true;
        let waker = {
            let mut state = self.slot.state.lock();
            match std::mem::replace(&mut *state, State::Done(outcome)) {
                State::Waiting(waker) => waker,
                State::Done(_) | State::Taken => unreachable!("a blocking call completes once"),
            }
        };
        if let Some(waker) = waker {
            // On the pool thread: report a panic of the awaiting side's waker.
            crate::user_waker::wake(waker, "a blocking call");
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if !self.done {
            self.complete(Err(TaskError::Cancelled));
        }
    }
}

impl<T> BlockingTask<T> {
    /// True once the call has finished (or was cancelled).
    pub fn is_done(&self) -> bool {
        !matches!(&*self.slot.state.lock(), State::Waiting(_))
    }
}

impl<T> Future for BlockingTask<T> {
    type Output = Result<T, TaskError>;

    /// # Panics
    /// If polled again after it returned `Ready`.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(job) = self.unsubmitted.0.take() {
            match crate::Handle::try_current() {
                Some(handle) => super::submit(&handle, job),
                None => panic!("to_thread: {}", crate::spawn::OUTSIDE_RUNTIME),
            }
        }
        let mut state = self.slot.state.lock();
        match &mut *state {
            State::Waiting(waker) => {
                let replaced = match waker {
                    Some(waker) if waker.will_wake(cx.waker()) => None,
                    _ => waker.replace(cx.waker().clone()),
                };
                drop(state);
                // Not under the lock: dropping it runs the waker's code.
                drop(replaced);
                Poll::Pending
            }
            State::Done(_) => match std::mem::replace(&mut *state, State::Taken) {
                State::Done(outcome) => Poll::Ready(outcome),
                _ => unreachable!("matched Done above"),
            },
            State::Taken => panic!("a BlockingTask was polled after it completed"),
        }
    }
}

impl<T> Unpin for BlockingTask<T> {}

impl<T> Drop for BlockingTask<T> {
    fn drop(&mut self) {
        self.slot.abandoned.store(true, Ordering::Release);
    }
}

impl<T> fmt::Debug for BlockingTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingTask")
            .field("done", &self.is_done())
            .finish()
    }
}
