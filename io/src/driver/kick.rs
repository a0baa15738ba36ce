//! Kicking a stuck ring thread: a signal whose handler makes one `io_uring_enter`.
//!
//! # The problem
//!
//! A ring made with deferred task work (`IORING_SETUP_DEFER_TASKRUN`, the default; it serves
//! ~10% more messages per second for ~15% less CPU per message than the alternatives, see
//! `DESIGN.md`) only posts completions, and only accepts submissions, inside an
//! `io_uring_enter` of the thread that made it. When that thread is stuck in a long poll of
//! one task, the completions of every other task's ops on its ring wait for that poll to end,
//! however many other threads are idle: they cannot enter the ring for it.
//!
//! # The design
//!
//! The thread is made to enter its own ring from a signal handler. A sibling that finds it
//! stuck with work pending in the kernel ([`Kicker::kick`]) records how many entries wait to
//! be submitted and sends it a signal with `tgkill`; the handler ([`on_kick`]) finds the
//! ring through a thread-local pointer and makes at most two `io_uring_enter` calls: one
//! that submits those entries (what the thread queued, and the cancels siblings queued for
//! it), and one with `GETEVENTS` and no minimum, which runs the deferred task work and so
//! posts the completions. (One call cannot do both: the kernel skips `GETEVENTS` when it
//! submits fewer entries than asked, and only the sibling, under the driver's lock, knows how
//! many are queued.) The handler touches nothing else: no lock, no allocation, one atomic
//! swap, and it saves and restores `errno`. The sibling then dispatches the posted
//! completions under the driver's lock (`DriverHandle::help`), on its own thread.
//!
//! The handler is safe wherever it interrupts the thread: the kernel reads only the
//! submission entries already published (the tail is published after an entry is written),
//! posts completions into the completion ring like any enter does, and an enter interrupted
//! by the signal returns `EINTR`, which the driver treats as a spurious wake-up.
//!
//! The cost: a signal is only ever sent to a thread that has been running one poll for a
//! while with work waiting in its ring, so never in a healthy runtime. In that thread, a
//! blocking system call of the stuck task may be interrupted: the handler is installed with
//! `SA_RESTART`, so most calls resume transparently; those that never restart (`poll`,
//! `epoll_wait`, `nanosleep`, ...) return `EINTR`, which careful code retries. Go's
//! runtime preempts its threads the same way, with the same signal.
//!
//! The signal is `SIGURG` by default (ignored by default, and used by nothing else in most
//! programs). The handler is only installed if the signal has no handler yet; otherwise
//! kicking is off, with one warning, and a stuck thread's I/O waits for its poll to end.

use std::cell::Cell;
use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// `IORING_ENTER_GETEVENTS`, which `libc` does not define.
const IORING_ENTER_GETEVENTS: libc::c_uint = 1;

thread_local! {
    /// The ring this thread may be kicked into; null if none. Points into the `Kicker` of a
    /// live driver: it is reset, on this thread, before that driver is shut down.
    static KICKED: Cell<*const Target> = const { Cell::new(std::ptr::null()) };
}

/// What a kick enters: the ring, and how many entries to submit.
#[derive(Debug)]
struct Target {
    ring_fd: libc::c_int,
    /// Set by the kicker before the signal, taken by the handler.
    to_submit: AtomicU32,
}

/// The signals whose handler is installed (whatever the outcome, each is tried once).
static INSTALLED: Mutex<Vec<(libc::c_int, bool)>> = Mutex::new(Vec::new());

/// The handler: one `io_uring_enter` on this thread's ring, if it has one.
extern "C" fn on_kick(_signal: libc::c_int) {
    // SAFETY: `__errno_location` returns this thread's errno; reading and writing it back is
    // what every signal handler that makes a system call must do.
    let saved = unsafe { *libc::__errno_location() };
    let target = KICKED.try_with(Cell::get).unwrap_or(std::ptr::null());
    // SAFETY: a non-null pointer is this thread's registered target, which lives until it is
    // unregistered on this thread (so not while this handler interrupts it).
    if let Some(target) = unsafe { target.as_ref() } {
        let to_submit = target.to_submit.swap(0, Ordering::Acquire);
        if to_submit > 0 {
            enter(target.ring_fd, to_submit, 0);
        }
        enter(target.ring_fd, 0, IORING_ENTER_GETEVENTS);
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

/// One `io_uring_enter(fd, to_submit, 0, flags)` without argument, its result ignored (a kick
/// is best effort; the next help looks again).
fn enter(fd: libc::c_int, to_submit: u32, flags: libc::c_uint) {
    // SAFETY: `io_uring_enter(2)` with no argument pointer on this thread's own ring (see
    // `on_kick`): it submits only entries the thread already published, and runs the ring's
    // deferred work, which only this thread may run.
    unsafe {
        libc::syscall(
            libc::SYS_io_uring_enter,
            fd,
            to_submit,
            0u32,
            flags,
            std::ptr::null::<libc::c_void>(),
            0usize,
        );
    }
}

/// Whether `signal` is one a runtime kicks its workers with (its handler is installed), so
/// that [`crate::signal`] does not take it over.
pub(crate) fn is_kick_signal(signal: libc::c_int) -> bool {
    let installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    installed.iter().any(|&(s, ok)| s == signal && ok)
}

/// Installs [`on_kick`] for `signal` unless something else handles it; returns whether the
/// handler is (now) installed.
fn install(signal: libc::c_int) -> bool {
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&(_, ok)) = installed.iter().find(|(s, _)| *s == signal) {
        return ok;
    }
    let ok = install_now(signal);
    installed.push((signal, ok));
    ok
}

fn install_now(signal: libc::c_int) -> bool {
    // SAFETY: `sigaction` with a null new action only reads the current one into `old`.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers; a null `act` changes nothing.
    if unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) } != 0 {
        log::warn!(
            "ringloop: cannot read the disposition of signal {signal} ({}); stuck workers' \
             I/O will wait for their poll to end",
            io::Error::last_os_error()
        );
        return false;
    }
    if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
        log::warn!(
            "ringloop: signal {signal} already has a handler, so ringloop does not use it to \
             kick worker threads stuck in a long poll: their I/O will wait for the poll to \
             end (choose another signal with Builder::stuck_worker_signal)"
        );
        return false;
    }
    // SAFETY: an all-zero sigaction is a valid start; the fields are filled below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = on_kick as extern "C" fn(libc::c_int) as libc::sighandler_t;
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid sigset to empty.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: a fully initialised action whose handler is async-signal-safe (module docs).
    if unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) } != 0 {
        log::warn!(
            "ringloop: cannot install the handler of signal {signal} ({}); stuck workers' \
             I/O will wait for their poll to end",
            io::Error::last_os_error()
        );
        return false;
    }
    true
}

/// Sends the kick to the ring's thread; made on that thread.
#[derive(Debug)]
pub(crate) struct Kicker {
    pid: libc::pid_t,
    tid: libc::pid_t,
    signal: libc::c_int,
    /// Boxed: the thread-local points at it.
    target: Box<Target>,
}

impl Kicker {
    /// Makes the calling thread kickable into `ring_fd` with `signal`; `None` if the handler
    /// cannot be installed (see the module docs).
    pub(crate) fn register(ring_fd: libc::c_int, signal: libc::c_int) -> Option<Kicker> {
        if !install(signal) {
            return None;
        }
        let target = Box::new(Target {
            ring_fd,
            to_submit: AtomicU32::new(0),
        });
        KICKED.with(|kicked| kicked.set(&*target));
        Some(Kicker {
            // SAFETY: getpid(2) cannot fail.
            pid: unsafe { libc::getpid() },
            // SAFETY: gettid(2) takes no arguments and cannot fail.
            tid: unsafe { libc::syscall(libc::SYS_gettid) } as libc::pid_t,
            signal,
            target,
        })
    }

    /// Sends the signal to the ring's thread (any thread may call it, holding the driver's
    /// lock), for it to submit `to_submit` entries and post its deferred completions.
    pub(crate) fn kick(&self, to_submit: u32) {
        self.target.to_submit.store(to_submit, Ordering::Release);
        // SAFETY: tgkill(2) takes no pointers. If the thread has exited, it fails (ESRCH); a
        // thread id is only reused for a thread of another process, which `pid` excludes, or
        // of this one, whose handler then finds its own ring or none.
        let rc = unsafe { libc::syscall(libc::SYS_tgkill, self.pid, self.tid, self.signal) };
        if rc != 0 {
            log::debug!("ringloop: kick failed: {}", io::Error::last_os_error());
        }
    }

    /// Stops kicks into this ring: called on the ring's thread before the ring is closed.
    pub(crate) fn unregister(&self) {
        let ours: *const Target = &*self.target;
        let _ = KICKED.try_with(|kicked| {
            if kicked.get() == ours {
                kicked.set(std::ptr::null());
            }
        });
    }
}
