//! The task's state word: lifecycle bits and the reference count in one `AtomicUsize`.
//!
//! | bit | name            | set while                                                      |
//! |-----|-----------------|----------------------------------------------------------------|
//! | 0   | `RUNNING`       | one thread owns the future (polling it, or cancelling it)       |
//! | 1   | `COMPLETE`      | the future is gone and the output (or error) is stored          |
//! | 2   | `NOTIFIED`      | a [`Runnable`](super::Runnable) for the task exists (queued), or it was woken while running |
//! | 3   | `JOIN_INTEREST` | the [`Task`](super::Task) handle is alive and will read the output |
//! | 4   | `JOIN_WAKER`    | the join waker slot holds a waker, and the *task side* may read it |
//! | 5   | `CANCELLED`     | cancellation was requested; once `COMPLETE`, set iff the outcome is `Cancelled` |
//! | 6.. | ref count       | one per [`Runnable`](super::Runnable), `Task` handle, `Waker`, and the owner list's entry |
//!
//! Who may touch what:
//! - The future/output slot (`stage`) belongs to whoever set `RUNNING` while the task is not
//!   `COMPLETE`. After `COMPLETE` it belongs to the join handle if `JOIN_INTEREST` was set at
//!   completion (the task side dropped it itself otherwise).
//! - The join waker slot belongs to the join handle while `JOIN_WAKER` is clear, and to the
//!   task side (read-only) while it is set. The handle sets the bit after writing the slot; the
//!   task side clears it after completing (and waking). If the handle is already gone, the task
//!   side drops the waker instead.
//!
//! Transitions are the named methods below; each is one compare-and-swap loop (or one
//! `fetch_*`) and returns what the caller must do next. No caller writes bits directly.

use crate::loom::{AtomicUsize, Ordering};
use std::fmt;

const RUNNING: usize = 0b1;
const COMPLETE: usize = 0b10;
const NOTIFIED: usize = 0b100;
const JOIN_INTEREST: usize = 0b1000;
const JOIN_WAKER: usize = 0b1_0000;
const CANCELLED: usize = 0b10_0000;
const LIFECYCLE: usize = RUNNING | COMPLETE;
const REF_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_SHIFT;

/// A new task: queued once, three references (owner list, first `Runnable`, `Task` handle).
const INITIAL: usize = NOTIFIED | JOIN_INTEREST | (3 * REF_ONE);

/// The atomic state word of one task.
pub(crate) struct State(AtomicUsize);

/// A copy of the state word, read at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What the scheduler does with a task it popped from a queue.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// Cancellation was requested: drop the future instead of polling it.
    Cancel,
    /// Someone else owns or finished the task; the queue's reference was released.
    Skip,
    /// As `Skip`, and that was the last reference: free the task.
    SkipDealloc,
}

/// What the scheduler does after a poll returned `Pending`.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Nothing: the task waits for a wake. The `Runnable` reference was released.
    Idle,
    /// As `Idle`, and that was the last reference: free the task.
    IdleDealloc,
    /// Woken while running: queue it again, reusing the `Runnable` reference.
    Reschedule,
    /// Cancelled while running: drop the future now (still `RUNNING`).
    Cancel,
}

/// What a waker does.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToNotified {
    /// Nothing to do (already queued, running, or complete).
    Nothing,
    /// Queue a `Runnable`; one reference was taken (or the waker's was reused) for it.
    Submit,
    /// The waker's reference was the last: free the task.
    Dealloc,
}

/// What a cancellation request does.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToCancelled {
    /// The task had already completed: nothing happens.
    AlreadyComplete,
    /// The flag is set; whoever runs the task next drops the future.
    Requested,
    /// The caller now owns the idle task (`RUNNING` was set for it) and must cancel it.
    CancelNow,
    /// The task was idle: a `Runnable` reference was taken; queue it so its owner cancels it.
    Submit,
}

impl State {
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(INITIAL))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Applies `f` until the compare-and-swap succeeds; `f` returns the new word (or `None` to
    /// leave it unchanged) and the caller's verdict.
    fn update<T>(&self, mut f: impl FnMut(Snapshot) -> (Option<Snapshot>, T)) -> T {
        let mut current = self.load();
        loop {
            let (next, verdict) = f(current);
            let Some(next) = next else { return verdict };
            match self.0.compare_exchange_weak(
                current.0,
                next.0,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return verdict,
                Err(actual) => current = Snapshot(actual),
            }
        }
    }

    /// A queued task is about to run. Consumes `NOTIFIED`; on `Skip*` also the queue's reference.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            debug_assert!(s.is_notified() || s.is_running() || s.is_complete());
            if s.0 & LIFECYCLE != 0 {
                let next = s.ref_dec();
                let verdict = if next.ref_count() == 0 {
                    ToRunning::SkipDealloc
                } else {
                    ToRunning::Skip
                };
                return (Some(next), verdict);
            }
            let next = Snapshot((s.0 | RUNNING) & !NOTIFIED);
            let verdict = if s.is_cancelled() {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (Some(next), verdict)
        })
    }

    /// The poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, ToIdle::Cancel);
            }
            if s.is_notified() {
                // Keep NOTIFIED: the Runnable we hold goes back into a queue.
                return (Some(Snapshot(s.0 & !RUNNING)), ToIdle::Reschedule);
            }
            let next = Snapshot(s.0 & !RUNNING).ref_dec();
            let verdict = if next.ref_count() == 0 {
                ToIdle::IdleDealloc
            } else {
                ToIdle::Idle
            };
            (Some(next), verdict)
        })
    }

    /// The future finished (returned, panicked, or was dropped for cancellation).
    /// `cancelled` says whether the stored outcome is `Cancelled`.
    pub(crate) fn transition_to_complete(&self, cancelled: bool) -> Snapshot {
        self.update(|s| {
            debug_assert!(s.is_running() && !s.is_complete());
            let mut next = (s.0 & !RUNNING) | COMPLETE;
            if !cancelled {
                next &= !CANCELLED;
            } else {
                next |= CANCELLED;
            }
            (Some(Snapshot(next)), Snapshot(next))
        })
    }

    /// After completing and waking the join waker: give the waker slot back to the handle.
    /// Returns the state after the change; if `JOIN_INTEREST` is clear there, the handle is
    /// gone and the caller drops the waker.
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!JOIN_WAKER, Ordering::AcqRel) & !JOIN_WAKER)
    }

    /// `wake_by_ref`: schedule the task unless it is already queued, running or complete.
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() || s.is_notified() {
                (None, ToNotified::Nothing)
            } else if s.is_running() {
                (Some(Snapshot(s.0 | NOTIFIED)), ToNotified::Nothing)
            } else {
                (Some(Snapshot(s.0 | NOTIFIED).ref_inc()), ToNotified::Submit)
            }
        })
    }

    /// `wake` (by value): like [`transition_to_notified_by_ref`](Self::transition_to_notified_by_ref),
    /// consuming the waker's reference (which becomes the `Runnable`'s when one is queued).
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotified {
        self.update(|s| {
            if s.is_complete() || s.is_notified() {
                let next = s.ref_dec();
                let verdict = if next.ref_count() == 0 {
                    ToNotified::Dealloc
                } else {
                    ToNotified::Nothing
                };
                (Some(next), verdict)
            } else if s.is_running() {
                // The running side holds a reference, so this cannot be the last one.
                (
                    Some(Snapshot(s.0 | NOTIFIED).ref_dec()),
                    ToNotified::Nothing,
                )
            } else {
                (Some(Snapshot(s.0 | NOTIFIED)), ToNotified::Submit)
            }
        })
    }

    /// Cancellation of a task that may be cancelled on any thread: an idle task is claimed
    /// (`RUNNING`) so the caller can drop its future at once.
    pub(crate) fn transition_to_cancelled_claim(&self) -> ToCancelled {
        self.update(|s| {
            if s.is_complete() {
                (None, ToCancelled::AlreadyComplete)
            } else if s.is_running() {
                (Some(Snapshot(s.0 | CANCELLED)), ToCancelled::Requested)
            } else {
                (
                    Some(Snapshot(s.0 | CANCELLED | RUNNING)),
                    ToCancelled::CancelNow,
                )
            }
        })
    }

    /// Cancellation of a task that must be dropped on its own thread: flag it, and queue it if
    /// it was idle so that its owner drops it at the next scheduling point.
    pub(crate) fn transition_to_cancelled_schedule(&self) -> ToCancelled {
        self.update(|s| {
            if s.is_complete() {
                (None, ToCancelled::AlreadyComplete)
            } else if s.is_running() || s.is_notified() {
                (Some(Snapshot(s.0 | CANCELLED)), ToCancelled::Requested)
            } else {
                let next = Snapshot(s.0 | CANCELLED | NOTIFIED).ref_inc();
                (Some(next), ToCancelled::Submit)
            }
        })
    }

    /// The join handle is dropped. Returns the state after the change: if it is `COMPLETE`,
    /// the handle must drop the output; if `JOIN_WAKER` is clear in it, the handle owns the
    /// waker slot and must clear it.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> Snapshot {
        self.update(|s| {
            debug_assert!(s.is_join_interested());
            let mut next = s.0 & !JOIN_INTEREST;
            if !s.is_complete() {
                // The task side will never wake the handle now; take the slot back.
                next &= !JOIN_WAKER;
            }
            (Some(Snapshot(next)), Snapshot(next))
        })
    }

    /// The handle has written its waker into the slot: publish it to the task side.
    /// Fails (returning the state) if the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested() && !s.is_join_waker_set());
            if s.is_complete() {
                return (None, Err(s));
            }
            let next = Snapshot(s.0 | JOIN_WAKER);
            (Some(next), Ok(next))
        })
    }

    /// The handle wants to replace its waker: take the slot back from the task side.
    /// Fails (returning the state) if the task completed meanwhile.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.update(|s| {
            debug_assert!(s.is_join_interested());
            if s.is_complete() {
                // The task side may already have woken the waker and given the slot back
                // (`unset_join_waker_after_complete` clears `JOIN_WAKER`), between the
                // handle's load of the state and this update.
                return (None, Err(s));
            }
            debug_assert!(s.is_join_waker_set());
            let next = Snapshot(s.0 & !JOIN_WAKER);
            (Some(next), Ok(next))
        })
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // A count this large means references are leaking; stop before it wraps.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Drops one reference; true if it was the last (the caller frees the task).
    #[must_use]
    pub(crate) fn ref_dec(&self) -> bool {
        self.ref_dec_many(1)
    }

    /// Drops `n` references at once; true if they were the last (the caller frees the task).
    #[must_use]
    pub(crate) fn ref_dec_many(&self, n: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(n * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= n);
        prev.ref_count() == n
    }
}

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
    fn ref_inc(self) -> Snapshot {
        Snapshot(self.0 + REF_ONE)
    }
    fn ref_dec(self) -> Snapshot {
        debug_assert!(self.ref_count() >= 1);
        Snapshot(self.0 - REF_ONE)
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("cancelled", &self.is_cancelled())
            .field("refs", &self.ref_count())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn new_task_is_queued_with_three_references() {
        let s = State::new().load();
        assert!(s.is_notified() && s.is_join_interested() && !s.is_running());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn wake_while_running_reschedules_after_poll() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_notified_by_ref(), ToNotified::Nothing);
        assert_eq!(state.transition_to_idle(), ToIdle::Reschedule);
        assert!(state.load().is_notified());
    }

    #[test]
    fn idle_task_is_submitted_once() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_idle(), ToIdle::Idle);
        assert_eq!(state.transition_to_notified_by_ref(), ToNotified::Submit);
        assert_eq!(state.transition_to_notified_by_ref(), ToNotified::Nothing);
        assert_eq!(state.load().ref_count(), 3);
    }

    #[test]
    fn cancel_of_complete_task_has_no_effect() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        let s = state.transition_to_complete(false);
        assert!(s.is_complete() && !s.is_cancelled());
        assert_eq!(
            state.transition_to_cancelled_claim(),
            ToCancelled::AlreadyComplete
        );
        assert!(!state.load().is_cancelled());
    }

    #[test]
    fn cancel_requested_while_running_is_seen_at_idle() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(
            state.transition_to_cancelled_schedule(),
            ToCancelled::Requested
        );
        assert_eq!(state.transition_to_idle(), ToIdle::Cancel);
    }

    #[test]
    fn completing_with_a_value_clears_a_late_cancel_request() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(
            state.transition_to_cancelled_claim(),
            ToCancelled::Requested
        );
        assert!(!state.transition_to_complete(false).is_cancelled());
    }
}
