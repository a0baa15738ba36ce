//! Graceful shutdown for the server examples: SIGINT/SIGTERM, and telling connections to
//! finish.
//!
//! * [`Signals`] listens to SIGINT and SIGTERM through the ring (`ringloop::signal`) and
//!   waits for the first; a second one exits at once, as a second Ctrl-C does in most
//!   servers.
//! * [`Stop`] is how connections learn of the shutdown: each waits on one of several events
//!   (so that the connections of different workers do not poll one mutex), set all at once.
//!   [`fill_unless_stopped`] is the connections' read: more bytes, or `None` once stopped.
//!

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use ringloop::signal::{signal, Signal, SignalKind};
use ringloop::streams::StreamReader;
use ringloop::sync::{Event, EventWait};

/// SIGINT and SIGTERM, received through the ring ([`ringloop::signal`]).
pub(crate) struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    /// Listens from now on: neither signal ends the process any more.
    pub(crate) fn new() -> io::Result<Signals> {
        Ok(Signals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for the first of them; then a second one exits at once (as a second Ctrl-C
    /// does in most servers), from a task that keeps listening.
    pub(crate) async fn first(mut self) {
        self.next().await;
        ringloop::create_task(async move {
            self.next().await;
            eprintln!("second signal: exiting at once");
            std::process::exit(1);
        })
        .detach();
    }

    /// The next SIGINT or SIGTERM.
    async fn next(&mut self) {
        poll_fn(|cx| {
            let interrupt = self.interrupt.poll_recv(cx).is_ready();
            if interrupt || self.terminate.poll_recv(cx).is_ready() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
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
