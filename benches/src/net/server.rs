//! What every runtime's echo server shares: its listener and its lifecycle.
//!
//! The server under test is written once per runtime (each has its own socket types; see
//! [`crate::runtimes::IoRt::spawn_echo_server`]), always with the same shape: an accept loop
//! that spawns one task per connection, and each task reads into its own buffer of
//! `buffer_size` bytes and writes back what it read, until end of stream. [`EchoServer`] is
//! the state those tasks share: the [`WaitGroup`] of live tasks and the stop flag.
//!
//! # Stopping
//!
//! [`EchoServer::shut_down`] sets the flag and connects once to the listener; the accept loop
//! wakes up with that connection, sees the flag, and returns, closing the listener. The
//! connection tasks end when their clients close. `shut_down` then waits until every task
//! has ended, so nothing of the server outlives the sample.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use socket2::{Domain, Protocol, Socket, Type};

use crate::sync::WaitGroup;

/// The listen backlog of every server (what ringloop, tokio and monoio use by default).
pub const BACKLOG: i32 = 1024;

/// A listener on `127.0.0.1`, on a port the kernel picks, made the same way for every
/// runtime (`SO_REUSEADDR`, backlog [`BACKLOG`], close-on-exec) and then handed to the
/// runtime's own listener type. It is blocking, as the io_uring runtimes want their sockets
/// (io_uring completes an op on an `O_NONBLOCK` socket with `EAGAIN` instead of waiting);
/// tokio's adapter makes it non-blocking.
///
/// # Errors
///
/// The `socket(2)`, `bind(2)` or `listen(2)` error.
pub fn loopback_listener() -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// The shared state of one echo server; see the module docs.
#[derive(Debug)]
pub struct EchoServer {
    buffer_size: usize,
    stopping: AtomicBool,
    tasks: WaitGroup,
    accepted: AtomicUsize,
    error: Mutex<Option<String>>,
}

impl EchoServer {
    /// A server whose connection tasks read into `buffer_size`-byte buffers. The accept
    /// loop's task is counted from the start.
    pub fn new(buffer_size: usize) -> Arc<Self> {
        let server = EchoServer {
            buffer_size,
            stopping: AtomicBool::new(false),
            tasks: WaitGroup::new(),
            accepted: AtomicUsize::new(0),
            error: Mutex::new(None),
        };
        server.tasks.add(1);
        Arc::new(server)
    }

    /// Each connection task's buffer size.
    pub fn buffer_size(&self) -> usize {
        self.buffer_size
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

    /// A connection task ended.
    pub fn connection_done(&self) {
        self.tasks.done();
    }

    /// The accept loop ended (after a stop, or with `error`).
    pub fn accept_loop_done(&self, error: Option<io::Error>) {
        if let Some(error) = error {
            *self.error.lock() = Some(format!("accept failed: {error}"));
        }
        self.tasks.done();
    }

    /// Connections accepted so far (not counting the one that stops the server).
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Stops the accept loop listening at `addr` and waits until every task has ended.
    /// Clients must have closed their connections (or be about to).
    ///
    /// # Errors
    ///
    /// An accept error the server met, or the wake-up connection's.
    pub async fn shut_down(&self, addr: SocketAddr) -> Result<(), String> {
        self.stopping.store(true, Ordering::Release);
        // The kernel completes the handshake from the backlog; no accept needs to run yet.
        let wake = std::net::TcpStream::connect(addr)
            .map_err(|e| format!("could not connect to stop the server: {e}"))?;
        self.tasks.wait().await;
        drop(wake);
        match self.error.lock().take() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
