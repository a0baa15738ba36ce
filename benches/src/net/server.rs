//! What every runtime's echo server shares: its lifecycle (its listeners are `listener.rs`'s).
//!
//! The server under test is written once per runtime (each has its own socket types; see
//! [`crate::runtimes::IoRt::spawn_echo_server`]), always with the same shape: an accept loop
//! that spawns one task per connection, and each task reads into its own buffer of
//! `buffer_size` bytes, runs the request's handler if the server has one
//! ([`EchoServer::handle`]: the `mixed_*` rows), and writes back what it read, until end of
//! stream. [`EchoServer`] is the state those tasks share: the [`WaitGroup`] of live tasks,
//! the stop flag, and counts a workload can check (connections accepted, first reads
//! polled, connections ended).
//!
//! # Stopping
//!
//! [`EchoServer::stop`] sets the flag and connects once to the listener; the accept loop
//! wakes up with that connection, sees the flag, and returns, closing the listener. The
//! connection tasks end when their clients close. [`EchoServer::finished`] waits until every
//! task has ended, so nothing of the server outlives the sample; [`EchoServer::shut_down`]
//! does both. `stop` needs no runtime, so a plain thread can stop the server and the
//! runtime need not poll for news with a timer (the child server's idle figure counts on
//! it: see `crate::child`).
//!
//! One connection wakes one accept loop. Where several accept loops share a port, one per
//! runtime (`monoio-reuseport`), each runtime has an [`EchoServer`] of its own (a monoio
//! runtime can only be woken from its own thread, so each waits for its own tasks), and
//! the kernel hands each wake-up connection to any one of the listeners: their owner calls
//! [`EchoServer::request_stop`] on every server, then connects until
//! [`EchoServer::accept_loop_ended`] holds for all of them (see
//! `crate::runtimes::MonoioReuseportRt`). The single-listener servers never read that flag.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::sync::{FirstPoll, WaitGroup};

/// The shared state of one echo server; see the module docs.
#[derive(Debug)]
pub struct EchoServer {
    buffer_size: usize,
    runs_handlers: bool,
    stopping: AtomicBool,
    tasks: WaitGroup,
    accept_loop_ended: AtomicBool,
    accepted: AtomicUsize,
    first_reads: AtomicUsize,
    ended: AtomicUsize,
    error: Mutex<Option<String>>,
}

impl EchoServer {
    /// A server whose connection tasks read into `buffer_size`-byte buffers. The accept
    /// loop's task is counted from the start.
    pub fn new(buffer_size: usize) -> Arc<Self> {
        Self::build(buffer_size, false)
    }

    /// A server whose connection tasks run each request's handler (`net::mix::serve`:
    /// burn CPU, or block the thread, as the request's bytes ask) before echoing it: the
    /// `mixed_*` rows' server.
    pub fn with_handlers(buffer_size: usize) -> Arc<Self> {
        Self::build(buffer_size, true)
    }

    /// A fresh server of the same kind (buffer size, handlers), with counts of its own: for
    /// each further runtime of a server spread over several (`monoio-reuseport`).
    pub fn alike(&self) -> Arc<Self> {
        Self::build(self.buffer_size, self.runs_handlers)
    }

    fn build(buffer_size: usize, runs_handlers: bool) -> Arc<Self> {
        let server = EchoServer {
            buffer_size,
            runs_handlers,
            stopping: AtomicBool::new(false),
            tasks: WaitGroup::new(),
            accept_loop_ended: AtomicBool::new(false),
            accepted: AtomicUsize::new(0),
            first_reads: AtomicUsize::new(0),
            ended: AtomicUsize::new(0),
            error: Mutex::new(None),
        };
        server.tasks.add(1);
        Arc::new(server)
    }

    /// Each connection task's buffer size.
    pub fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    /// Runs the request handler on what a read returned, if this server runs handlers
    /// ([`EchoServer::with_handlers`]); a plain echo server does nothing here. Called by
    /// every connection task after each read, before writing the bytes back.
    #[inline]
    pub fn handle(&self, request: &[u8]) {
        if self.runs_handlers {
            super::mix::serve(request);
        }
    }

    /// Called by the accept loop with each new connection: `false` once the server is
    /// stopping (drop the connection and return). Otherwise counts the connection task
    /// about to be spawned, which must call [`EchoServer::connection_done`] at its end.
    pub fn accepted(&self) -> bool {
        if self.stopping.load(Ordering::Acquire) {
            return false;
        }
        self.accepted.fetch_add(1, Ordering::Relaxed);
        self.tasks.add(1);
        true
    }

    /// Wraps a connection task's first read: once the read has been polled (its op
    /// submitted, or its readiness registered), [`EchoServer::first_reads`] counts it.
    /// Only the first read is counted, so the echo loop's later reads cost nothing extra.
    pub fn first_read<'a, F: Future + 'a>(
        &'a self,
        read: F,
    ) -> impl Future<Output = F::Output> + 'a {
        FirstPoll::new(read, move || {
            self.first_reads.fetch_add(1, Ordering::Release);
        })
    }

    /// A connection task ended.
    pub fn connection_done(&self) {
        self.ended.fetch_add(1, Ordering::Release);
        self.tasks.done();
    }

    /// The accept loop ended (after a stop, or with `error`).
    pub fn accept_loop_done(&self, error: Option<io::Error>) {
        if let Some(error) = error {
            *self.error.lock() = Some(format!("accept failed: {error}"));
        }
        self.accept_loop_ended.store(true, Ordering::Release);
        self.tasks.done();
    }

    /// Whether the accept loop has ended (see [`EchoServer::accept_loop_done`]).
    pub fn accept_loop_ended(&self) -> bool {
        self.accept_loop_ended.load(Ordering::Acquire)
    }

    /// Connections accepted so far (not counting the one that stops the server).
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Connection tasks whose first read has been polled (see [`EchoServer::first_read`]).
    /// With clients that send nothing, each of these tasks is waiting in that read for as
    /// long as it has not ended.
    pub fn first_reads(&self) -> usize {
        self.first_reads.load(Ordering::Acquire)
    }

    /// Connection tasks that have ended (their client closed, or a read or write failed).
    pub fn ended(&self) -> usize {
        self.ended.load(Ordering::Acquire)
    }

    /// Sets the stop flag only: the accept loop returns at the next connection it accepts
    /// (which it drops), whoever makes it. [`EchoServer::stop`] also makes one.
    pub fn request_stop(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// Tells the accept loop listening at `addr` to return, from any thread, without the
    /// runtime: sets the stop flag and connects once, so the loop's pending accept
    /// completes. Returns the wake-up connection, which may be closed at once: the accept
    /// loop takes it from the backlog all the same.
    ///
    /// # Errors
    ///
    /// If the wake-up connection fails.
    pub fn stop(&self, addr: SocketAddr) -> Result<TcpStream, String> {
        self.request_stop();
        // The kernel completes the handshake from the backlog; no accept needs to run yet.
        TcpStream::connect(addr).map_err(|e| format!("could not connect to stop the server: {e}"))
    }

    /// Waits until every task has ended: the accept loop (after [`EchoServer::stop`]) and
    /// every connection task (after its client closed).
    ///
    /// # Errors
    ///
    /// An accept error the server met.
    pub async fn finished(&self) -> Result<(), String> {
        self.tasks.wait().await;
        match self.error.lock().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// [`EchoServer::stop`], then [`EchoServer::finished`]. Clients must have closed their
    /// connections (or be about to).
    ///
    /// # Errors
    ///
    /// An accept error the server met, or the wake-up connection's.
    pub async fn shut_down(&self, addr: SocketAddr) -> Result<(), String> {
        let wake = self.stop(addr)?;
        let finished = self.finished().await;
        drop(wake);
        finished
    }
}
