//! The thread-local half of a driver: ring, op table, timer wheel.
//!
//! `Core` lives in an `Rc<RefCell<_>>` shared by the [`Driver`](crate::Driver) and the
//! thread's current-driver slot. Nothing user-visible runs while it is borrowed: wakers to
//! wake and orphaned op data to release are collected in [`Ready`] and handled by the caller
//! after the borrow ends, so a waker or a buffer's `Drop` may freely touch the driver again.
//!
//! # Park and poll
//!
//! Both first queue cancel requests from other threads, then submit everything queued in
//! one `io_uring_enter` (park waits in that same call), reap all completions, and fire due
//! timers. Park blocks only through the wake-up protocol of [`super::wake`], with a timeout
//! of `min(caller's timeout, next timer deadline)`.
//!
//! # Batched parks
//!
//! A park with at least [`BATCH_MIN_IN_FLIGHT`] ops in flight asks the kernel for
//! [`BATCH_COMPLETIONS`] completions within the configured batch wait
//! ([`DriverConfig::batch_wait`]): it returns when they have all arrived or, once the batch
//! wait is over, with whatever has. If nothing
//! arrived by then, it waits for the first completion as an ordinary park does. So a
//! completion is held back only if it comes within the batch wait of the park's start, and
//! for at most the rest of it: a stream of completions is gathered into fewer, larger
//! batches, while a lone request arriving at an idle thread is seen at once. A park with
//! fewer ops in flight (one quiet connection has one or two) never batches, nor does a park
//! whose timeout (the next timer) is due within the batch wait, so timers are not made
//! later.
//!
//! # Deferred task work
//!
//! By default the ring is made with `IORING_SETUP_DEFER_TASKRUN` ([`Ring::new`]): the kernel
//! neither interrupts this thread to post a completion nor wakes a batched park before its
//! batch is there; completions are posted inside this thread's own enters. So `poll`
//! enters when the kernel flags deferred work even if nothing is queued, and `reap_posted`
//! only finds what an earlier enter posted: a thread that runs dry goes on to `park`, whose
//! one enter submits, posts and, if nothing was there, waits.

use std::io;
use std::mem;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use io_uring::{opcode, squeue, types};

use crate::driver::lifecycle::{Completion, OpSlot, OpTable, Orphan, Reaped, INTERNAL};
use crate::driver::ring::{Batch, Ring, CANCEL, WAKE};
use crate::driver::shared::Shared;
use crate::driver::wake::Park;
use crate::time::entry::TimerEntry;
use crate::time::wheel::Wheel;
use crate::DriverConfig;

/// A park batches only with at least this many ops in flight: a thread serving many
/// connections, not one or two.
pub(crate) const BATCH_MIN_IN_FLIGHT: usize = 16;

/// How many completions a batched park waits for before its batch wait is over. More than
/// [`BATCH_MIN_IN_FLIGHT`]: on a ring with fewer ops in flight the park simply lasts the
/// whole batch wait, which is what gathers a batch at this load (32 and 20 µs measured fewer
/// enters than 16 and 10 µs at equal msg/s; DESIGN.md, "Batched parks").
pub(crate) const BATCH_COMPLETIONS: u32 = 32;

/// Work collected while the core was borrowed, to run once it is released.
#[derive(Default)]
pub(crate) struct Ready {
    wakers: Vec<Waker>,
    orphans: Vec<(Box<dyn Orphan>, Completion)>,
}

impl Ready {
    /// Wakes the wakers and releases the orphans. Call with the core released.
    pub(crate) fn run(self) {
        for (orphan, completion) in self.orphans {
            orphan.complete(completion);
        }
        for waker in self.wakers {
            waker.wake();
        }
    }

    fn is_empty(&self) -> bool {
        self.wakers.is_empty() && self.orphans.is_empty()
    }
}

/// The thread-local state of a driver; see the module docs.
pub(crate) struct Core {
    ring: Ring,
    ops: OpTable,
    timers: Wheel,
    shared: Arc<Shared>,
    /// Where the kernel writes the eventfd counter; read only through the kernel.
    wake_buf: Box<u64>,
    wake_armed: bool,
    cqes: Vec<(u64, Completion)>,
    cancels: Vec<u64>,
    ready: Ready,
    shut_down: bool,
    /// The configured batch wait, or zero if it is off or the kernel cannot batch.
    batch_wait: Duration,
}

impl Core {
    pub(crate) fn new(config: &DriverConfig) -> io::Result<Core> {
        let ring = Ring::new(config.get_entries(), config.get_defer_taskrun())?;
        let batch_wait = if ring.can_batch() {
            config.get_batch_wait()
        } else {
            Duration::ZERO
        };
        let shared = Arc::new(Shared::new()?);
        let mut core = Core {
            ring,
            ops: OpTable::default(),
            timers: Wheel::new(Instant::now()),
            shared,
            wake_buf: Box::new(0),
            wake_armed: false,
            cqes: Vec::new(),
            cancels: Vec::new(),
            ready: Ready::default(),
            shut_down: false,
            batch_wait,
        };
        core.arm_wake()?;
        core.ring.submit()?;
        Ok(core)
    }

    pub(crate) fn stats(&self) -> super::stats::DriverStats {
        self.ring.stats()
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Whether [`shutdown`](Core::shutdown) ran: new ops and timers are refused.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    pub(crate) fn take_ready(&mut self) -> Ready {
        mem::take(&mut self.ready)
    }

    /// Pushes `entry`, flushing a full SQ (and reaping, if the kernel asks) until it fits.
    ///
    /// # Safety
    ///
    /// As [`Ring::try_push`]: what `entry` points to outlives its completion.
    unsafe fn push(&mut self, entry: &squeue::Entry) -> io::Result<()> {
        loop {
            // SAFETY: forwarded from the caller.
            if unsafe { self.ring.try_push(entry) } {
                return Ok(());
            }
            match self.ring.submit() {
                Ok(()) => {}
                Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EAGAIN)) => {
                    self.reap()?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn arm_wake(&mut self) -> io::Result<()> {
        let fd = types::Fd(std::os::fd::AsRawFd::as_raw_fd(self.shared.eventfd()));
        let buf: *mut u64 = &mut *self.wake_buf;
        let entry = opcode::Read::new(fd, buf.cast(), 8).build().user_data(WAKE);
        // SAFETY: the eventfd is owned by `shared` and `wake_buf` by `self`; `shutdown` (run
        // before either is dropped) cancels this read and waits for its CQE (`wake_armed`).
        unsafe { self.push(&entry)? };
        self.wake_armed = true;
        Ok(())
    }

    /// Submits an op's `entry`, tracked by `slot`; returns the op's `user_data`.
    ///
    /// # Safety
    ///
    /// What `entry` points to must stay valid until `slot` leaves the in-flight states (its
    /// CQE reaped), which the `Op` future guarantees by keeping its data, or handing it to the
    /// slot, until then.
    pub(crate) unsafe fn submit(
        &mut self,
        entry: squeue::Entry,
        slot: Arc<OpSlot>,
    ) -> io::Result<u64> {
        if self.shut_down {
            return Err(shut_down_error());
        }
        let user_data = self.ops.insert(slot);
        let entry = entry.user_data(user_data);
        // SAFETY: forwarded from the caller.
        match unsafe { self.push(&entry) } {
            Ok(()) => Ok(user_data),
            Err(e) => {
                let _ = self.ops.remove(user_data);
                Err(e)
            }
        }
    }

    /// Queues an `ASYNC_CANCEL` of the op with `user_data` (owner thread).
    pub(crate) fn cancel(&mut self, user_data: u64) {
        let entry = opcode::AsyncCancel::new(user_data)
            .build()
            .user_data(CANCEL);
        // SAFETY: a cancel request refers to no memory.
        if let Err(e) = unsafe { self.push(&entry) } {
            // The op then completes normally; its data is released at that point.
            log::warn!("ringloop: could not queue a cancel: {e}");
        }
    }

    /// Registers a timer on this driver's wheel.
    pub(crate) fn insert_timer(&mut self, deadline: Instant) -> io::Result<Arc<TimerEntry>> {
        if self.shut_down {
            return Err(shut_down_error());
        }
        Ok(self.timers.insert(deadline))
    }

    /// One scheduler tick without blocking.
    pub(crate) fn poll(&mut self) -> io::Result<()> {
        self.before_enter();
        self.submit_or_reap()?;
        self.after_enter()
    }

    /// Dispatches the completions already posted and fires due timers without entering the
    /// kernel; queued entries (and cancel requests) wait for the next `poll` or `park`, and
    /// so do deferred completions (module docs).
    pub(crate) fn reap_posted(&mut self) -> io::Result<()> {
        self.before_enter();
        self.after_enter()
    }

    /// Blocks until a completion, an unpark, the next timer or `timeout`.
    pub(crate) fn park(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        if self.shut_down {
            // The eventfd read is no longer armed: blocking could never be ended by an unpark.
            return Err(shut_down_error());
        }
        self.before_enter();
        let now = Instant::now();
        let timer = self
            .timers
            .next_deadline()
            .map(|deadline| deadline.saturating_duration_since(now));
        let timeout = match (timeout, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if timeout == Some(Duration::ZERO) || !self.ready.is_empty() {
            self.submit_or_reap()?;
            return self.after_enter();
        }
        let wake = Arc::clone(&self.shared);
        match wake.wake().begin_park() {
            Park::Skip => self.submit_or_reap()?,
            Park::Block => {
                let batch = self.batch_for(timeout);
                let waited = self.ring.wait(timeout, batch);
                wake.wake().end_park();
                if let Err(e) = waited {
                    if !matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EAGAIN)) {
                        return Err(e);
                    }
                }
            }
        }
        self.after_enter()
    }

    /// The batch a blocking park with `timeout` waits for, if it batches (module docs).
    fn batch_for(&self, timeout: Option<Duration>) -> Option<Batch> {
        let busy = self.ops.len() >= BATCH_MIN_IN_FLIGHT;
        let timer_due_first = timeout.is_some_and(|timeout| timeout <= self.batch_wait);
        if self.batch_wait.is_zero() || !busy || timer_due_first {
            return None;
        }
        Some(Batch {
            completions: BATCH_COMPLETIONS,
            within: self.batch_wait,
        })
    }

    fn submit_or_reap(&mut self) -> io::Result<()> {
        if !self.ring.has_unsubmitted() && !self.ring.has_deferred() {
            return Ok(());
        }
        match self.ring.submit() {
            Ok(()) => Ok(()),
            // The kernel wants its completions reaped first; after_enter does that, and the
            // rest is submitted at the next tick.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EAGAIN)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn before_enter(&mut self) {
        self.shared.take_cancels(&mut self.cancels);
        let mut cancels = mem::take(&mut self.cancels);
        for user_data in cancels.drain(..) {
            self.cancel(user_data);
        }
        self.cancels = cancels;
    }

    fn after_enter(&mut self) -> io::Result<()> {
        self.reap()?;
        let cancelled = self.shared.take_cancelled_timers();
        if cancelled > 0 {
            self.timers.note_cancelled(cancelled);
        }
        self.timers.process(Instant::now(), &mut self.ready.wakers);
        Ok(())
    }

    /// Drains the CQ and dispatches each completion.
    fn reap(&mut self) -> io::Result<()> {
        let mut cqes = mem::take(&mut self.cqes);
        let drained = self.ring.drain(&mut cqes);
        let mut rearm = false;
        for (user_data, completion) in cqes.drain(..) {
            if user_data == WAKE {
                self.wake_armed = false;
                rearm = !self.shut_down;
                if completion.result < 0 && completion.result != -libc::ECANCELED {
                    log::debug!("ringloop: eventfd read failed: {:?}", completion);
                }
            } else if user_data & INTERNAL != 0 {
                // A cancel request's own completion: nothing to do.
            } else if let Some(slot) = self.ops.remove(user_data) {
                match slot.transition_to_completed(completion) {
                    Reaped::Wake(waker) => self.ready.wakers.push(waker),
                    Reaped::Orphan(data, c) => self.ready.orphans.push((data, c)),
                    Reaped::Nothing => {}
                }
            }
        }
        self.cqes = cqes;
        if rearm {
            self.arm_wake()?;
        }
        drained
    }

    /// Cancels everything in flight and reaps it; fails pending timers. Idempotent.
    ///
    /// Returns only once the kernel holds no reference to any op's memory nor to the eventfd
    /// buffer, so the ring and every buffer may be freed afterwards.
    pub(crate) fn shutdown(&mut self) {
        if self.shut_down {
            return;
        }
        self.shut_down = true;
        self.timers.shutdown(&mut self.ready.wakers);
        let mut round = 0u32;
        while self.ops.len() > 0 || self.wake_armed {
            if round % 100 == 0 {
                if round > 0 {
                    log::warn!(
                        "ringloop: shutdown still waits for {} ops the kernel has not released",
                        self.ops.len()
                    );
                }
                for user_data in self.ops.live_user_data() {
                    self.cancel(user_data);
                }
                if self.wake_armed {
                    self.cancel(WAKE);
                }
            }
            round = round.wrapping_add(1);
            if let Err(e) = self.ring.wait(Some(Duration::from_millis(10)), None) {
                log::debug!("ringloop: shutdown wait: {e}");
            }
            if let Err(e) = self.reap() {
                log::debug!("ringloop: shutdown reap: {e}");
            }
        }
        let mut ignored = Vec::new();
        self.shared.take_cancels(&mut ignored);
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // Normally already done by Driver::drop; never free the ring with ops in flight.
        self.shutdown();
        mem::take(&mut self.ready).run();
    }
}

pub(crate) fn shut_down_error() -> io::Error {
    io::Error::other("ringloop: the io driver of this thread has been shut down")
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("ring", &self.ring)
            .field("in_flight", &self.ops.len())
            .field("timers", &self.timers.len())
            .field("shut_down", &self.shut_down)
            .finish()
    }
}
