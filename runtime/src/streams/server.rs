//! [`Server`]: asyncio's `start_server`, a task per listening socket accepting connections
//! and a task per connection running the user's handler.
//!
//! # Bookkeeping
//!
//! One count, `running`, of the server's tasks (accept loops and connection handlers), each
//! holding a [`Running`] guard that decrements it on drop (whether the task returns, panics
//! or is cancelled). `close` cancels the accept loops; `wait_closed` waits for the server to
//! be closed and the count to reach zero, so it returns once every listening socket is
//! closed and every handler has finished.

use std::any::Any;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::mem;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use parking_lot::Mutex;
use ringloop_io::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use ringloop_io::stream::{StreamAddr, StreamReader, StreamSocket, StreamWriter};
use socket2::{SockAddr, Socket, Type};

use crate::report::report;
use crate::task::Task;

/// How long an accept loop pauses after running out of descriptors or memory (asyncio
/// pauses a second; a server at its descriptor limit should retry sooner).
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// The options of [`start_server`](crate::start_server): the listen backlog,
/// `SO_REUSEPORT`, and the limit of each connection's reader.
///
/// ```
/// use ringloop::streams::{ServerConfig, StreamReader, StreamWriter};
///
/// ringloop::run(async {
///     let server = ServerConfig::new()
///         .backlog(4096)
///         .reuse_port(true)
///         .limit(1 << 20)
///         .start(|_r: StreamReader, _w: StreamWriter| async {}, "127.0.0.1", 0)
///         .await?;
///     assert!(server.is_serving());
///     server.close();
///     server.wait_closed().await;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    backlog: i32,
    reuse_port: bool,
    limit: usize,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig::new()
    }
}

impl ServerConfig {
    /// Backlog 1024 (capped by the kernel's `net.core.somaxconn`), no `SO_REUSEPORT`, a
    /// reader limit of 64 KiB.
    pub fn new() -> ServerConfig {
        ServerConfig {
            backlog: 1024,
            reuse_port: false,
            limit: StreamReader::DEFAULT_LIMIT,
        }
    }

    /// The `listen(2)` backlog: connections the kernel queues before they are accepted.
    pub fn backlog(mut self, backlog: u32) -> ServerConfig {
        self.backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        self
    }

    /// Sets `SO_REUSEPORT` on the listening sockets, so that several servers (processes,
    /// or runtimes) can listen on one port and the kernel spreads connections among them.
    pub fn reuse_port(mut self, reuse_port: bool) -> ServerConfig {
        self.reuse_port = reuse_port;
        self
    }

    /// The limit of each connection's [`StreamReader`] (the longest line it accepts).
    pub fn limit(mut self, limit: usize) -> ServerConfig {
        self.limit = limit;
        self
    }

    /// Listens on `host:port` and serves each connection with `handler` (asyncio's
    /// `start_server(handler, host, port)`); see [`start_server`](crate::start_server).
    ///
    /// # Errors
    ///
    /// The resolver's error, or the first `bind(2)`/`listen(2)` error (`AddrInUse`, ...);
    /// nothing listens then.
    pub async fn start<H, F>(&self, handler: H, host: &str, port: u16) -> io::Result<Server>
    where
        H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
        F: Future + Send + 'static,
        F::Output: HandlerOutput,
    {
        let addrs = super::resolve::resolve(host, port).await?;
        let mut listeners = Vec::with_capacity(addrs.len());
        for addr in &addrs {
            // Several addresses (`localhost`, every interface): each IPv6 socket takes only
            // IPv6, so that it does not clash with the IPv4 one.
            let socket = self.listen(SockAddr::from(*addr), addrs.len() > 1)?;
            listeners.push(TcpListener::from_std(socket.into())?);
        }
        let addrs = listeners
            .iter()
            .map(|l| l.local_addr().map(StreamAddr::Inet))
            .collect::<io::Result<_>>()?;
        let server = Server::new(addrs, None);
        let handler = Arc::new(handler);
        for listener in listeners {
            server.serve(listener, Arc::clone(&handler), self.limit);
        }
        Ok(server)
    }

    /// Listens on the Unix socket `path` (which must not exist) and serves each connection
    /// with `handler` (asyncio's `start_unix_server`). The socket file is removed when the
    /// server is closed.
    ///
    /// # Errors
    ///
    /// The `bind(2)`/`listen(2)` error (`AddrInUse` if `path` exists, ...).
    pub async fn start_unix<H, F>(&self, handler: H, path: impl AsRef<Path>) -> io::Result<Server>
    where
        H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
        F: Future + Send + 'static,
        F::Output: HandlerOutput,
    {
        let path = path.as_ref();
        let socket = self.listen(SockAddr::unix(path)?, false)?;
        let listener = UnixListener::from_std(std::os::unix::net::UnixListener::from(
            std::os::fd::OwnedFd::from(socket),
        ))?;
        let addr = StreamAddr::Unix(listener.local_addr()?);
        let server = Server::new(vec![addr], Some(path.to_owned()));
        server.serve(listener, Arc::new(handler), self.limit);
        Ok(server)
    }

    /// A listening socket on `addr` with these options.
    fn listen(&self, addr: SockAddr, v6_only: bool) -> io::Result<Socket> {
        let socket = Socket::new(addr.domain(), Type::STREAM, None)?;
        if !addr.is_unix() {
            socket.set_reuse_address(true)?;
            if self.reuse_port {
                socket.set_reuse_port(true)?;
            }
            if v6_only && addr.is_ipv6() {
                socket.set_only_v6(true)?;
            }
        }
        socket.bind(&addr)?;
        socket.listen(self.backlog)?;
        Ok(socket)
    }
}

/// What a connection handler may return: `()`, or a `Result` whose error is reported (as
/// asyncio's loop reports an exception raised by a `client_connected_cb`), unless it is an
/// `io::Error` saying the peer went away (`ConnectionReset`, `ConnectionAborted`,
/// `BrokenPipe`, `UnexpectedEof`): that is how connections end, not a failure.
pub trait HandlerOutput: Send + 'static {
    /// The error to report, if any.
    fn into_error(self) -> Option<String>;
}

impl HandlerOutput for () {
    fn into_error(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Display + Send + 'static> HandlerOutput for Result<(), E> {
    fn into_error(self) -> Option<String> {
        let e = self.err()?;
        // The peer going away is how connections end, not the handler's failure.
        let io = (&e as &dyn Any).downcast_ref::<io::Error>();
        if io.is_some_and(|e| is_peer_gone(e.kind())) {
            return None;
        }
        Some(e.to_string())
    }
}

/// Errors that mean the peer closed or reset the connection.
fn is_peer_gone(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// A listening socket the server accepts from: TCP or Unix.
trait Listen: Send + Sync + 'static {
    type Stream: StreamSocket + Send + ConnectionSetup;
    type Peer: fmt::Debug + Send;

    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, Self::Peer)>> + Send;
}

/// What a server sets on each accepted connection.
trait ConnectionSetup {
    fn set_up(&self) -> io::Result<()>;
}

impl Listen for TcpListener {
    type Stream = TcpStream;
    type Peer = SocketAddr;

    fn accept(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        TcpListener::accept(self)
    }
}

impl ConnectionSetup for TcpStream {
    /// `TCP_NODELAY`, as asyncio sets on every TCP connection.
    fn set_up(&self) -> io::Result<()> {
        self.set_nodelay(true)
    }
}

impl Listen for UnixListener {
    type Stream = UnixStream;
    type Peer = std::os::unix::net::SocketAddr;

    fn accept(
        &self,
    ) -> impl Future<Output = io::Result<(UnixStream, std::os::unix::net::SocketAddr)>> + Send {
        UnixListener::accept(self)
    }
}

impl ConnectionSetup for UnixStream {
    fn set_up(&self) -> io::Result<()> {
        Ok(())
    }
}

/// A server made by [`start_server`](crate::start_server) or
/// [`start_unix_server`](crate::start_unix_server) (asyncio's `Server`).
///
/// It serves from the moment it is made until [`close`](Server::close): dropping the
/// `Server` does not stop it (as in asyncio, where the loop keeps it). Cloning gives another
/// handle on the same server.
///
/// | asyncio | ringloop |
/// |---|---|
/// | `server.sockets` | [`sockets()`](Server::sockets) (their addresses) |
/// | `server.close()` | [`close()`](Server::close) |
/// | `await server.wait_closed()` | [`wait_closed().await`](Server::wait_closed) |
/// | `await server.serve_forever()` | [`serve_forever().await`](Server::serve_forever) |
/// | `server.is_serving()` | [`is_serving()`](Server::is_serving) |
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

struct Inner {
    addrs: Vec<StreamAddr>,
    /// The Unix socket file, removed on close.
    unix_path: Option<PathBuf>,
    state: Mutex<State>,
}

struct State {
    /// The accept loops, until `close` cancels them.
    accepting: Vec<Task<()>>,
    closed: bool,
    /// Accept loops and connection handlers still running (module docs).
    running: usize,
    /// Tasks in `wait_closed` or `serve_forever`.
    waiters: Vec<Waker>,
}

/// Counts one of the server's tasks while it runs; see the module docs.
struct Running(Arc<Inner>);

impl Running {
    fn new(inner: &Arc<Inner>) -> Running {
        inner.state.lock().running += 1;
        Running(Arc::clone(inner))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let waiters = {
            let mut state = self.0.state.lock();
            state.running -= 1;
            if state.running == 0 && state.closed {
                mem::take(&mut state.waiters)
            } else {
                Vec::new()
            }
        };
        waiters.into_iter().for_each(Waker::wake);
    }
}

impl Server {
    fn new(addrs: Vec<StreamAddr>, unix_path: Option<PathBuf>) -> Server {
        Server {
            inner: Arc::new(Inner {
                addrs,
                unix_path,
                state: Mutex::new(State {
                    accepting: Vec::new(),
                    closed: false,
                    running: 0,
                    waiters: Vec::new(),
                }),
            }),
        }
    }

    /// Starts the accept loop of `listener`.
    fn serve<L, H, F>(&self, listener: L, handler: Arc<H>, limit: usize)
    where
        L: Listen,
        H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
        F: Future + Send + 'static,
        F::Output: HandlerOutput,
    {
        let running = Running::new(&self.inner);
        let inner = Arc::clone(&self.inner);
        let task = crate::create_task(async move {
            let _running = running;
            accept_loop(&inner, listener, handler, limit).await;
        });
        self.inner.state.lock().accepting.push(task);
    }

    /// The addresses the server listens on (asyncio's `server.sockets`, as addresses): one
    /// per address `host` resolved to.
    pub fn sockets(&self) -> &[StreamAddr] {
        &self.inner.addrs
    }

    /// The first address the server listens on (with the port the kernel chose, when the
    /// port asked for was 0).
    pub fn local_addr(&self) -> Option<&StreamAddr> {
        self.inner.addrs.first()
    }

    /// Whether the server accepts connections (until [`close`](Server::close)).
    pub fn is_serving(&self) -> bool {
        !self.inner.state.lock().closed
    }

    /// Stops accepting: the listening sockets are closed (and a Unix socket's file removed);
    /// connections already accepted go on, and their handlers run to the end. Calling it
    /// again does nothing.
    pub fn close(&self) {
        let (accepting, waiters) = {
            let mut state = self.inner.state.lock();
            if state.closed {
                return;
            }
            state.closed = true;
            // `serve_forever` returns now; `wait_closed` checks the count again.
            (
                mem::take(&mut state.accepting),
                mem::take(&mut state.waiters),
            )
        };
        for task in accepting {
            task.cancel();
        }
        if let Some(path) = &self.inner.unix_path {
            let _ = std::fs::remove_file(path);
        }
        waiters.into_iter().for_each(Waker::wake);
    }

    /// Waits until the server is closed and every connection's handler has finished.
    ///
    /// Use it with a timeout for a graceful shutdown: `close()`, then
    /// `wait_for(server.wait_closed(), grace)`.
    pub fn wait_closed(&self) -> impl Future<Output = ()> + Send + '_ {
        poll_fn(move |cx| {
            let mut state = self.inner.state.lock();
            if state.closed && state.running == 0 {
                return Poll::Ready(());
            }
            register(&mut state.waiters, cx.waker());
            Poll::Pending
        })
    }

    /// Serves until the server is closed (by [`close`](Server::close), from another task or
    /// a signal handler). Cancelled (its future dropped before that), it closes the server,
    /// as asyncio's does.
    pub async fn serve_forever(&self) {
        let guard = CloseOnDrop(self);
        poll_fn(|cx| {
            let mut state = self.inner.state.lock();
            if state.closed {
                return Poll::Ready(());
            }
            register(&mut state.waiters, cx.waker());
            Poll::Pending
        })
        .await;
        // Closed already: nothing for the guard to do.
        mem::forget(guard);
    }
}

/// Closes the server if `serve_forever` is dropped before it returns.
struct CloseOnDrop<'a>(&'a Server);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

fn register(list: &mut Vec<Waker>, waker: &Waker) {
    if !list.iter().any(|w| w.will_wake(waker)) {
        list.push(waker.clone());
    }
}

/// Accepts until cancelled, spawning a handler task per connection.
async fn accept_loop<L, H, F>(inner: &Arc<Inner>, listener: L, handler: Arc<H>, limit: usize)
where
    L: Listen,
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutput,
{
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                if is_transient(&e) {
                    report!(
                        Error,
                        "server on {}: accept failed ({e}); retrying in {ACCEPT_PAUSE:?}",
                        inner.addrs[0]
                    );
                    let _ = ringloop_io::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
                report!(
                    Error,
                    "server on {}: accept failed ({e}); this listening socket stops accepting",
                    inner.addrs[0]
                );
                return;
            }
        };
        if let Err(e) = stream.set_up() {
            report!(
                Warn,
                "server: setting up the connection from {peer:?} failed: {e}"
            );
        }
        let running = Running::new(inner);
        let handler = Arc::clone(&handler);
        crate::create_task(async move {
            let _running = running;
            let (reader, writer) = super::wrap(stream, limit);
            match CatchPanic(handler(reader, writer)).await {
                Ok(output) => {
                    if let Some(e) = output.into_error() {
                        report!(
                            Error,
                            "the handler of the connection from {peer:?} failed: {e}"
                        );
                    }
                }
                Err(payload) => report!(
                    Error,
                    "the handler of the connection from {peer:?} panicked: {}; the \
                     connection was closed, the server goes on",
                    panic_message(&*payload)
                ),
            }
        })
        .detach();
    }
}

/// Errors after which accepting again later may succeed: out of descriptors or memory, or a
/// connection that went away before it was accepted.
fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::ECONNABORTED)
    ) || e.kind() == io::ErrorKind::Interrupted
}

/// Polls a handler's future, turning its panic into an error (its reader and writer are
/// dropped with it, which closes the connection).
struct CatchPanic<F>(F);

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning of the only field: it is never moved out of `self`.
        let future = unsafe { self.map_unchecked_mut(|this| &mut this.0) };
        // After a panic the future is not polled again: the task returns the error and
        // drops it. Its state is not observed in between, so unwind safety holds.
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a non-string payload)")
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("Server")
            .field("sockets", &self.inner.addrs)
            .field("serving", &!state.closed)
            .field("running", &state.running)
            .finish()
    }
}
