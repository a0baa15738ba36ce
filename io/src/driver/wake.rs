//! The wake-up protocol between a parking driver and the threads that unpark it.
//!
//! A driver parks by blocking in `io_uring_enter` until at least one completion arrives. To be
//! woken from another thread, it keeps a read of its eventfd armed in its own ring: a write of
//! the eventfd completes that read, and the completion ends the wait. A write is a syscall, so
//! it is only made when the driver may really be blocked; this module decides when.
//!
//! # States
//!
//! One atomic byte, [`WakeState`], holds one of three states:
//!
//! * `AWAKE` — the driver thread is running (polling tasks or reaping completions) and no
//!   unpark is pending. An unpark moves it to `NOTIFIED` with no syscall.
//! * `NOTIFIED` — an unpark happened since the driver last left `park`; the next `park` must
//!   not block. Further unparks do nothing.
//! * `PARKED` — the driver is about to block, or is blocked, in `io_uring_enter`. The unpark
//!   that moves it out of this state (to `NOTIFIED`) must write the eventfd; only that one.
//!
//! # Protocol
//!
//! Parker (the driver's own thread), in `Driver::park`:
//!
//! 1. `begin_park`: compare-exchange `AWAKE -> PARKED`. If the state was `NOTIFIED` instead,
//!    store `AWAKE` (consuming the notification) and do not block: [`Park::Skip`].
//! 2. Otherwise ([`Park::Block`]) block in `io_uring_enter` until a completion arrives; the
//!    armed eventfd read is one of the completions that can end the wait.
//! 3. `end_park`: swap the state to `AWAKE`, consuming any notification made while blocked.
//!
//! Unparker (any thread), in `Unparker::unpark`:
//!
//! 1. `unpark`: swap the state to `NOTIFIED`.
//! 2. If the previous state was `PARKED` ([`Unpark::Signal`]), write the eventfd.
//!
//! # Why no wake-up is lost
//!
//! All transitions are read-modify-writes of one atomic, so they are totally ordered. Take an
//! unpark `U` made after some work was published (a task pushed to a queue). Either `U`
//! precedes the parker's step 1, which then finds `NOTIFIED` and does not block; or it follows
//! step 1 and precedes step 3, so it finds `PARKED` and writes the eventfd, whose read
//! completion ends (or prevents) the wait of step 2; or it follows step 3, so the parker is
//! awake and will see `NOTIFIED` at its next park. The swaps are `AcqRel`, so the parker that
//! consumes `NOTIFIED` (step 1 or 3) also sees the work published before `U`.
//!
//! An eventfd write made for a wait that ended for another reason leaves its read completion
//! for a later `park`, which then returns early once: a spurious wake-up, never a lost one.
//! `tests/loom_wake.rs` checks this protocol under every interleaving, including that case.

use crate::loom::{AtomicU8, Ordering};

const AWAKE: u8 = 0;
const NOTIFIED: u8 = 1;
const PARKED: u8 = 2;

/// What the parker must do after [`WakeState::begin_park`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Park {
    /// The state is now `PARKED`: block in the ring, then call [`WakeState::end_park`].
    Block,
    /// An unpark was pending and has been consumed: do not block.
    Skip,
}

/// What the unparker must do after [`WakeState::unpark`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Unpark {
    /// The driver may be blocked: write its eventfd.
    Signal,
    /// The driver is awake or already notified: nothing to do.
    Nothing,
}

/// The awake/notified/parked flag of one driver (see the module docs).
#[derive(Debug)]
pub(crate) struct WakeState {
    state: AtomicU8,
}

impl WakeState {
    /// A driver starts awake: it is running its constructor.
    pub(crate) fn new() -> WakeState {
        WakeState {
            state: AtomicU8::new(AWAKE),
        }
    }

    /// Step 1 of the parker: `AWAKE -> PARKED`, or consume a pending notification.
    pub(crate) fn begin_park(&self) -> Park {
        match self
            .state
            .compare_exchange(AWAKE, PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Park::Block,
            Err(_) => {
                // The only other state a parker can find is NOTIFIED (it is the only thread
                // that stores PARKED). Consume it.
                self.state.swap(AWAKE, Ordering::AcqRel);
                Park::Skip
            }
        }
    }

    /// Step 3 of the parker: back to `AWAKE`, consuming any notification made meanwhile.
    pub(crate) fn end_park(&self) {
        self.state.swap(AWAKE, Ordering::AcqRel);
    }

    /// Steps 1 of the unparker: record the notification and say whether a signal is needed.
    pub(crate) fn unpark(&self) -> Unpark {
        match self.state.swap(NOTIFIED, Ordering::AcqRel) {
            PARKED => Unpark::Signal,
            _ => Unpark::Nothing,
        }
    }
}
