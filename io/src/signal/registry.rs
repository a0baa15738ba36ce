//! The process-wide half of signals: the self-pipe, one slot per signal number, the
//! `sigaction` handler that writes to the pipe, and the fan-out to every listener when the
//! pipe is drained ([`drain_and_dispatch`]).
//!
//! # State
//!
//! * `PIPE`: made by the first listener, never closed, both ends `O_NONBLOCK` (a full pipe
//!   must not block a handler; an empty one must not block a drain). The handler writes to
//!   it through `WRITE_FD`.
//! * `SLOTS[n].pending`: set by the handler of signal `n`, taken by [`dispatch`]. The only
//!   state the handler touches besides the pipe.
//! * `SLOTS[n].state` (a mutex, never taken by the handler): the listeners of signal `n`,
//!   and the disposition our handler replaced, `Some` exactly while our handler is installed
//!   for `n`.
//! * Per [`Listener`]: `deliveries`, signals dispatched to it and not yet taken by `recv`, and
//!   the waker of the task awaiting it.
//!
//! # Protocol
//!
//! 1. [`listen`]: under the slot's lock, the first listener of a signal installs the handler
//!    (`SA_RESTART`, saving the old disposition) and clears `pending`; every listener is
//!    pushed on the slot's list.
//! 2. The handler (`on_signal`), on whatever thread the kernel picked: `pending = true`, then
//!    one byte into the pipe (a failed write means the pipe is full: it is readable already).
//!    It saves and restores `errno`, and touches no lock and no allocation.
//! 3. Every `Signal` being awaited keeps an `IORING_OP_POLL_ADD` of the pipe's read end
//!    (`POLLIN`) in flight, on the ring of the thread that polls it. A poll reads nothing:
//!    when the pipe becomes readable, every poll of it completes, on every ring.
//! 4. The task of a `Signal` whose poll completed calls [`drain_and_dispatch`]: it empties
//!    the pipe with `read(2)`, then [`dispatch`]es: for each slot whose `pending` it takes,
//!    under the slot's lock, it adds one to every listener's `deliveries` and takes its
//!    waker; then, with no lock held, wakes them.
//! 5. `recv`: takes a delivery; else stores its waker and takes again (a dispatch in between
//!    either saw the waker or left a delivery to take); else makes sure its poll is in
//!    flight on the current thread's ring, and goes to 4 when it completes.
//! 6. [`unlisten`] (a `Signal` dropped): under the slot's lock, the listener is removed; the
//!    last one puts the old disposition back, if our handler is still the one installed.
//!
//! # Why nothing is lost
//!
//! A signal raised while a listener exists runs the handler (the kernel delivers it to a
//! thread that does not block it; we block it nowhere), which sets `pending` before it writes
//! its byte. While some `Signal` is awaited, its poll is in flight on a ring its thread
//! drives, so it completes once the byte is in the pipe, and its drain and dispatch come after
//! the write: either that dispatch takes `pending`, or one that ran since did. Polls of
//! `Signal`s that are not awaited, or of rings nobody drives (a single-threaded runtime
//! between two `block_on`s), may complete too, but take nothing away from the others: only a
//! drain empties the pipe, and a drain is always followed by a dispatch on the same thread.
//! (A read of the pipe would have been worse: a read in flight on an idle ring could take a
//! byte, and its dispatch would then wait until that ring was driven again.) With no `Signal`
//! awaited, the byte waits in the pipe, and the next poll completes at once. A listener counts
//! every dispatch it is part of, so a signal that arrives between two `recv`s is taken by the
//! second. Signals are coalesced twice: by the kernel (a standard signal pending twice is
//! delivered once) and by `pending` (several raises before one dispatch count once).
//!
//! # Unsafe
//!
//! `sigaction`, `pipe2`, `read` and `write` are plain system calls; what matters is that the
//! handler is async-signal-safe: it reads a `static` array and an atomic, stores an atomic,
//! and calls `write(2)`, all of which may interrupt anything, including this module holding
//! a slot's lock.
//!
//! These statics cannot be loom objects, and the handler may not take a lock, so the module
//! uses `std`'s atomics and mutex directly, as `driver/kick.rs` does for its own handler.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;

use crate::fd::SharedFd;
use crate::isolate::isolate;
use crate::signal::kind::{invalid_input, SignalKind};

/// One more than the highest signal number on Linux (`SIGRTMAX` is 64).
const SLOT_COUNT: usize = 65;

/// Per signal number: see the module docs.
static SLOTS: [Slot; SLOT_COUNT] = [const { Slot::new() }; SLOT_COUNT];

/// The self-pipe; see the module docs.
static PIPE: OnceLock<Pipe> = OnceLock::new();

/// Serialises the making of `PIPE` (which can fail, so `OnceLock::get_or_init` cannot).
static PIPE_MADE: Mutex<()> = Mutex::new(());

/// The pipe's write end for the handler, which cannot go through `OnceLock`'s API; -1 until
/// the pipe exists (no handler is installed before).
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

struct Slot {
    pending: AtomicBool,
    state: Mutex<SlotState>,
}

struct SlotState {
    listeners: Vec<Arc<Listener>>,
    /// The disposition our handler replaced; `Some` exactly while ours is installed.
    previous: Option<libc::sigaction>,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            pending: AtomicBool::new(false),
            state: Mutex::new(SlotState {
                listeners: Vec::new(),
                previous: None,
            }),
        }
    }

    /// Locks the slot's state, ignoring poisoning: every critical section of this module
    /// leaves it consistent (it pushes, removes or swaps values; no user code runs in one).
    fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct Pipe {
    /// Shared with the polls in flight on it (though it is never closed).
    read: SharedFd,
    /// Only written through `WRITE_FD`; owned here so that it is never closed.
    _write: OwnedFd,
}

/// One `Signal`'s share of the registry: its uncollected deliveries and its task's waker.
#[derive(Debug)]
pub(super) struct Listener {
    deliveries: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Listener {
    fn new() -> Listener {
        Listener {
            deliveries: AtomicUsize::new(0),
            waker: Mutex::new(None),
        }
    }

    fn lock_waker(&self) -> MutexGuard<'_, Option<Waker>> {
        // Not poisoned in practice: only `Option` moves happen under it.
        self.waker
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes one delivery, if there is one.
    pub(super) fn take_delivery(&self) -> bool {
        self.deliveries
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Stores the waker of the task awaiting this listener.
    pub(super) fn register(&self, waker: &Waker) {
        if self
            .lock_waker()
            .as_ref()
            .is_some_and(|w| w.will_wake(waker))
        {
            return;
        }
        // Cloned before, and the old one dropped after, the lock: both are user code.
        let new = waker.clone();
        let old = self.lock_waker().replace(new);
        drop(old);
    }

    /// Counts one delivery; returns the waker to wake once no lock is held.
    fn deliver(&self) -> Option<Waker> {
        // Saturating: 2^64 undelivered signals would take centuries to raise.
        let _ = self
            .deliveries
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_add(1))
            });
        self.lock_waker().take()
    }
}

/// The handler installed for every listened signal; see the module docs.
extern "C" fn on_signal(signum: libc::c_int) {
    // SAFETY: `__errno_location` returns this thread's errno; a handler that makes a system
    // call must give the interrupted code its errno back.
    let saved = unsafe { *libc::__errno_location() };
    if let Some(slot) = usize::try_from(signum).ok().and_then(|n| SLOTS.get(n)) {
        slot.pending.store(true, Ordering::SeqCst);
    }
    let fd = WRITE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = signum as u8;
        // SAFETY: `write(2)` is async-signal-safe; `fd` is the pipe's write end, which is
        // never closed, and the buffer is a local byte. Its result is ignored: `EAGAIN`
        // means the pipe is full, so a wake-up is already waiting in it.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

/// The pipe, made on first use.
fn pipe() -> io::Result<&'static Pipe> {
    if let Some(pipe) = PIPE.get() {
        return Ok(pipe);
    }
    let _made = PIPE_MADE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pipe) = PIPE.get() {
        return Ok(pipe);
    }
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `pipe2(2)` writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `pipe2` succeeded: both are new descriptors that nothing else owns.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let pipe = PIPE.get_or_init(|| Pipe {
        read: SharedFd::new(read),
        _write: write,
    });
    // Before any handler is installed: `listen` installs after this returns.
    WRITE_FD.store(pipe._write.as_raw_fd(), Ordering::SeqCst);
    Ok(pipe)
}

/// The read end of the pipe, for the polls of a `Signal`, which exists only once `listen`
/// has made the pipe.
pub(super) fn reader() -> SharedFd {
    PIPE.get()
        .expect("a Signal exists only once listen made the pipe")
        .read
        .clone()
}

/// Empties the pipe, then dispatches (protocol step 4). A call with nothing pending costs a
/// `read` and a look at each slot.
pub(super) fn drain_and_dispatch() {
    if let Some(pipe) = PIPE.get() {
        let mut scratch = [0u8; 64];
        loop {
            // SAFETY: `read(2)` into a local buffer of the length given, from the pipe's read
            // end, which `pipe` keeps open.
            let n =
                unsafe { libc::read(pipe.read.raw(), scratch.as_mut_ptr().cast(), scratch.len()) };
            // Stop when empty (`EAGAIN`), at a short read (nothing more for now), or on any
            // error but `EINTR`: the pending flags, not the bytes, say what arrived.
            if n == scratch.len() as isize {
                continue;
            }
            if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            break;
        }
    }
    dispatch();
}

/// Registers a listener of `kind`, installing the handler if it is the first (step 1).
pub(super) fn listen(kind: SignalKind) -> io::Result<Arc<Listener>> {
    kind.check()?;
    let signum = kind.as_raw_value();
    if crate::driver::is_kick_signal(signum) {
        return Err(invalid_input(
            kind,
            "is the signal ringloop sends to wake worker threads stuck in a long poll \
             (`Builder::stuck_worker_signal`): choose another signal for one or the other",
        ));
    }
    pipe()?;
    let slot = &SLOTS[signum as usize];
    let mut state = slot.lock();
    if state.previous.is_none() {
        // Whatever a handler of an earlier listening left behind is not for this listener.
        slot.pending.store(false, Ordering::SeqCst);
        state.previous = Some(install(kind)?);
    }
    let listener = Arc::new(Listener::new());
    state.listeners.push(Arc::clone(&listener));
    Ok(listener)
}

/// Unregisters `listener`; the last listener of `kind` restores the old disposition (step 6).
pub(super) fn unlisten(kind: SignalKind, listener: &Arc<Listener>) {
    let slot = &SLOTS[kind.as_raw_value() as usize];
    let removed = {
        let mut state = slot.lock();
        let at = state
            .listeners
            .iter()
            .position(|l| Arc::ptr_eq(l, listener));
        let removed = at.map(|at| state.listeners.swap_remove(at));
        if state.listeners.is_empty() {
            if let Some(previous) = state.previous.take() {
                restore(kind, &previous);
            }
        }
        removed
    };
    // The list's reference goes outside the lock (the `Signal` holds another).
    drop(removed);
}

/// Adds a delivery to every listener of each signal that arrived since the last dispatch,
/// and wakes them (step 4).
fn dispatch() {
    let mut wakers = Vec::new();
    for slot in &SLOTS {
        if !slot.pending.load(Ordering::SeqCst) || !slot.pending.swap(false, Ordering::SeqCst) {
            continue;
        }
        let state = slot.lock();
        wakers.extend(state.listeners.iter().filter_map(|l| l.deliver()));
    }
    for waker in wakers {
        isolate("a signal woke a task", || waker.wake());
    }
}

/// The handler's address, as `sigaction` stores it.
fn handler() -> libc::sighandler_t {
    on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t
}

/// Installs [`on_signal`] for `kind`; returns the disposition it replaced.
fn install(kind: SignalKind) -> io::Result<libc::sigaction> {
    // SAFETY: an all-zero `sigaction` is a valid value (no handler, no flags, empty mask);
    // the fields that matter are set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler();
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid sigset to empty.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    // SAFETY: as above: a valid value that `sigaction` overwrites.
    let mut previous: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointers to an initialised action and to the space for the old one; the
    // handler is async-signal-safe (module docs).
    if unsafe { libc::sigaction(kind.as_raw_value(), &action, &mut previous) } != 0 {
        let err = io::Error::last_os_error();
        return Err(if err.raw_os_error() == Some(libc::EINVAL) {
            invalid_input(kind, "cannot be handled on this system (sigaction: EINVAL)")
        } else {
            err
        });
    }
    Ok(previous)
}

/// Puts `previous` back for `kind` if our handler is still the one installed (code outside
/// ringloop may have replaced it since, and keeps its own then).
fn restore(kind: SignalKind, previous: &libc::sigaction) {
    let signum = kind.as_raw_value();
    // SAFETY: as in `install`.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the current one.
    let read = unsafe { libc::sigaction(signum, std::ptr::null(), &mut current) };
    if read != 0 || current.sa_sigaction != handler() {
        log::debug!("ringloop: {kind} has another handler now; it is left in place");
        return;
    }
    // SAFETY: `previous` is what `sigaction` gave back when ours was installed.
    if unsafe { libc::sigaction(signum, previous, std::ptr::null_mut()) } != 0 {
        log::warn!(
            "ringloop: cannot restore the disposition of {kind} ({}); its signals now go \
             unanswered",
            io::Error::last_os_error()
        );
    }
}
