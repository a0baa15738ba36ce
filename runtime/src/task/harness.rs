//! What happens to a task: it is run, completes, is cancelled, is joined, and is freed.
//!
//! Each function here is one entry of a task's [`Vtable`], instantiated for its future type `F`
//! and scheduler type `S`. The state transitions they rely on are in `state.rs`.
//!
//! Lifecycle of the future slot:
//!
//! ```text
//!             run: Poll ─────────► Pending ──► idle (waits for a wake) ──┐
//!   spawn ──► queued ◄──────────────────────── woken (Runnable queued) ◄─┘
//!               │  run: Ready / panic          cancel (idle: claimed, or queued to its owner)
//!               ▼                                   │
//!           Finished(output) ◄──────────────────────┘ Finished(Err(Cancelled))
//!               │ join handle reads it, or the task side drops it if the handle is gone
//!               ▼
//!            Consumed ──► freed when the last reference goes
//! ```

use super::error::{panic_message, PanicPayload, TaskError};
use super::raw::{Cell, Header, Stage, Vtable};
use super::state::{Snapshot, ToCancelled, ToIdle, ToNotified, ToRunning};
use super::{waker, Runnable, Schedule};
use crate::{context, user_waker};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

struct VtableOf<F, S>(PhantomData<(F, S)>);

impl<F: Future + 'static, S: Schedule> VtableOf<F, S> {
    const VTABLE: Vtable = Vtable {
        run: run::<F, S>,
        schedule: schedule::<F, S>,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        cancel: cancel::<F, S>,
        can_drop_here: can_drop_here::<F, S>,
        shutdown: shutdown::<F, S>,
    };
}

/// The vtable of tasks with future `F` on scheduler `S`.
pub(crate) fn vtable<F: Future + 'static, S: Schedule>() -> &'static Vtable {
    &VtableOf::<F, S>::VTABLE
}

/// # Safety
/// `ptr` must point to a live `Cell<F, S>`.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: the caller guarantees the cell is alive and of this type; `Cell` is `repr(C)`
    // with the header first, so the header pointer is the cell pointer.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

/// Vtable `run`: the scheduler popped the task's `Runnable`.
unsafe fn run<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the Runnable reference the caller gives up keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_running() {
        ToRunning::Poll => {}
        ToRunning::Cancel => return cancel_and_complete(cell, 1),
        ToRunning::Skip => return,
        // SAFETY: that was the last reference.
        ToRunning::SkipDealloc => return unsafe { dealloc::<F, S>(ptr) },
    }

    // SAFETY: the waker borrows the Runnable reference we hold for the whole poll.
    let waker = unsafe { waker::borrowed(ptr) };
    let mut cx = Context::from_waker(&waker);
    let polled = {
        let _current = context::enter_task(ptr);
        catch_unwind(AssertUnwindSafe(|| {
            cell.stage.with_mut(|stage| {
                // SAFETY: RUNNING is ours, so we own the stage.
                let stage = unsafe { &mut *stage };
                let Stage::Running(future) = stage else {
                    unreachable!("a task that is not complete holds its future")
                };
                // SAFETY: the future never moves: the cell is heap-allocated and the future
                // is dropped in place before the cell is freed.
                let future = unsafe { Pin::new_unchecked(future) };
                future.poll(&mut cx)
            })
        }))
    };
    match polled {
        Ok(Poll::Ready(output)) => finish(cell, Ok(output), 1),
        Err(payload) => finish(
            cell,
            Err(TaskError::Panicked(PanicPayload::new(payload))),
            1,
        ),
        Ok(Poll::Pending) => match cell.header.state.transition_to_idle() {
            ToIdle::Idle => {}
            // SAFETY: that was the last reference.
            ToIdle::IdleDealloc => unsafe { dealloc::<F, S>(ptr) },
            ToIdle::Reschedule => cell.scheduler.reschedule(Runnable::from_raw(ptr)),
            ToIdle::Cancel => cancel_and_complete(cell, 1),
        },
    }
}

/// Drops the future of a task whose `RUNNING` bit the caller holds, and completes it as
/// cancelled. `refs` is how many references the caller gives up.
fn cancel_and_complete<F: Future + 'static, S: Schedule>(cell: &Cell<F, S>, refs: usize) {
    finish(cell, Err(TaskError::Cancelled), refs);
}

/// Stores the outcome (dropping the future first), marks the task complete, hands the output
/// to the join handle (or drops it), removes the task from its owner list, and gives up
/// `refs` references plus the list's.
fn finish<F: Future + 'static, S: Schedule>(
    cell: &Cell<F, S>,
    outcome: Result<F::Output, TaskError>,
    refs: usize,
) {
    let cancelled = matches!(outcome, Err(TaskError::Cancelled));
    // Dropping the future runs user code, which may panic: that panic becomes the outcome
    // unless the task already has one.
    let outcome = match catch_unwind(AssertUnwindSafe(|| set_stage(cell, Stage::Consumed))) {
        Ok(()) => outcome,
        Err(payload) if cancelled => Err(TaskError::Panicked(PanicPayload::new(payload))),
        Err(payload) => {
            report_lost_panic(
                &cell.header,
                panic_message(payload.as_ref()),
                "while dropping its future",
            );
            outcome
        }
    };
    let cancelled = matches!(outcome, Err(TaskError::Cancelled));
    set_stage(cell, Stage::Finished(outcome));

    let snapshot = cell.header.state.transition_to_complete(cancelled);
    cell.header.callbacks.fire(&cell.header);
    if !snapshot.is_join_interested() {
        // Nobody will read the output: drop it here, on the task's own thread.
        drop_output(cell);
    } else if snapshot.is_join_waker_set() {
        cell.join_waker.with(|slot| {
            // SAFETY: JOIN_WAKER is set, so the slot is readable by the task side, and the
            // handle does not write it until the bit is cleared below.
            if let Some(waker) = unsafe { &*slot } {
                // The awaiting side's code: a panic is reported, and the bookkeeping below
                // (and the worker running it) goes on.
                user_waker::wake_by_ref(waker, TaskLabel(&cell.header));
            }
        });
        let after = cell.header.state.unset_join_waker_after_complete();
        if !after.is_join_interested() {
            // SAFETY: the handle is gone and JOIN_WAKER is clear: the slot is ours to clear.
            // `take` cannot unwind; the waker is dropped after it, outside the slot.
            let waker = cell.join_waker.with_mut(|slot| unsafe { (*slot).take() });
            user_waker::drop_waker(waker, TaskLabel(&cell.header));
        }
    }

    let released = cell
        .scheduler
        .release(super::RawTask::from_header(header_ptr(cell)));
    let refs = refs + usize::from(released);
    if refs > 0 && cell.header.state.ref_dec_many(refs) {
        // SAFETY: those were the last references.
        unsafe { dealloc::<F, S>(header_ptr(cell)) };
    }
}

fn header_ptr<F: Future, S>(cell: &Cell<F, S>) -> NonNull<Header> {
    NonNull::from(&cell.header)
}

/// "task Task-7 (name)", for reports about a task's join waker.
struct TaskLabel<'a>(&'a Header);

impl fmt::Display for TaskLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.0.name.as_deref().unwrap_or("unnamed");
        write!(f, "task {} ({name})", self.0.id)
    }
}

/// Replaces the stage, dropping what was there.
fn set_stage<F: Future, S>(cell: &Cell<F, S>, stage: Stage<F>) {
    // SAFETY: only called by the owner of the stage (RUNNING holder before completion).
    cell.stage.with_mut(|slot| unsafe { *slot = stage });
}

/// Takes the outcome out of a completed task's stage; `None` if it was already taken.
fn take_output<F: Future, S>(cell: &Cell<F, S>) -> Option<Result<F::Output, TaskError>> {
    // SAFETY: only called by the owner of a completed task's stage (see `state.rs`).
    let stage = cell
        .stage
        .with_mut(|slot| unsafe { std::ptr::replace(slot, Stage::Consumed) });
    match stage {
        Stage::Finished(outcome) => Some(outcome),
        Stage::Consumed => None,
        Stage::Running(_) => unreachable!("a completed task holds no future"),
    }
}

/// Drops a completed task's output if nobody took it, reporting a panic nobody saw.
fn drop_output<F: Future, S>(cell: &Cell<F, S>) {
    match take_output(cell) {
        None => {}
        Some(Err(TaskError::Panicked(payload))) => report_lost_panic(
            &cell.header,
            payload.message(),
            "and its result was never retrieved",
        ),
        Some(outcome) => {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(outcome))) {
                report_lost_panic(
                    &cell.header,
                    panic_message(payload.as_ref()),
                    "while dropping its output",
                );
            }
        }
    }
}

/// asyncio's "Task exception was never retrieved", through `log` or on stderr (see
/// `crate::report`).
fn report_lost_panic(header: &Header, message: &str, when: &str) {
    crate::report::report!(
        Error,
        "task {} ({}) panicked {}: {}",
        header.id,
        header.name.as_deref().unwrap_or("unnamed"),
        when,
        message
    );
}

/// Vtable `schedule`: a waker queues the task.
unsafe fn schedule<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller gives us the reference the Runnable will hold, keeping the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    cell.scheduler.schedule(Runnable::from_raw(ptr));
}

/// Vtable `dealloc`.
unsafe fn dealloc<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: the reference count is zero, so we are the only user; the cell was allocated
    // by `RawTask::new` as a `Box<Cell<F, S>>`. If anything below unwinds, the box frees the
    // cell on the way out.
    let cell = unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) };
    // A join waker still here (the handle was dropped while the task side owned the slot) is
    // the awaiting side's: drop it where its panic is caught.
    // SAFETY: we are the only user of the cell (see above).
    let waker = cell.join_waker.with_mut(|slot| unsafe { (*slot).take() });
    user_waker::drop_waker(waker, TaskLabel(&cell.header));
    drop(cell);
}

/// Vtable `try_read_output`.
unsafe fn try_read_output<F: Future, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker) {
    // SAFETY: the join handle's reference keeps the cell alive.
    let cell = unsafe { cell::<F, S>(ptr) };
    if can_read_output(cell, waker) {
        let dst = dst.cast::<Poll<Result<F::Output, TaskError>>>();
        // The task is complete with join interest: its output is the handle's.
        let output =
            take_output(cell).expect("a Task was polled again after it returned its output");
        // SAFETY: the caller passes a valid `*mut Poll<Result<F::Output, TaskError>>`.
        unsafe { *dst = Poll::Ready(output) };
    }
}

/// The join waker protocol (see `state.rs`): true if the task is complete; otherwise makes
/// sure `waker` is the one woken on completion.
fn can_read_output<F: Future, S>(cell: &Cell<F, S>, waker: &Waker) -> bool {
    let state = &cell.header.state;
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    if snapshot.is_join_waker_set() {
        let same = cell.join_waker.with(|slot| {
            // SAFETY: JOIN_WAKER is set: the slot is shared read-only.
            let slot = unsafe { &*slot };
            slot.as_ref().is_some_and(|w| w.will_wake(waker))
        });
        if same {
            return false;
        }
        if state.unset_join_waker().is_err() {
            return true;
        }
    }
    set_join_waker(cell, waker.clone(), state)
}

fn set_join_waker<F: Future, S>(
    cell: &Cell<F, S>,
    waker: Waker,
    state: &super::state::State,
) -> bool {
    // `replace` cannot unwind; the waker it replaces is dropped once the protocol step is done.
    let previous = cell.join_waker.with_mut(|slot| {
        // SAFETY: JOIN_WAKER is clear and we are the join handle: the slot is ours.
        unsafe { (*slot).replace(waker) }
    });
    let (complete, unused) = match state.set_join_waker() {
        Ok(_) => (false, None),
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            // SAFETY: the bit stayed clear, so the slot is still ours.
            (
                true,
                cell.join_waker.with_mut(|slot| unsafe { (*slot).take() }),
            )
        }
    };
    user_waker::drop_waker(previous, TaskLabel(&cell.header));
    user_waker::drop_waker(unused, TaskLabel(&cell.header));
    complete
}

/// Vtable `drop_join_handle`.
unsafe fn drop_join_handle<F: Future, S>(ptr: NonNull<Header>) {
    // SAFETY: the join handle's reference keeps the cell alive until the end.
    let cell = unsafe { cell::<F, S>(ptr) };
    let snapshot: Snapshot = cell.header.state.transition_to_join_handle_dropped();
    if snapshot.is_complete() {
        // The output is ours to drop, here on the handle's thread (the handle is `Send` only
        // if the output is).
        drop_output(cell);
    }
    if !snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER is clear: the handle owns the slot. `take` cannot unwind, and
        // the waker's drop is caught, so the reference below is always given up.
        let waker = cell.join_waker.with_mut(|slot| unsafe { (*slot).take() });
        user_waker::drop_waker(waker, TaskLabel(&cell.header));
    }
    if cell.header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// Vtable `cancel`.
unsafe fn cancel<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller (a join handle) holds a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    let transition = if cell.scheduler.can_drop_here() {
        cell.header.state.transition_to_cancelled_claim()
    } else {
        cell.header.state.transition_to_cancelled_schedule()
    };
    match transition {
        ToCancelled::AlreadyComplete => false,
        ToCancelled::Requested => true,
        ToCancelled::CancelNow => {
            cancel_and_complete(cell, 0);
            true
        }
        ToCancelled::Submit => {
            cell.scheduler.schedule(Runnable::from_raw(ptr));
            true
        }
    }
}

/// Vtable `can_drop_here`.
unsafe fn can_drop_here<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller holds a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    cell.scheduler.can_drop_here()
}

/// Vtable `shutdown`.
unsafe fn shutdown<F: Future + 'static, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller gives up a reference, which keeps the cell alive until we drop it.
    let cell = unsafe { cell::<F, S>(ptr) };
    match cell.header.state.transition_to_cancelled_claim() {
        ToCancelled::CancelNow => cancel_and_complete(cell, 1),
        _ => super::RawTask::from_header(ptr).drop_reference(),
    }
}

/// Used by wakers: `wake_by_ref` and `wake`.
pub(crate) fn wake_by_ref(ptr: NonNull<Header>) {
    // SAFETY: the waker holds (or borrows) a reference.
    let header = unsafe { ptr.as_ref() };
    if header.state.transition_to_notified_by_ref() == ToNotified::Submit {
        // SAFETY: the transition took a reference for the Runnable.
        unsafe { (header.vtable.schedule)(ptr) };
    }
}

pub(crate) fn wake_by_val(ptr: NonNull<Header>) {
    // SAFETY: the waker's reference keeps the cell alive until it is given up here.
    let header = unsafe { ptr.as_ref() };
    match header.state.transition_to_notified_by_val() {
        ToNotified::Nothing => {}
        // SAFETY: the waker's reference became the Runnable's.
        ToNotified::Submit => unsafe { (header.vtable.schedule)(ptr) },
        // SAFETY: that was the last reference.
        ToNotified::Dealloc => unsafe { (header.vtable.dealloc)(ptr) },
    }
}
