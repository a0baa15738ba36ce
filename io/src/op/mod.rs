//! Ops: one io_uring opcode per file, all driven by one future, [`Op`].
//!
//! An opcode file defines a struct holding everything the kernel will touch (the fd handle,
//! the buffer, any address or path) and implements [`Operation`] for it: how to build its
//! SQE, how to turn the CQE into the user's result (handing the buffer back), what to do on
//! submission failure, and what to release if the CQE arrives after the future was dropped
//! (an opened or accepted descriptor is closed). [`Op`] does the rest: submission on first
//! poll to the thread's current driver, completion on whatever thread polls it later, and
//! cancellation on drop. The lifecycle is drawn in [`crate::driver::lifecycle`].
//!
//! Adding an opcode is one new file here and one method on the type that uses it. The
//! socket opcodes (`accept`, `connect`, `recv`, `send`, `recv_msg`, `send_msg`, `shutdown`)
//! are used by [`crate::net`]; `msg` is the message header the two `*_msg` ops share.
//! `poll_add` waits for the signal self-pipe of [`crate::signal`].

pub(crate) mod accept;
pub(crate) mod connect;
mod msg;
pub(crate) mod nop;
pub(crate) mod open;
pub(crate) mod poll_add;
pub(crate) mod read;
pub(crate) mod recv;
pub(crate) mod recv_msg;
pub(crate) mod send;
pub(crate) mod send_msg;
pub(crate) mod shutdown;
pub(crate) mod write;

use std::future::Future;
use std::io;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use io_uring::squeue;

use crate::driver::current;
use crate::driver::lifecycle::{self, Completion, Dropped, OpSlot, Orphan};
use crate::driver::shared::Shared;

/// An io_uring operation: the data the kernel uses, and how to build and finish it.
pub(crate) trait Operation: Send + Sized + 'static {
    /// What the op's future resolves to.
    type Output;

    /// Builds the SQE (its `user_data` is set by the driver).
    ///
    /// # Safety
    ///
    /// The caller must keep `self` alive, and not read or write the memory it lends to the
    /// kernel, until the entry's completion has been reaped. `self` may be moved meanwhile:
    /// implementations only point the kernel at memory that does not move with `self` (heap
    /// allocations `self` owns, per the [`IoBuf`](crate::IoBuf) contract) and at descriptors
    /// `self` keeps open.
    unsafe fn entry(&mut self) -> squeue::Entry;

    /// The CQE arrived and the future is still there: produce its output.
    fn complete(self, completion: Completion) -> Self::Output;

    /// The op could not be submitted (no driver, driver shut down, ring error).
    fn fail(self, error: io::Error) -> Self::Output;

    /// Before the op is submitted, at each poll until it is: an op that reads a stream or a
    /// datagram, or accepts, first takes what ops dropped in flight on the same descriptor
    /// left behind, or waits for those still in flight ([`crate::fd::Leftovers`]).
    fn start(self, cx: &mut Context<'_>) -> Start<Self> {
        let _ = cx;
        Start::Submit(self)
    }

    /// The future is dropped with the op in flight: called before its data goes to the
    /// driver, and followed by exactly one call of [`orphan`](Operation::orphan).
    fn dropped_in_flight(&self) {}

    /// The CQE arrived after the future was dropped: release what the op produced, or keep
    /// it for the descriptor's next op ([`crate::fd::Leftovers`]).
    fn orphan(self, completion: Completion) {
        let _ = completion;
    }
}

/// What [`Operation::start`] decided.
pub(crate) enum Start<T: Operation> {
    /// Done without the kernel: this is the output.
    Ready(T::Output),
    /// An op dropped on the same descriptor is still in flight; the waker is registered.
    Wait(T),
    /// Submit it.
    Submit(T),
}

/// Adapts an [`Operation`] to the slot's type-erased [`Orphan`].
struct Orphaned<T>(T);

impl<T: Operation> Orphan for Orphaned<T> {
    fn complete(self: Box<Self>, completion: Completion) {
        self.0.orphan(completion);
    }
}

/// The future of an op; see the module docs.
pub(crate) struct Op<T: Operation> {
    state: State<T>,
}

enum State<T> {
    /// Not polled yet: nothing in the kernel, nothing to cancel.
    Unsubmitted(T),
    /// In the kernel; `data` is what its SQE points to.
    InFlight {
        data: T,
        slot: Arc<OpSlot>,
        owner: Arc<Shared>,
        user_data: u64,
    },
    /// Completed or failed; the output was returned.
    Done,
}

impl<T: Operation> Op<T> {
    pub(crate) fn new(data: T) -> Op<T> {
        Op {
            state: State::Unsubmitted(data),
        }
    }

    /// Whether the op is in flight on a ring other than the calling thread's current one (or
    /// the thread has none): a future that can start the op afresh where it is polled may
    /// prefer that to waiting on a ring that nobody may be driving.
    pub(crate) fn in_flight_elsewhere(&self) -> bool {
        let State::InFlight { owner, .. } = &self.state else {
            return false;
        };
        !matches!(
            current::with_core(|core| Arc::ptr_eq(core.shared(), owner)),
            Ok(true)
        )
    }
}

// `T` is never pinned: the kernel only sees heap memory `T` owns, which does not move.
impl<T: Operation> Unpin for Op<T> {}

impl<T: Operation> Future for Op<T> {
    type Output = T::Output;

    /// Polling again after `Ready` returns `Pending` forever.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        let this = &mut *self;
        if let State::InFlight { slot, .. } = &this.state {
            // The data stays in `self.state` while the slot is polled: the poll runs user
            // code (the waker's `clone`, the old waker's `Drop`), and if that panics the op
            // must still own its buffer, which the kernel is writing into.
            let lifecycle::Poll::Ready(completion) = slot.poll(cx.waker()) else {
                return Poll::Pending;
            };
            let State::InFlight { data, .. } = mem::replace(&mut this.state, State::Done) else {
                unreachable!("matched above")
            };
            return Poll::Ready(data.complete(completion));
        }
        let State::Unsubmitted(data) = mem::replace(&mut this.state, State::Done) else {
            // Done: the output was returned.
            return Poll::Pending;
        };
        let mut data = match data.start(cx) {
            Start::Ready(output) => return Poll::Ready(output),
            Start::Wait(data) => {
                this.state = State::Unsubmitted(data);
                return Poll::Pending;
            }
            Start::Submit(data) => data,
        };
        // Both before the driver is locked: a waker's `clone` and a buffer's methods (which
        // building the entry calls) are user code.
        let slot = Arc::new(OpSlot::new(cx.waker().clone()));
        // `data` is kept in `State::InFlight` below, or handed to the slot by `Drop`, until
        // the slot's CQE is reaped; nothing reads its buffers meanwhile (`complete` and
        // `orphan` run after the CQE). If the entry is not submitted, `data` is dropped with
        // nothing pointing at it. Nothing between the push and the store of
        // `State::InFlight` can unwind (no user code runs there).
        // SAFETY: so the buffers the entry points to outlive the kernel's use of them.
        let entry = unsafe { data.entry() };
        let submitted = current::with_core(|core| {
            // SAFETY: as above; the slot tracks exactly this entry.
            let user_data = unsafe { core.submit(entry, Arc::clone(&slot)) }?;
            Ok((Arc::clone(core.shared()), user_data))
        })
        .and_then(|r| r);
        match submitted {
            Ok((owner, user_data)) => {
                this.state = State::InFlight {
                    data,
                    slot,
                    owner,
                    user_data,
                };
                Poll::Pending
            }
            // The slot (and the waker in it) is dropped here, outside the driver.
            Err(e) => Poll::Ready(data.fail(e)),
        }
    }
}

impl<T: Operation> Drop for Op<T> {
    fn drop(&mut self) {
        let State::InFlight {
            data,
            slot,
            owner,
            user_data,
        } = mem::replace(&mut self.state, State::Done)
        else {
            return;
        };
        data.dropped_in_flight();
        match slot.transition_to_ignored(Orphaned(data)) {
            Dropped::Completed(Orphaned(data), completion) => data.orphan(completion),
            Dropped::NeedsCancel(old_waker) => {
                // On the owner's thread the cancel joins the next batch; elsewhere it is
                // queued to the owner, which is woken to submit it on its own ring.
                let local = current::with_core(|core| {
                    let local = Arc::ptr_eq(core.shared(), &owner);
                    if local {
                        core.cancel(user_data);
                    }
                    local
                });
                if !matches!(local, Ok(true)) {
                    owner.request_cancel(user_data);
                }
                // Last: its `Drop` is user code, and the data is safe in the slot.
                drop(old_waker);
            }
        }
    }
}

impl<T: Operation> std::fmt::Debug for Op<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Unsubmitted(_) => "Unsubmitted",
            State::InFlight { .. } => "InFlight",
            State::Done => "Done",
        };
        f.debug_struct("Op").field("state", &state).finish()
    }
}
