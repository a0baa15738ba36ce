//! Unix signals, delivered through the ring: [`ctrl_c`], and [`signal`] for a stream of any
//! signal.
//!
//! ```
//! use ringloop::signal::{signal, SignalKind};
//!
//! ringloop::run(async {
//!     // Listening starts here: from now on SIGHUP is counted, not fatal.
//!     let mut hangups = signal(SignalKind::hangup())?;
//!     // SAFETY: kill(2) takes no pointers.
//!     unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
//!     hangups.recv().await.expect("the runtime is running");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # How signals reach the ring
//!
//! The first listener of a signal installs a `sigaction` handler for it, in the whole
//! process. The handler records the signal in a flag and writes one byte into a pipe; a
//! [`Signal`] being awaited keeps an `IORING_OP_POLL_ADD` of that pipe in flight on the ring
//! of the thread that polled it, and the first task woken by such a poll empties the pipe and
//! hands the signal to every listener of it, in every runtime of the process, and wakes them.
//! The protocol, and why no signal raised while someone listens is lost, are in
//! `registry.rs`.
//!
//! No signal mask is changed, so this works whatever threads the process has (threads that
//! are not ringloop's, threads started before the runtime) and on every flavour of runtime:
//! the kernel runs the handler on any thread that does not block the signal. (`signalfd`
//! only sees a signal that every thread of the process blocks, which a library cannot
//! ensure: a thread that does not block it takes the default action, ending the process.)
//!
//! # What changes for the process
//!
//! * While a listener of a signal exists, the signal no longer has its previous disposition:
//!   a `SIGINT` or `SIGTERM` no longer ends the process, a `SIGHUP` ignored under `nohup` is
//!   counted. When the last listener of a signal in the process is dropped, the previous
//!   disposition is put back (unless code outside ringloop installed another handler since),
//!   as asyncio's `remove_signal_handler` does. A signal that arrives after that has its old
//!   effect again: to keep answering Ctrl-C in a loop, keep one [`Signal`] rather than
//!   calling [`ctrl_c`] again each time.
//! * A signal that arrives while listeners exist but none is awaiting waits in the pipe; the
//!   next `recv` of any of them counts it for every listener registered at that moment, so
//!   their next `recv` returns at once. Several arrivals before a `recv` may count once (the
//!   kernel itself merges a standard signal that is already pending).
//! * A previous handler is replaced, not called, while ringloop listens.
//! * `SIGKILL`, `SIGSTOP` and the fault signals (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`)
//!   cannot be listened to, nor the signal a runtime kicks stuck workers with
//!   (`Builder::stuck_worker_signal`, `SIGURG` by default).

mod kind;
mod registry;

pub use kind::SignalKind;

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::op::poll_add::PollAdd;
use crate::op::Op;
use registry::Listener;

/// Completes at the next `SIGINT` (Ctrl-C in a terminal).
///
/// Listening starts when `ctrl_c` is called, not when the future is first polled: a `SIGINT`
/// raised after the call is seen by the future, and no longer ends the process while the
/// future lives. Dropping the future (or its completion) ends the listening; with no other
/// listener of `SIGINT` in the process, Ctrl-C ends the process again.
///
/// # Errors
///
/// If listening fails (see [`signal`]), or the future is polled outside a ringloop runtime,
/// or after its runtime shut down.
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let interrupted = ringloop::signal::ctrl_c();
///     // SAFETY: kill(2) takes no pointers.
///     unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
///     interrupted.await?;
///     println!("shutting down");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn ctrl_c() -> impl Future<Output = io::Result<()>> + Send + 'static {
    let listening = signal(SignalKind::interrupt());
    async move {
        let mut signal = listening?;
        poll_fn(|cx| signal.poll_delivery(cx)).await
    }
}

/// Starts listening to `kind`: the returned [`Signal`] receives every arrival from now on,
/// until it is dropped (tokio's `signal::unix::signal`).
///
/// It may be called on any thread, inside a runtime or not; its [`recv`](Signal::recv) must
/// be awaited inside a ringloop runtime.
///
/// # Errors
///
/// [`InvalidInput`](io::ErrorKind::InvalidInput), with a message naming the signal, for
/// `SIGKILL`, `SIGSTOP`, the fault signals (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`), a
/// number that names no signal, one the C library reserves, or the signal a runtime kicks
/// stuck workers with. The `pipe2(2)` or `sigaction(2)` error if either fails.
///
/// # Examples
/// ```
/// use std::io::ErrorKind;
/// use ringloop::signal::{signal, SignalKind};
///
/// let err = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidInput);
/// assert!(err.to_string().contains("SIGKILL"), "{err}");
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let listener = registry::listen(kind)?;
    Ok(Signal {
        kind,
        listener,
        readable: None,
    })
}

/// The arrivals of one signal, from [`signal`]: each [`recv`](Signal::recv) completes at
/// one arrival, or at once for an arrival since the previous `recv`.
///
/// A `Signal` can move between tasks, threads and runtimes; dropping it stops listening (the
/// module docs say what that restores).
///
/// # Examples
///
/// Arrivals between two `recv`s are kept for the next one:
///
/// ```
/// use ringloop::signal::{signal, SignalKind};
///
/// ringloop::run(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     for _ in 0..3 {
///         // SAFETY: kill(2) takes no pointers.
///         unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
///         ringloop::sleep(std::time::Duration::from_millis(5)).await?;
///         usr1.recv().await.expect("the runtime is running");
///     }
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Signal {
    kind: SignalKind,
    listener: Arc<Listener>,
    /// The poll of the signal pipe this `Signal` keeps in flight while it is awaited, on the
    /// ring of the thread that polled it. It may stay in flight between `recv`s: it takes
    /// nothing from the pipe.
    readable: Option<Op<PollAdd>>,
}

impl Signal {
    /// Waits for the next arrival of the signal; `Some(())` for one, `None` if it cannot
    /// wait: polled outside a ringloop runtime, or its runtime shut down.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: arrivals are counted in the `Signal`, not in the future, so a `recv`
    /// dropped before it completes loses none.
    pub fn recv(&mut self) -> impl Future<Output = Option<()>> + Send + Unpin + '_ {
        poll_fn(move |cx| self.poll_recv(cx))
    }

    /// Polls for the next arrival, as [`recv`](Signal::recv) does: for a hand-written
    /// `Future` or `Stream`.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.poll_delivery(cx).map(|result| {
            if let Err(err) = &result {
                log::debug!("ringloop: cannot wait for {}: {err}", self.kind);
            }
            result.ok()
        })
    }

    /// Which signal this is.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// The next arrival, or why none can be waited for (registry protocol, step 5).
    fn poll_delivery(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if self.listener.take_delivery() {
                return Poll::Ready(Ok(()));
            }
            self.listener.register(cx.waker());
            if self.listener.take_delivery() {
                return Poll::Ready(Ok(()));
            }
            // A poll left on another ring (the task moved, or the `Signal` did, maybe out of a
            // runtime that is no longer driven) is dropped, and a new one made on this one.
            if self.readable.as_ref().is_some_and(Op::in_flight_elsewhere) {
                self.readable = None;
            }
            let readable = self
                .readable
                .get_or_insert_with(|| Op::new(PollAdd::new(registry::reader(), libc::POLLIN)));
            let Poll::Ready(result) = Pin::new(readable).poll(cx) else {
                return Poll::Pending;
            };
            self.readable = None;
            match result {
                Ok(_) => registry::drain_and_dispatch(),
                Err(err) if err.raw_os_error() == Some(libc::EINTR) => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        registry::unlisten(self.kind, &self.listener);
        // Then the poll, if in flight, is cancelled when the field is dropped: it took
        // nothing from the pipe.
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .field("polling", &self.readable.is_some())
            .finish_non_exhaustive()
    }
}
