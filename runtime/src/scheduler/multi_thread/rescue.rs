//! Rescue: idle workers drive the ring and timers of a sibling stuck in a long poll.
//!
//! # The problem
//!
//! Each worker owns an io_uring ring and a timer wheel. An op goes on the ring of the worker
//! that first polls it, a timer on that worker's wheel, and both stay there while their task
//! moves (a stolen task is resumed elsewhere). Only the owner submits, reaps and fires them,
//! between task polls. So while the owner runs one long poll (a CPU-heavy task, a blocking
//! call in a task), every other task's timers and I/O on that worker wait for it, however
//! idle the other workers are: a 100 ms sleep took the 2 s of a blocking poll.
//!
//! # The design
//!
//! A worker whose poll count has not moved for `packing::HELP_AFTER` while it is busy is
//! *stalled*. Its siblings rescue it: they take its driver's lock (which it holds only while
//! it ticks or parks) and do its driver's work for it
//! ([`DriverHandle::help`](ringloop_io::DriverHandle::help)): fire its due timers, dispatch
//! the completions its ring has posted, submit what it queued and the cancels asked of it.
//! The tasks this wakes run on the rescuer. Under deferred task work, only the stalled thread
//! can submit to its ring or post its completions; the rescuer then kicks it with a signal
//! whose handler makes those `io_uring_enter` calls (`ringloop-io`, `driver/kick.rs`), and
//! dispatches what they posted at its next look.
//!
//! Who looks, and when:
//!
//! 1. A worker looks at its siblings before it parks, and every fairness tick while busy.
//! 2. A worker that parks while a sibling is busy parks with a timeout of
//!    [`STALL_CHECK_EVERY`], or until the earliest timer of a stalled sibling it helped,
//!    and looks again when it wakes. A sibling that stays stalled is thus helped every
//!    [`STALL_CHECK_EVERY`] and at each of its timers' deadlines.
//! 3. A worker that parks while no sibling is busy sleeps without a timeout (an idle runtime
//!    costs nothing) and says so ([`Watchers::sleep_unwatched`]). A worker that starts a busy
//!    stretch wakes one such sleeper ([`Watchers::wake_one`]), which then watches with a
//!    timeout for at least [`STALL_CHECK_EVERY`], busy sibling or not: so a sleeper is woken
//!    that way at most once per period, however often its siblings' busy stretches start
//!    (ping-pong between two workers starts thousands a second). The sleeper's "publish,
//!    then check the siblings" and the busy worker's "publish, then check the sleepers" are
//!    separated by sequentially consistent fences, so one of the two always sees the other:
//!    a stalled worker is never left unwatched while another worker sleeps.
//!
//! So a stalled worker's timers fire on time (to within the wheel's and the park's
//! precision), and its I/O completes within [`STALL_CHECK_EVERY`] of arriving plus one signal
//! round trip. A healthy busy runtime pays one timed wake-up per idle worker per
//! [`STALL_CHECK_EVERY`], and one unpark per busy stretch that starts while a worker sleeps
//! unwatched (at most one per [`STALL_CHECK_EVERY`] per sleeper, since a woken sleeper
//! watches with a timeout until no sibling is busy).
//!
//! With one worker there is nobody to rescue it: as in asyncio, a blocking poll blocks
//! everything.

use crate::loom::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// How often a worker looks at a busy sibling while it has nothing else to do.
pub(super) const STALL_CHECK_EVERY: Duration = Duration::from_millis(10);

/// Per worker: whether it sleeps without watching its siblings.
#[derive(Debug, Default)]
pub(super) struct Watchers {
    /// Per worker: parked without a timeout.
    unwatched: Box<[AtomicBool]>,
    /// How many are: lets a worker starting a busy stretch skip the scan.
    count: AtomicUsize,
}

impl Watchers {
    pub(super) fn new(workers: usize) -> Watchers {
        Watchers {
            unwatched: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            count: AtomicUsize::new(0),
        }
    }

    /// Step 3, sleeper: `worker` is about to park without a timeout.
    pub(super) fn sleep_unwatched(&self, worker: usize) {
        self.unwatched[worker].store(true, Ordering::SeqCst);
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    /// `worker` stopped sleeping unwatched (or never started): clears its mark, unless a
    /// busy sibling already did.
    pub(super) fn stop_unwatched(&self, worker: usize) {
        if self.unwatched[worker].swap(false, Ordering::SeqCst) {
            self.count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Step 3, busy worker (after publishing its busy stretch and a `SeqCst` fence): the
    /// worker to wake, if one sleeps unwatched. Its mark is cleared here, so each sleep is
    /// woken at most once.
    pub(super) fn wake_one(&self, me: usize) -> Option<usize> {
        if self.count.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let found = (0..self.unwatched.len())
            .filter(|&w| w != me)
            .find(|&w| self.unwatched[w].swap(false, Ordering::SeqCst))?;
        self.count.fetch_sub(1, Ordering::SeqCst);
        Some(found)
    }
}
