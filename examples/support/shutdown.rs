//! Graceful shutdown for the server examples: SIGINT/SIGTERM, and telling connections to
//! finish.
//!
//! * [`watch_signals`] blocks SIGINT and SIGTERM in the calling thread (and so in every thread
//!   started after it: call it before building the runtime) and starts a thread that takes
//!   them with `sigwait(3)` and sets an [`Event`], which [`shutdown_signal`] awaits. A second
//!   signal exits at once, as a second Ctrl-C does in most servers.
//! * [`Stop`] is how connections learn of the shutdown: each waits on one of several events
//!   (so that the connections of different workers do not poll one mutex), set all at once.
//!   [`fill_unless_stopped`] is the connections' read: more bytes, or `None` once stopped.
//!
//! TODO(signal): use ringloop::signal (`ctrl_c()` and SIGTERM) in `shutdown_signal`, and drop
//! the thread and `libc` here, once the runtime has it.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use ringloop::streams::StreamReader;
use ringloop::sync::{Event, EventWait};

/// Blocks SIGINT and SIGTERM for this thread and those it starts from now on, and starts the
/// thread that waits for them; the event is set at the first one.
pub(crate) fn watch_signals() -> io::Result<Arc<Event>> {
    // SAFETY: `sigset_t` is plain data, for which all zeroes is a valid (if unspecified)
    // value, and `sigemptyset` initialises it before any other use. Nothing here unwinds.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable `sigset_t`; the signal numbers are valid. These
    // calls only touch `set` and this thread's signal mask; none can unwind.
    let blocked = unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut())
    };
    if blocked != 0 {
        return Err(io::Error::from_raw_os_error(blocked));
    }
    let received = Arc::new(Event::new());
    let event = Arc::clone(&received);
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for count in 1.. {
                let mut signal = 0;
                // SAFETY: `set` is an initialised `sigset_t` (moved into this thread) whose
                // signals are blocked in every thread, `signal` a valid place for the result;
                // `sigwait` writes nothing else and cannot unwind.
                if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
                    continue;
                }
                if count > 1 {
                    eprintln!("second signal {signal}: exiting at once");
                    std::process::exit(1);
                }
                // `Event::set` wakes the waiting task from this thread: the runtime's wakers
                // may be woken from any thread.
                event.set();
            }
        })?;
    Ok(received)
}

/// Waits for SIGINT or SIGTERM (the event [`watch_signals`] returned).
// TODO(signal): use ringloop::signal
pub(crate) async fn shutdown_signal(received: &Event) {
    received.wait().await;
}

/// Tells every connection to finish; see the module docs.
#[derive(Debug)]
pub(crate) struct Stop {
    events: Box<[Event]>,
    next: AtomicUsize,
}

impl Stop {
    /// `n` events (a connection polls one of them while it waits for bytes).
    pub(crate) fn new(n: usize) -> Stop {
        Stop {
            events: (0..n.max(1)).map(|_| Event::new()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// An event for one more connection, round robin.
    pub(crate) fn event(&self) -> &Event {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        &self.events[i % self.events.len()]
    }

    /// Stops every connection.
    pub(crate) fn stop(&self) {
        self.events.iter().for_each(Event::set);
    }
}

/// Receives more bytes into `reader` (as [`StreamReader::fill`]), or returns `None` once
/// `stopped` (the connection's wait on a [`Stop`] event, kept across calls) completes. Both
/// are cancel-safe: a fill dropped here loses nothing.
pub(crate) async fn fill_unless_stopped(
    reader: &mut StreamReader,
    mut stopped: Pin<&mut EventWait<'_>>,
) -> Option<io::Result<usize>> {
    let mut fill = std::pin::pin!(reader.fill());
    poll_fn(|cx| {
        // The stop first, so that a connection that always has bytes still stops.
        if stopped.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        fill.as_mut().poll(cx).map(Some)
    })
    .await
}
