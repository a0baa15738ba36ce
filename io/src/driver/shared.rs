//! The part of a driver that other threads may touch, and the [`Unparker`] that carries it.
//!
//! A driver's ring, op table and timer wheel belong to its thread (`Core`, behind an `Rc`).
//! Everything another thread may need lives in one `Arc<Shared>`:
//!
//! * `wake` and `eventfd`: the wake-up protocol of [`super::wake`]. The eventfd is closed only
//!   when the last `Arc` goes, so an [`Unparker`] that outlives its driver writes into a live
//!   (if useless) eventfd, never into a descriptor number reused by someone else.
//! * `cancels`: user_data of in-flight ops whose futures were dropped on another thread. The
//!   dropping thread pushes, then unparks; the owner drains the queue on its next `poll`/`park`
//!   and submits one `IORING_OP_ASYNC_CANCEL` for each. `has_cancels` lets the owner skip the
//!   lock when the queue is empty.
//! * `cancelled_timers`: how many timers of this driver's wheel were cancelled (their futures
//!   dropped) on any thread. Dropping a timer only marks its entry and bumps this counter: no
//!   lock, no wake-up. The owner uses the count to decide when to sweep the wheel.

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::task::Wake;

use crate::driver::wake::{Unpark, WakeState};
use crate::loom::{lock, AtomicBool, AtomicUsize, Mutex, Ordering};

/// The cross-thread half of a driver.
pub(crate) struct Shared {
    wake: WakeState,
    eventfd: OwnedFd,
    cancels: Mutex<Vec<u64>>,
    has_cancels: AtomicBool,
    cancelled_timers: AtomicUsize,
}

impl Shared {
    /// Creates the shared half, with a fresh eventfd.
    pub(crate) fn new() -> io::Result<Shared> {
        // SAFETY: eventfd(2) takes no pointers; the flags are valid.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(io::Error::new(
                err.kind(),
                format!(
                    "ringloop: cannot create the driver's wake-up eventfd ({err}); \
                     if this is EMFILE/ENFILE, raise the open-files limit (ulimit -n)"
                ),
            ));
        }
        // SAFETY: `fd` was just returned by eventfd(2), is valid and owned by nobody else.
        let eventfd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Shared {
            wake: WakeState::new(),
            eventfd,
            cancels: Mutex::new(Vec::new()),
            has_cancels: AtomicBool::new(false),
            cancelled_timers: AtomicUsize::new(0),
        })
    }

    pub(crate) fn wake(&self) -> &WakeState {
        &self.wake
    }

    pub(crate) fn eventfd(&self) -> &OwnedFd {
        &self.eventfd
    }

    /// Wakes the driver's thread if it is parked; a flag store if it is running.
    pub(crate) fn unpark(&self) {
        if self.wake.unpark() == Unpark::Signal {
            let one: u64 = 1;
            // SAFETY: `eventfd` is open for as long as `self` lives; the buffer is a live u64
            // of the 8 bytes an eventfd write takes.
            let n = unsafe {
                libc::write(
                    self.eventfd.as_raw_fd(),
                    (&one as *const u64).cast(),
                    std::mem::size_of::<u64>(),
                )
            };
            if n < 0 {
                // Only possible if the counter would overflow (2^64 - 2 pending writes), in
                // which case the driver is already readable and will wake anyway.
                log::debug!(
                    "ringloop: eventfd write failed: {}",
                    io::Error::last_os_error()
                );
            }
        }
    }

    /// Queues a cancel request for the op with `user_data`, from a thread that is not the
    /// driver's, and wakes the driver so that it submits it.
    pub(crate) fn request_cancel(&self, user_data: u64) {
        lock(&self.cancels).push(user_data);
        self.has_cancels.store(true, Ordering::Release);
        self.unpark();
    }

    /// Puts back a cancel request a helper could not queue on the ring (no wake-up: the owner
    /// is running, and takes it at its next tick).
    pub(crate) fn requeue_cancel(&self, user_data: u64) {
        lock(&self.cancels).push(user_data);
        self.has_cancels.store(true, Ordering::Release);
    }

    /// Takes the queued cancel requests (owner thread).
    pub(crate) fn take_cancels(&self, into: &mut Vec<u64>) {
        if self.has_cancels.swap(false, Ordering::Acquire) {
            into.append(&mut lock(&self.cancels));
        }
    }

    /// Records that one timer of this driver was cancelled (any thread, no wake-up).
    pub(crate) fn timer_cancelled(&self) {
        self.cancelled_timers.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes the number of timers cancelled since the last call (owner thread).
    pub(crate) fn take_cancelled_timers(&self) -> usize {
        if self.cancelled_timers.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        self.cancelled_timers.swap(0, Ordering::Relaxed)
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("wake", &self.wake)
            .field("eventfd", &self.eventfd.as_raw_fd())
            .finish_non_exhaustive()
    }
}

/// Wakes one driver's thread from any thread.
///
/// Obtained from [`Driver::unparker`](crate::Driver::unparker). Cloning is an `Arc` clone;
/// `unpark` costs one atomic swap when the driver's thread is running, and one `write(2)` to
/// the driver's eventfd when it is parked in `io_uring_enter`. An `Unparker` may outlive its
/// driver; unparking a dropped driver does nothing useful and does no harm.
///
/// It also implements [`Wake`], so `Waker::from(Arc::new(unparker))` is a waker that wakes the
/// driver's thread, which is all a `block_on` needs.
#[derive(Clone, Debug)]
pub struct Unparker {
    shared: Arc<Shared>,
}

impl Unparker {
    pub(crate) fn new(shared: Arc<Shared>) -> Unparker {
        Unparker { shared }
    }

    /// Wakes the driver's thread if it is parked, or makes its next
    /// [`park`](crate::Driver::park) return at once if it is running.
    ///
    /// An unpark is never lost: each call is followed, on the driver's thread, by the return of
    /// a `park` that began after it or was in progress during it.
    pub fn unpark(&self) {
        self.shared.unpark();
    }

    /// Returns `true` if both unparkers wake the same driver.
    pub fn will_unpark(&self, other: &Unparker) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.shared.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.unpark();
    }
}
