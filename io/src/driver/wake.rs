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
//!
//! # The armed read
//!
//! The argument above holds only while the eventfd read is armed when the parker blocks. The
//! read completes at most once per arming, so it is re-armed as soon as its completion is
//! reaped ([`read_completed`]), and again before every park if that failed ([`park`], through
//! [`ensure_armed`]): one failed re-arm must not lose every later unpark. A park that finds it
//! cannot arm the read blocks for at most [`UNARMED_PARK_LIMIT`], so an unpark is seen late,
//! never lost. `Core` runs these functions over its ring ([`WakeRing`]);
//! `tests/loom_wake.rs` runs the same functions over a modelled eventfd and ring, under every
//! interleaving, including a failed re-arm and a stale completion.

use std::io;
use std::time::Duration;

use crate::loom::{AtomicU8, Ordering};

/// The longest a park blocks while the wake-up read is not armed (its arming failed): an
/// unpark would go unseen until the park ends.
pub(crate) const UNARMED_PARK_LIMIT: Duration = Duration::from_millis(1);

/// What the park sequence needs of the ring: the driver's core implements it over io_uring,
/// the loom model over a modelled eventfd.
pub(crate) trait WakeRing {
    /// Whether the eventfd read is armed.
    fn wake_armed(&self) -> bool;
    /// Queues the eventfd read (and records it armed); it is submitted by the next enter.
    fn arm_wake(&mut self) -> io::Result<()>;
    /// The read's completion was reaped: record it disarmed.
    fn disarm_wake(&mut self);
    /// Submits what is queued, without waiting.
    fn submit(&mut self) -> io::Result<()>;
    /// Submits what is queued and waits for a completion, at most `timeout`.
    fn submit_and_wait(&mut self, timeout: Option<Duration>) -> io::Result<()>;
    /// A failure to arm the read, for the log (the core is quiet when a helper, not the
    /// owner, could not queue it).
    fn report_unarmed(&self, error: &io::Error);
}

/// Arms the read unless it is armed; returns whether it is.
pub(crate) fn ensure_armed(ring: &mut impl WakeRing) -> bool {
    if ring.wake_armed() {
        return true;
    }
    match ring.arm_wake() {
        Ok(()) => true,
        Err(e) => {
            ring.report_unarmed(&e);
            false
        }
    }
}

/// The read's completion was reaped: re-arm it now, unless the driver is shutting down (a
/// failure is retried by the next [`park`]).
pub(crate) fn read_completed(ring: &mut impl WakeRing, rearm: bool) {
    ring.disarm_wake();
    if rearm {
        ensure_armed(ring);
    }
}

/// The blocking part of a park: arm the read if needed, then steps 1 to 3 of the parker,
/// waiting at most `timeout` (and at most [`UNARMED_PARK_LIMIT`] if the read is not armed).
pub(crate) fn park(
    state: &WakeState,
    ring: &mut impl WakeRing,
    timeout: Option<Duration>,
) -> io::Result<()> {
    let timeout = if ensure_armed(ring) {
        timeout
    } else {
        Some(timeout.map_or(UNARMED_PARK_LIMIT, |t| t.min(UNARMED_PARK_LIMIT)))
    };
    match state.begin_park() {
        Park::Skip => ring.submit(),
        Park::Block => {
            let waited = ring.submit_and_wait(timeout);
            state.end_park();
            waited
        }
    }
}

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
