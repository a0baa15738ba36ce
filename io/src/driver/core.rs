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
//! With a batch wait configured ([`DriverConfig::batch_wait`]; off by default), a park with
//! at least [`BATCH_MIN_IN_FLIGHT`] ops in flight asks the kernel for [`BATCH_COMPLETIONS`]
//! completions within that wait: it returns when they have all arrived or, once the batch
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
use std::mem::{self, ManuallyDrop};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use io_uring::{opcode, squeue, types};

use crate::driver::kick::Kicker;
use crate::driver::lifecycle::{Completion, OpSlot, OpTable, Orphan, Reaped, INTERNAL};
use crate::driver::ring::{Batch, Ring, TaskWork, CANCEL, WAKE};
use crate::driver::shared::Shared;
use crate::driver::wake::{self, WakeRing};
use crate::isolate::isolate;
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
    ///
    /// Both run user code (a waker's `wake`, a buffer's `Drop`) that nobody is there to
    /// answer for: the futures that would have seen a panic are elsewhere, or gone. So each
    /// one runs on its own, a panic is reported and goes no further, and the others still
    /// run: one hostile waker must neither kill the thread driving the ring nor leave the
    /// tasks of the same batch unwoken.
    pub(crate) fn run(self) {
        for (orphan, completion) in self.orphans {
            isolate("the io driver released the data of a dropped op", || {
                orphan.complete(completion);
            });
        }
        for waker in self.wakers {
            isolate("the io driver woke a task", || waker.wake());
        }
    }

    fn is_empty(&self) -> bool {
        self.wakers.is_empty() && self.orphans.is_empty()
    }

    /// How many wakers and orphans there are.
    pub(crate) fn len(&self) -> usize {
        self.wakers.len() + self.orphans.len()
    }
}

/// The wake-up protocol's view of the core (`wake.rs`).
impl WakeRing for Core {
    fn wake_armed(&self) -> bool {
        self.wake_armed
    }

    fn arm_wake(&mut self) -> io::Result<()> {
        Core::arm_wake(self)
    }

    fn disarm_wake(&mut self) {
        self.wake_armed = false;
    }

    fn submit(&mut self) -> io::Result<()> {
        self.submit_or_reap()
    }

    fn submit_and_wait(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let batch = self.batch_for(timeout);
        match self.ring.wait(timeout, batch) {
            // The kernel wants its completions reaped first; `after_enter` does that.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY | libc::EAGAIN)) => Ok(()),
            waited => waited,
        }
    }

    fn report_unarmed(&self, error: &io::Error) {
        if self.helping && error.kind() == io::ErrorKind::WouldBlock {
            // A helper found the queue full; the owner's next park arms it.
            return;
        }
        log::warn!(
            "ringloop: cannot arm the driver's wake-up read ({error}); parks poll every \
             {:?} until it can be armed",
            wake::UNARMED_PARK_LIMIT
        );
    }
}

/// The thread-local state of a driver; see the module docs.
pub(crate) struct Core {
    /// Dropped by `Core::drop`, unless shutdown gave up on ops the kernel never released:
    /// then the ring is leaked, so that the kernel never writes into freed memory.
    ring: ManuallyDrop<Ring>,
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
    /// How long shutdown waits for the ops in flight (`DriverConfig::shutdown_timeout`).
    shutdown_timeout: Duration,
    /// Shutdown gave up waiting: the ring, the op slots and the wake-up buffer are leaked.
    leaked: bool,
    /// Makes this core's thread enter its ring from a signal handler (`kick.rs`); only for a
    /// ring that other threads cannot enter.
    kicker: Option<Kicker>,
    /// Another thread is driving this core (`help`): it must not enter the ring if only the
    /// owner may, so a full submission queue is left for the owner instead of flushed.
    helping: bool,
    #[cfg(test)]
    faults: Faults,
}

/// Failures a unit test injects where the kernel gives no way to cause them.
#[cfg(test)]
#[derive(Debug, Default)]
struct Faults {
    /// The next this many arms of the wake-up read fail.
    failing_arms: u32,
    /// Cancel requests are never queued, as for an op the kernel cannot cancel.
    ignore_cancels: bool,
}

impl Core {
    pub(crate) fn new(config: &DriverConfig) -> io::Result<Core> {
        let task_work = if config.get_defer_taskrun() {
            TaskWork::Deferred
        } else if config.get_coop_taskrun() {
            TaskWork::Cooperative
        } else {
            TaskWork::Plain
        };
        let ring = Ring::new(config.get_entries(), task_work)?;
        let batch_wait = if ring.can_batch() {
            config.get_batch_wait()
        } else {
            Duration::ZERO
        };
        let shared = Arc::new(Shared::new()?);
        let mut core = Core {
            ring: ManuallyDrop::new(ring),
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
            shutdown_timeout: config.get_shutdown_timeout(),
            leaked: false,
            kicker: None,
            helping: false,
            #[cfg(test)]
            faults: Faults::default(),
        };
        if let Some(signal) = config.get_kick_signal() {
            if !core.ring.any_thread_may_enter() {
                core.kicker = Kicker::register(core.ring.fd(), signal);
            }
        }
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
            if self.helping && !self.ring.any_thread_may_enter() {
                // Only the owner may flush: leave it for the owner.
                return Err(io::ErrorKind::WouldBlock.into());
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
        #[cfg(test)]
        if self.faults.failing_arms > 0 {
            self.faults.failing_arms -= 1;
            return Err(io::Error::other("injected failure to arm the wake-up read"));
        }
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
        if let Err(e) = self.try_cancel(user_data) {
            // The op then completes normally; its data is released at that point.
            log::warn!("ringloop: could not queue a cancel: {e}");
        }
    }

    fn try_cancel(&mut self, user_data: u64) -> io::Result<()> {
        #[cfg(test)]
        if self.faults.ignore_cancels {
            return Ok(());
        }
        let entry = opcode::AsyncCancel::new(user_data)
            .build()
            .user_data(CANCEL);
        // SAFETY: a cancel request refers to no memory.
        unsafe { self.push(&entry) }
    }

    /// Registers a timer on this driver's wheel.
    pub(crate) fn insert_timer(
        &mut self,
        deadline: Instant,
        entry: Arc<TimerEntry>,
    ) -> io::Result<()> {
        if self.shut_down {
            return Err(shut_down_error());
        }
        self.timers.insert(deadline, entry);
        Ok(())
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

    /// Another thread drives this core while its owner is stuck (`DriverHandle::help`):
    /// submits the queued entries and cancel requests (only if any thread may enter the
    /// ring: not with deferred task work), dispatches posted completions and fires due
    /// timers. Returns the next timer deadline.
    pub(crate) fn help(&mut self) -> io::Result<Option<Instant>> {
        if self.shut_down {
            return Ok(None);
        }
        self.helping = true;
        let helped = self.help_as_guest();
        self.helping = false;
        helped?;
        Ok(self.timers.next_deadline())
    }

    fn help_as_guest(&mut self) -> io::Result<()> {
        self.before_enter();
        if self.ring.any_thread_may_enter() {
            self.submit_or_reap()?;
            return self.after_enter();
        }
        // Only the owner may enter: dispatch what is posted, fire the timers, and if the
        // kernel holds work only an enter of the owner does (entries and cancels to submit,
        // deferred completions to post), kick the owner to make that enter; its results are
        // dispatched by the next help.
        self.reap()?;
        self.fire_timers();
        if let (Some(kicker), Some((to_submit, to_post))) =
            (&self.kicker, self.ring.owner_enter_needed())
        {
            if to_submit > 0 || to_post {
                kicker.kick(to_submit);
            }
        }
        Ok(())
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
            wake::ensure_armed(self);
            self.submit_or_reap()?;
            return self.after_enter();
        }
        let shared = Arc::clone(&self.shared);
        wake::park(shared.wake(), self, timeout)?;
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
            match self.try_cancel(user_data) {
                Ok(()) => {}
                // A helper found the queue full: the owner queues it at its next tick.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.shared.requeue_cancel(user_data);
                }
                Err(e) => log::warn!("ringloop: could not queue a cancel: {e}"),
            }
        }
        self.cancels = cancels;
    }

    fn after_enter(&mut self) -> io::Result<()> {
        self.reap()?;
        self.fire_timers();
        Ok(())
    }

    /// Sweeps the timers cancelled on other threads and fires the due ones.
    fn fire_timers(&mut self) {
        let cancelled = self.shared.take_cancelled_timers();
        if cancelled > 0 {
            self.timers.note_cancelled(cancelled);
        }
        self.timers.process(Instant::now(), &mut self.ready.wakers);
    }

    /// Drains the CQ and dispatches each completion.
    fn reap(&mut self) -> io::Result<()> {
        let mut cqes = mem::take(&mut self.cqes);
        let may_enter = !self.helping || self.ring.any_thread_may_enter();
        let drained = self.ring.drain(&mut cqes, may_enter);
        let mut read_completed = false;
        for (user_data, completion) in cqes.drain(..) {
            if user_data == WAKE {
                read_completed = true;
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
        if read_completed {
            let rearm = !self.shut_down;
            wake::read_completed(self, rearm);
        }
        drained
    }

    /// Cancels everything in flight and reaps it; fails pending timers. Idempotent.
    ///
    /// Returns once the kernel holds no reference to any op's memory nor to the eventfd
    /// buffer, so the ring and every buffer may be freed afterwards; or, if the kernel has
    /// not released everything within the shutdown timeout (an op it cannot cancel), after
    /// leaking the ring and all that the remaining ops may still write into (see
    /// [`leak`](Core::leak)).
    pub(crate) fn shutdown(&mut self) {
        if self.shut_down {
            return;
        }
        self.shut_down = true;
        if let Some(kicker) = &self.kicker {
            // Called on the owner thread (`Driver::shutdown`, `Driver::drop`): no kick may
            // enter this ring once it is closed.
            kicker.unregister();
        }
        self.timers.shutdown(&mut self.ready.wakers);
        let deadline = Instant::now() + self.shutdown_timeout;
        let mut round = 0u32;
        while self.ops.len() > 0 || self.wake_armed {
            let now = Instant::now();
            if now >= deadline {
                self.leak();
                break;
            }
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
            let wait = (deadline - now).min(Duration::from_millis(10));
            if let Err(e) = self.ring.wait(Some(wait), None) {
                log::debug!("ringloop: shutdown wait: {e}");
            }
            if let Err(e) = self.reap() {
                log::debug!("ringloop: shutdown reap: {e}");
            }
        }
        let mut ignored = Vec::new();
        self.shared.take_cancels(&mut ignored);
    }

    /// Shutdown gave up on ops the kernel did not release: leaks the ring (its descriptor
    /// stays open, so the kernel keeps the ops' context), the slots of those ops (the data
    /// of dropped ones is in them, and a live future that is dropped later moves its data
    /// there too), and the wake-up buffer if its read is still armed. Nothing the kernel may
    /// write into is ever freed; those futures never complete.
    fn leak(&mut self) {
        log::warn!(
            "ringloop: the kernel did not release {} ops within the shutdown timeout of {:?} \
             (an op it cannot cancel, such as a read from a hung network file system); their \
             buffers and the ring are leaked, and those ops never complete",
            self.ops.len(),
            self.shutdown_timeout
        );
        self.leaked = true;
        mem::forget(mem::take(&mut self.ops));
        if self.wake_armed {
            mem::forget(mem::replace(&mut self.wake_buf, Box::new(0)));
            self.wake_armed = false;
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // Normally already done by Driver::drop; never free the ring with ops in flight.
        self.shutdown();
        mem::take(&mut self.ready).run();
        if !self.leaked {
            // SAFETY: `ring` is dropped only here, once; shutdown returned without leaking,
            // so the kernel holds no reference to memory of this driver.
            unsafe { ManuallyDrop::drop(&mut self.ring) };
        }
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

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::os::fd::{AsRawFd, OwnedFd};
    use std::sync::mpsc;
    use std::task::{Context, Waker};
    use std::time::{Duration, Instant};

    use crate::{Driver, DriverConfig};

    /// Completes the armed wake-up read by writing the eventfd directly.
    fn complete_wake_read(driver: &Driver) {
        let one: u64 = 1;
        let fd = driver.core.lock().unwrap().shared.eventfd().as_raw_fd();
        // SAFETY: a write of a live u64 to an open eventfd.
        let n = unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
        assert_eq!(n, 8);
    }

    /// If re-arming the wake-up read fails once, the next park arms it again; before, it
    /// stayed disarmed and every later unpark was lost (a park slept until its timeout).
    #[test]
    fn a_failed_rearm_of_the_wake_up_read_is_retried_by_the_next_park() {
        let driver = Driver::new(&DriverConfig::new()).unwrap();
        complete_wake_read(&driver);
        driver.core.lock().unwrap().faults.failing_arms = 1;
        let start = Instant::now();
        while driver.core.lock().unwrap().wake_armed {
            assert!(start.elapsed() < Duration::from_secs(5), "never reaped");
            // A runtime reports a failing poll and goes on (`DriverParker`); so does this.
            let _ = driver.poll();
        }
        assert_eq!(
            driver.core.lock().unwrap().faults.failing_arms,
            0,
            "the re-arm failed"
        );
        for round in 0..3 {
            let unparker = driver.unparker();
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                unparker.unpark();
            });
            let start = Instant::now();
            driver.park(Some(Duration::from_secs(5))).unwrap();
            let slept = start.elapsed();
            t.join().unwrap();
            assert!(
                slept < Duration::from_secs(2),
                "round {round}: the unpark was lost (the park slept {slept:?})"
            );
            // Consume a notification the park did not see (it may have returned early).
            let _ = driver.park(Some(Duration::ZERO));
        }
    }

    /// An op the kernel never releases (here: its cancel is never sent) must not make
    /// shutdown wait forever: after the timeout it leaks what the op may still write into.
    #[test]
    fn shutdown_gives_up_after_its_timeout_and_leaks_what_the_kernel_holds() {
        let (done_tx, done_rx) = mpsc::channel();
        let (peer_tx, peer_rx) = mpsc::channel::<OwnedFd>();
        std::thread::spawn(move || {
            let mut config = DriverConfig::new();
            config.shutdown_timeout(Duration::from_millis(200));
            let driver = Driver::new(&config).unwrap();
            let _enter = driver.enter();
            let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            let file = crate::fs::File::from(OwnedFd::from(ours));
            let mut read = Box::pin(file.read(vec![0_u8; 64]));
            let pending = read
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending();
            assert!(pending);
            driver.poll().unwrap();
            driver.core.lock().unwrap().faults.ignore_cancels = true;
            drop(read);
            let start = Instant::now();
            driver.shutdown();
            let leaked = driver.core.lock().unwrap().leaked;
            peer_tx.send(OwnedFd::from(theirs)).unwrap();
            done_tx.send((start.elapsed(), leaked)).unwrap();
        });
        let (took, leaked) = done_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("shutdown did not return within 10 s");
        assert!(leaked, "the stuck op's memory must be leaked, not freed");
        assert!(
            took >= Duration::from_millis(200),
            "gave up early: {took:?}"
        );
        // The op may still complete, into the leaked buffer.
        let mut peer = std::os::unix::net::UnixStream::from(peer_rx.recv().unwrap());
        std::io::Write::write_all(&mut peer, b"late bytes").unwrap();
    }
}
