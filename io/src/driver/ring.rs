//! One io_uring instance: set-up with clear errors, batched submission that flushes a full
//! submission queue instead of failing, waiting with a timeout, and draining completions
//! including the kernel's overflow backlog.
//!
//! # Invariants
//!
//! * The ring is created with `IORING_FEAT_NODROP` (checked): when the completion queue is
//!   full the kernel keeps further CQEs in an overflow list instead of dropping them, and sets
//!   `IORING_SQ_CQ_OVERFLOW`. [`Ring::drain`] empties the CQ, then, while that flag is set,
//!   enters the kernel with `GETEVENTS` to move the backlog into the CQ and drains again. So
//!   no completion is ever lost, and the CQ being twice the SQ makes overflow rare.
//! * SQEs are only pushed here ([`Ring::try_push`]) and only submitted by [`Ring::submit`] and
//!   [`Ring::wait`]: everything queued during a scheduler tick goes in one `io_uring_enter`.
//!   A full SQ is the caller's cue to call [`Ring::submit`] and push again.
//! * With deferred task work (`IORING_SETUP_DEFER_TASKRUN`, the default), the kernel posts
//!   completions only inside an enter of the thread that made the ring, and only one carrying
//!   `GETEVENTS`. [`Ring::wait`] always carries it; [`Ring::submit`] adds it when the kernel
//!   flags deferred work (`IORING_SQ_TASKRUN`, see [`Ring::has_deferred`]).
//! * `user_data` with bit 63 set belongs to the driver: [`WAKE`] is the eventfd read,
//!   [`CANCEL`] marks the driver's own `ASYNC_CANCEL` (and probe) entries, whose results are
//!   ignored.

use super::stats::DriverStats;
use std::fmt;
use std::io;
use std::time::Duration;

use io_uring::types::{SubmitArgs, Timespec};
use io_uring::{opcode, squeue, IoUring};

use crate::driver::lifecycle::{Completion, INTERNAL};
use crate::driver::setup_error::{explain, Machine};

/// `user_data` of the armed eventfd read.
pub(crate) const WAKE: u64 = INTERNAL | 1;
/// `user_data` of the driver's cancel requests and of the set-up probe.
pub(crate) const CANCEL: u64 = INTERNAL | 2;

/// The general timeout of a batched wait whose caller gave none: long enough to be "never"
/// (a wait that reaches it returns like a spurious wake-up), short enough for any kernel.
const NO_TIMEOUT: Duration = Duration::from_secs(3600);

/// A batched wait: return once `completions` have arrived or, after `within`, with whatever
/// has (see [`DriverConfig::batch_wait`](crate::DriverConfig::batch_wait)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Batch {
    pub(crate) completions: u32,
    pub(crate) within: Duration,
}

/// An io_uring instance owned by one thread.
pub(crate) struct Ring {
    uring: IoUring,
    stats: DriverStats,
    /// Whether completions are deferred to this thread's enters (`IORING_SETUP_DEFER_TASKRUN`).
    defers: bool,
    /// Whether the kernel flags pending task work (`TASKRUN_FLAG`: with deferred or
    /// cooperative task work).
    flags_taskrun: bool,
}

impl Ring {
    /// Creates a ring of `entries` SQEs (CQ twice as large), with deferred task work if
    /// `defer_taskrun` and the kernel has it, checks the features ringloop relies on, and makes
    /// one round trip through the kernel so that a seccomp filter that only blocks
    /// `io_uring_enter` is reported here, not at the first op.
    pub(crate) fn new(entries: u32, task_work: TaskWork) -> io::Result<Ring> {
        let setup_error = |e| explain(e, "io_uring_setup", entries, Machine::probe());
        let (uring, task_work) = match build(entries, task_work) {
            Ok(uring) => (uring, task_work),
            // Kernels before 6.1 (deferred) or 5.19 (cooperative) refuse these flags with
            // EINVAL: run without them.
            Err(e) if task_work != TaskWork::Plain && e.raw_os_error() == Some(libc::EINVAL) => (
                build(entries, TaskWork::Plain).map_err(setup_error)?,
                TaskWork::Plain,
            ),
            Err(e) => return Err(setup_error(e)),
        };
        let defers = task_work == TaskWork::Deferred;
        let params = uring.params();
        if !params.is_feature_ext_arg() || !params.is_feature_nodrop() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "ringloop: this kernel's io_uring lacks IORING_FEAT_EXT_ARG or \
                 IORING_FEAT_NODROP (added in Linux 5.11 and 5.5). Fix: run on Linux 5.11 or \
                 newer",
            ));
        }
        let mut ring = Ring {
            uring,
            stats: DriverStats::default(),
            defers,
            flags_taskrun: task_work != TaskWork::Plain,
        };
        let probe = opcode::Nop::new().build().user_data(CANCEL);
        // SAFETY: a NOP refers to no memory; the ring is empty so the push cannot fail.
        let pushed = unsafe { ring.try_push(&probe) };
        debug_assert!(pushed);
        ring.uring
            .submit_and_wait(1)
            .map_err(|e| explain(e, "io_uring_enter", entries, Machine::probe()))?;
        let mut sink = Vec::new();
        ring.drain(&mut sink, true)?;
        Ok(ring)
    }

    /// Pushes `entry` on the SQ; `false` if the SQ is full (call [`Ring::submit`] and retry).
    ///
    /// # Safety
    ///
    /// Every buffer, descriptor and structure `entry` points to must stay valid (and, for
    /// buffers the kernel writes, unaliased) until the CQE carrying its `user_data` has been
    /// drained, or until the ring has been dropped after a [`Ring::drain`] that returned it.
    pub(crate) unsafe fn try_push(&mut self, entry: &squeue::Entry) -> bool {
        let mut sq = self.uring.submission();
        // SAFETY: the caller guarantees the entry's pointers outlive its completion.
        unsafe { sq.push(entry) }.is_ok()
    }

    /// Whether the kernel can batch a wait ([`Batch`]): `IORING_FEAT_MIN_TIMEOUT`, Linux 6.12.
    pub(crate) fn can_batch(&self) -> bool {
        self.uring.params().is_feature_min_timeout()
    }

    /// Whether the kernel holds completions that only an enter of this thread posts
    /// (deferred task work, `IORING_SQ_TASKRUN`).
    pub(crate) fn has_deferred(&mut self) -> bool {
        self.flags_taskrun && self.uring.submission().taskrun()
    }

    /// Whether a thread other than the one that made the ring may enter it (submit, or flush
    /// the overflow backlog): not with deferred task work, whose `SINGLE_ISSUER` forbids it.
    pub(crate) fn any_thread_may_enter(&self) -> bool {
        !self.defers
    }

    /// What the ring has that only an enter of its own thread can do, under deferred task
    /// work: how many entries wait to be submitted, and whether deferred completions wait to
    /// be posted or an overflow backlog to be flushed. `None` if any thread may enter.
    pub(crate) fn owner_enter_needed(&mut self) -> Option<(u32, bool)> {
        if !self.defers {
            return None;
        }
        let sq = self.uring.submission();
        Some((sq.len() as u32, sq.taskrun() || sq.cq_overflow()))
    }

    /// The ring's descriptor.
    pub(crate) fn fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.uring)
    }

    /// Whether SQEs are queued and not yet submitted.
    pub(crate) fn has_unsubmitted(&mut self) -> bool {
        !self.uring.submission().is_empty()
    }

    /// Submits the queued SQEs without waiting. `EBUSY`/`EAGAIN` (the kernel wants its
    /// completions reaped first) are returned for the caller to drain and retry.
    pub(crate) fn submit(&mut self) -> io::Result<()> {
        loop {
            self.stats.enters += 1;
            match self.uring.submit() {
                Ok(n) => {
                    self.stats.sqes_submitted += n as u64;
                    return Ok(());
                }
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Submits the queued SQEs and waits for one completion or `timeout`; with `batch`
    /// (only if [`can_batch`](Ring::can_batch)), for `batch.completions` completions, or
    /// for whatever has arrived after `batch.within`, or, if nothing has, for the first.
    ///
    /// A timeout or a signal ends the wait early and is not an error.
    pub(crate) fn wait(
        &mut self,
        timeout: Option<Duration>,
        batch: Option<Batch>,
    ) -> io::Result<()> {
        self.stats.enters += 1;
        // A batched wait needs a general timeout: without one the kernel ends the wait when
        // the minimum wait is over even if nothing completed, and an idle thread would
        // return every `batch.within` (it spun). With one, it goes on waiting for the first
        // completion after the minimum wait, as a wait without a batch does.
        let timeout = match (timeout, batch) {
            (None, Some(_)) => Some(NO_TIMEOUT),
            (timeout, _) => timeout,
        };
        let ts = timeout.map(Timespec::from);
        let result = match (&ts, batch) {
            (None, None) => self.uring.submit_and_wait(1),
            (ts, batch) => {
                let mut args = SubmitArgs::new();
                if let Some(ts) = ts {
                    args = args.timespec(ts);
                }
                let mut want = 1;
                if let Some(batch) = batch {
                    debug_assert!(self.can_batch());
                    self.stats.batched_waits += 1;
                    let micros = u32::try_from(batch.within.as_micros()).unwrap_or(u32::MAX);
                    args = args.min_wait_usec(micros.max(1));
                    want = batch.completions.max(1) as usize;
                }
                self.uring.submitter().submit_with_args(want, &args)
            }
        };
        match result {
            Ok(n) => {
                self.stats.sqes_submitted += n as u64;
                Ok(())
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::ETIME | libc::EINTR)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Moves every available CQE into `out`, including the kernel's overflow backlog if
    /// `may_enter` (flushing the backlog takes an enter, which only the ring's own thread may
    /// make under deferred task work).
    pub(crate) fn drain(
        &mut self,
        out: &mut Vec<(u64, Completion)>,
        may_enter: bool,
    ) -> io::Result<()> {
        loop {
            let mut cq = self.uring.completion();
            self.stats.cqes_reaped += cq.len() as u64;
            for cqe in &mut cq {
                out.push((
                    cqe.user_data(),
                    Completion {
                        result: cqe.result(),
                        flags: cqe.flags(),
                    },
                ));
            }
            drop(cq);
            if !may_enter || !self.uring.submission().cq_overflow() {
                return Ok(());
            }
            // The CQ is empty now; an enter with GETEVENTS (which submit() adds while the
            // overflow flag is set) flushes the backlog into it.
            self.stats.enters += 1;
            match self.uring.submit() {
                Ok(_) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EBUSY)) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// When the kernel runs a ring's completion work (the second half of an op: the receive
/// after the socket woke, which posts the CQE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskWork {
    /// Only inside the owner thread's enters (`DEFER_TASKRUN`, with `SINGLE_ISSUER`).
    Deferred,
    /// At the thread's next kernel entry or interrupt (`COOP_TASKRUN`).
    Cooperative,
    /// At once, interrupting the thread (the kernel's default).
    Plain,
}

/// `io_uring_setup` for [`Ring::new`].
fn build(entries: u32, task_work: TaskWork) -> io::Result<IoUring> {
    let mut builder = IoUring::builder();
    builder
        .setup_cqsize(entries.saturating_mul(2))
        .setup_clamp();
    match task_work {
        // DEFER_TASKRUN requires SINGLE_ISSUER (the ring is only entered by the thread that
        // made it, which `Driver` being `!Send` guarantees; helpers kick it instead);
        // TASKRUN_FLAG makes the kernel say when deferred work is waiting
        // (`IORING_SQ_TASKRUN`).
        TaskWork::Deferred => {
            builder
                .setup_single_issuer()
                .setup_defer_taskrun()
                .setup_taskrun_flag();
        }
        TaskWork::Cooperative => {
            builder.setup_coop_taskrun().setup_taskrun_flag();
        }
        TaskWork::Plain => {}
    }
    builder.build(entries)
}

impl Ring {
    /// What this ring has done so far.
    pub(crate) fn stats(&self) -> DriverStats {
        self.stats
    }
}

impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("sq_entries", &self.uring.params().sq_entries())
            .field("cq_entries", &self.uring.params().cq_entries())
            .field("defers_taskrun", &self.defers)
            .finish()
    }
}
