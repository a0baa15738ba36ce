//! The driver: one io_uring per thread, its op table and timer wheel, and its parker.
//!
//! * [`ring`]: the io_uring instance (batched submission, overflow-safe reaping).
//! * [`lifecycle`]: the op slots and the state diagram of an op.
//! * [`wake`]: the park/unpark protocol; [`shared`]: the cross-thread half and [`Unparker`].
//! * [`core`]: the thread-local half; [`current`]: the thread's current driver.
//! * [`setup_error`]: errors that say why io_uring is unavailable and how to fix it.

mod config;
pub(crate) mod core;
pub(crate) mod current;
pub(crate) mod lifecycle;
mod ring;
mod setup_error;
pub(crate) mod shared;
mod stats;
mod wake;

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;

pub use config::DriverConfig;
pub use shared::Unparker;
pub use stats::DriverStats;

use self::core::Core;

/// One io_uring and everything submitted to it, owned by one thread.
///
/// A runtime creates one `Driver` per worker thread when the worker starts, makes it the
/// thread's current driver with [`enter`](Driver::enter) (ops and timers first polled on the
/// thread submit to it), calls [`poll`](Driver::poll) every scheduler tick and
/// [`park`](Driver::park) when it has nothing to run. Other threads wake it with an
/// [`Unparker`].
///
/// `Driver` is `!Send`: the ring belongs to the thread that created it. Dropping it shuts it
/// down (see [`shutdown`](Driver::shutdown)).
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::sync::Arc;
/// use std::task::{Context, Poll, Waker};
/// use std::time::Duration;
///
/// let driver = ringloop_io::Driver::new(&ringloop_io::DriverConfig::new())?;
/// let _enter = driver.enter();
/// let waker = Waker::from(Arc::new(driver.unparker()));
/// let mut sleep = std::pin::pin!(ringloop_io::time::sleep(Duration::from_millis(5)));
/// loop {
///     if let Poll::Ready(result) = sleep.as_mut().poll(&mut Context::from_waker(&waker)) {
///         break result?;
///     }
///     driver.park(None)?;
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Driver {
    core: Rc<RefCell<Core>>,
    unparker: Unparker,
}

impl Driver {
    /// Creates a ring with `config`'s settings and arms its wake-up eventfd.
    ///
    /// # Errors
    ///
    /// If io_uring cannot be used, the error says why and how to fix it: kernel too old or
    /// without io_uring (`ENOSYS`), `kernel.io_uring_disabled` set, a seccomp filter as in
    /// Docker's default profile (`EPERM`), the locked-memory limit (`ENOMEM`), too many open
    /// files. Also if `config` is invalid.
    pub fn new(config: &DriverConfig) -> io::Result<Driver> {
        config.validate()?;
        let core = Core::new(config)?;
        let unparker = Unparker::new(core.shared().clone());
        Ok(Driver {
            core: Rc::new(RefCell::new(core)),
            unparker,
        })
    }

    /// Makes this driver the thread's current one until the guard is dropped.
    ///
    /// Ops and timers submit to the current driver of the thread that first polls them, and
    /// stay on it: a future moved to another thread afterwards still completes (its waker
    /// is called from this driver's thread). Guards nest; dropping one restores the driver
    /// that was current before it.
    pub fn enter(&self) -> EnterGuard<'_> {
        let previous = current::set(Some(Rc::clone(&self.core)));
        EnterGuard {
            previous,
            _driver: PhantomData,
        }
    }

    /// One scheduler tick: submits everything queued since the last tick in one
    /// `io_uring_enter` (none if nothing is queued and the kernel holds no deferred
    /// completions), dispatches the completions (waking their wakers) and fires due timers.
    /// Never blocks.
    ///
    /// # Errors
    ///
    /// An error of `io_uring_enter` other than an interruption; or the driver being used
    /// re-entrantly (from a waker or a `Drop` it runs).
    pub fn poll(&self) -> io::Result<()> {
        self.drive(Core::poll)
    }

    /// Like [`poll`](Driver::poll) without the syscall: dispatches the completions the kernel
    /// has already posted to the completion queue and fires due timers, but submits nothing.
    /// What was queued stays queued until the next [`poll`](Driver::poll) or
    /// [`park`](Driver::park), which submit it.
    ///
    /// A scheduler that runs out of tasks calls this first: if it finds work it runs that
    /// work and submits later in a batch; if not, it parks, and the park's one
    /// `io_uring_enter` both submits and waits. Callers must still `poll` or `park` regularly,
    /// or queued I/O never starts. With [deferred task
    /// work](DriverConfig::defer_taskrun) (the default) the kernel posts completions only
    /// inside `poll` and `park`, so this finds little beyond due timers.
    ///
    /// # Errors
    ///
    /// As [`poll`](Driver::poll).
    pub fn reap(&self) -> io::Result<()> {
        self.drive(Core::reap_posted)
    }

    /// Like [`poll`](Driver::poll), but first waits, in the same `io_uring_enter`, until a
    /// completion arrives, an [`Unparker`] fires, the next timer is due, or `timeout` passes.
    ///
    /// Returns at once if an unpark happened since the last `park` returned, or if work is
    /// already ready. May return early (a spurious wake-up); callers loop.
    ///
    /// # Errors
    ///
    /// As [`poll`](Driver::poll); and after [`shutdown`](Driver::shutdown), which disarms the
    /// wake-up, `park` fails at once instead of blocking.
    pub fn park(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.drive(|core| core.park(timeout))
    }

    /// What this driver has asked of the kernel so far.
    ///
    /// # Errors
    ///
    /// If called from inside the driver (a waker or `Drop` it runs).
    pub fn stats(&self) -> io::Result<DriverStats> {
        Ok(self.borrow()?.stats())
    }

    /// A handle that wakes this driver's thread from any thread.
    pub fn unparker(&self) -> Unparker {
        self.unparker.clone()
    }

    /// Cancels every op in flight (`IORING_OP_ASYNC_CANCEL`) and waits for all their
    /// completions; pending timers complete with an error. Idempotent; `Drop` calls it.
    ///
    /// When it returns, the kernel no longer references any buffer: those of dropped ops have
    /// been freed, those of live op futures are theirs again (the ops complete, typically with
    /// `ECANCELED`). Ops and timers polled afterwards fail with an error.
    pub fn shutdown(&self) {
        let ready = match self.core.try_borrow_mut() {
            Ok(mut core) => {
                core.shutdown();
                core.take_ready()
            }
            Err(_) => {
                log::error!("ringloop: Driver::shutdown called re-entrantly; ignored");
                return;
            }
        };
        ready.run();
    }

    /// Runs `step` on the core, then, with the core released, the wakers and orphan
    /// releases it collected (which may use the driver again).
    fn drive(&self, step: impl FnOnce(&mut Core) -> io::Result<()>) -> io::Result<()> {
        let ready = {
            let mut core = self.borrow()?;
            step(&mut core)?;
            core.take_ready()
        };
        ready.run();
        Ok(())
    }

    fn borrow(&self) -> io::Result<std::cell::RefMut<'_, Core>> {
        self.core.try_borrow_mut().map_err(|_| {
            io::Error::other(
                "ringloop: Driver::poll/park called re-entrantly (from a waker or a Drop run \
                 by the driver)",
            )
        })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.core.try_borrow() {
            Ok(core) => f.debug_struct("Driver").field("core", &*core).finish(),
            Err(_) => f.debug_struct("Driver").finish_non_exhaustive(),
        }
    }
}

/// The guard of [`Driver::enter`]; restores the previously current driver when dropped.
///
/// `!Send`: it must be dropped on the thread that entered.
pub struct EnterGuard<'a> {
    previous: Option<Rc<RefCell<Core>>>,
    _driver: PhantomData<&'a Driver>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        current::set(self.previous.take());
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
