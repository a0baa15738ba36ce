//! The driver: one io_uring per thread, its op table and timer wheel, and its parker.
//!
//! * [`ring`]: the io_uring instance (batched submission, overflow-safe reaping).
//! * [`lifecycle`]: the op slots and the state diagram of an op; `loom_op_slot`: its loom
//!   model.
//! * [`wake`]: the park/unpark protocol; [`shared`]: the cross-thread half and [`Unparker`].
//! * [`core`]: the thread-local half; [`current`]: the thread's current driver.
//! * [`setup_error`]: errors that say why io_uring is unavailable and how to fix it.

mod cell;
mod config;
pub(crate) mod core;
pub(crate) mod current;
mod kick;
pub(crate) mod lifecycle;
#[cfg(all(test, loom))]
mod loom_op_slot;
mod ring;
mod setup_error;
pub(crate) mod shared;
mod stats;
mod wake;

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use config::DriverConfig;
pub(crate) use kick::is_kick_signal;
pub use shared::Unparker;
pub use stats::DriverStats;

use self::cell::{CoreCell, CoreGuard};
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
    core: Arc<CoreCell>,
    unparker: Unparker,
    /// `!Send`: the ring belongs to the thread that made it.
    _owner_thread: PhantomData<Rc<()>>,
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
            core: Arc::new(CoreCell::new(core)),
            unparker,
            _owner_thread: PhantomData,
        })
    }

    /// Makes this driver the thread's current one until the guard is dropped.
    ///
    /// Ops and timers submit to the current driver of the thread that first polls them, and
    /// stay on it: a future moved to another thread afterwards still completes (its waker
    /// is called from this driver's thread). Guards nest; dropping one restores the driver
    /// that was current before it.
    pub fn enter(&self) -> EnterGuard<'_> {
        let previous = current::set(Some(Arc::clone(&self.core)));
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

    /// A handle with which another thread can drive this one's ring and timers while this
    /// thread is stuck in a long poll (see [`DriverHandle::help`]).
    pub fn handle(&self) -> DriverHandle {
        DriverHandle {
            core: Arc::clone(&self.core),
        }
    }

    /// Cancels every op in flight (`IORING_OP_ASYNC_CANCEL`) and waits for all their
    /// completions; pending timers complete with an error. Idempotent; `Drop` calls it.
    ///
    /// When it returns, the kernel no longer references any buffer: those of dropped ops have
    /// been freed, those of live op futures are theirs again (the ops complete, typically with
    /// `ECANCELED`). Ops and timers polled afterwards fail with an error.
    pub fn shutdown(&self) {
        let ready = match self.core.lock() {
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

    fn borrow(&self) -> io::Result<CoreGuard<'_>> {
        self.core.lock()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver").field("core", &self.core).finish()
    }
}

/// Drives another thread's [`Driver`] while that thread is stuck: obtained from
/// [`Driver::handle`], `Send + Sync`.
///
/// A runtime worker may run a task whose poll takes long (CPU-heavy work, a blocking call).
/// Until that poll returns, the worker cannot submit what it queued, dispatch its ring's
/// completions or fire its timers, so the tasks waiting on them (perhaps stolen by other
/// workers meanwhile) would wait too. [`help`](DriverHandle::help), called by an idle
/// sibling, does it for the stuck worker.
#[derive(Clone)]
pub struct DriverHandle {
    core: Arc<CoreCell>,
}

/// What [`DriverHandle::help`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Helped {
    /// Wakers woken and dropped ops released: completions dispatched and timers fired.
    pub dispatched: usize,
    /// The next deadline of the helped driver's timers: help again then if its thread is
    /// still stuck.
    pub next_timer: Option<Instant>,
}

impl DriverHandle {
    /// If the driver's own thread is not using it (not running a tick, not parked in it):
    /// submits what it queued and the cancels other threads asked for, dispatches the
    /// completions its ring has posted and fires its due timers; the wakers run on the
    /// calling thread, after the driver is released. Returns `None` if the driver was busy.
    ///
    /// Without deferred task work (`DriverConfig::defer_taskrun(false)`), the kernel posts a
    /// ring's completions while its thread runs user code, and any thread may submit to it, so
    /// help delivers everything. With it, only the owner thread can do either: help then fires
    /// timers and dispatches what was already posted, nothing more.
    ///
    /// Call it only while the owner thread is busy elsewhere: it takes the lock the owner
    /// takes for every tick.
    pub fn help(&self) -> Option<Helped> {
        let (ready, next_timer) = {
            let mut core = self.core.try_lock()?;
            let next_timer = match core.help() {
                Ok(next_timer) => next_timer,
                Err(e) => {
                    log::debug!("ringloop: helping a driver failed: {e}");
                    None
                }
            };
            (core.take_ready(), next_timer)
        };
        let dispatched = ready.len();
        ready.run();
        Some(Helped {
            dispatched,
            next_timer,
        })
    }

    /// Whether both handles drive the same driver.
    pub fn same_driver(&self, other: &DriverHandle) -> bool {
        Arc::ptr_eq(&self.core, &other.core)
    }
}

impl fmt::Debug for DriverHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DriverHandle").finish_non_exhaustive()
    }
}

/// The guard of [`Driver::enter`]; restores the previously current driver when dropped.
///
/// `!Send`: it must be dropped on the thread that entered.
pub struct EnterGuard<'a> {
    previous: Option<Arc<CoreCell>>,
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
