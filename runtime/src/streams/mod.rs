//! asyncio's streams on the runtime: [`open_connection`], [`start_server`] and their Unix
//! variants, which hand out `ringloop-io`'s [`StreamReader`] and [`StreamWriter`] and spawn
//! the writer's flusher as a task.
//!
//! The reader and writer themselves are in `ringloop-io` (`io/src/stream/`): they need the
//! ring, not the scheduler. What needs the scheduler is here: spawning the flusher, a task
//! per connection for a server's handler, resolving host names on the blocking pool.

mod resolve;
mod server;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;

use ringloop_io::net::{TcpStream, UnixStream};
use ringloop_io::stream::{StreamReader, StreamSocket, StreamWriter};

pub use server::{HandlerOutput, Server, ServerConfig};

/// Connects to `host:port` and returns a buffered reader and writer on the connection
/// (asyncio's `asyncio.open_connection(host, port)`).
///
/// `host` is a name (resolved on the blocking pool, so no worker blocks) or an IP address;
/// each of its addresses is tried in turn until one connects. `TCP_NODELAY` is set, as
/// asyncio does. The reader's limit is [`StreamReader::DEFAULT_LIMIT`] (64 KiB); for another
/// one, connect a [`TcpStream`] yourself and [`wrap`] it.
///
/// # Errors
///
/// The resolver's error; if every address fails, the last `connect(2)` error
/// (`ConnectionRefused`, ...).
///
/// # Examples
///
/// ```
/// ringloop::run(async {
///     let server = ringloop::start_server(
///         |mut reader: ringloop::streams::StreamReader, writer: ringloop::streams::StreamWriter| async move {
///             let line = reader.readline().await?;
///             writer.write(&line.to_ascii_uppercase())?;
///             writer.drain().await
///         },
///         "127.0.0.1",
///         0,
///     )
///     .await?;
///     let port = server.local_addr().unwrap().as_inet().unwrap().port();
///
///     let (mut reader, writer) = ringloop::open_connection("localhost", port).await?;
///     writer.write(b"hello\n")?;
///     assert_eq!(reader.readline().await?, b"HELLO\n");
///     writer.close();
///     writer.wait_closed().await?;
///     server.close();
///     server.wait_closed().await;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn open_connection(host: &str, port: u16) -> io::Result<(StreamReader, StreamWriter)> {
    let addrs = resolve::resolve(host, port).await?;
    let stream = connect_any(&addrs).await?;
    stream.set_nodelay(true)?;
    Ok(wrap(stream, StreamReader::DEFAULT_LIMIT))
}

/// Connects to the first address of `addrs` that accepts.
async fn connect_any(addrs: &[SocketAddr]) -> io::Result<TcpStream> {
    let mut last = None;
    for &addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
}

/// Listens on `host:port` and runs `handler(reader, writer)` as a task for each connection
/// (asyncio's `asyncio.start_server(handler, host, port)`); options (backlog,
/// `SO_REUSEPORT`, the reader's limit) are on [`ServerConfig`].
///
/// `host` is a name (resolved on the blocking pool), an IP address, or `""` for every
/// interface (IPv4 and IPv6); the server listens on each of its addresses. Port 0 lets the
/// kernel choose: [`Server::local_addr`] says which.
///
/// The handler may return `()` or a `Result<(), E: Display>`; an error is reported (through
/// `log`, or standard error if no logger is installed), naming the peer, unless it is an
/// `io::Error` saying the peer went away (see [`HandlerOutput`]). A handler that
/// panics is reported the same way: its connection is closed and the server goes on.
/// Dropping the writer (when the handler returns) closes the connection once what was
/// written is sent.
///
/// # Errors
///
/// The resolver's error, or the `bind(2)`/`listen(2)` error (`AddrInUse`, ...).
pub async fn start_server<H, F>(handler: H, host: &str, port: u16) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutput,
{
    ServerConfig::new().start(handler, host, port).await
}

/// Listens on the Unix socket `path` and serves each connection with `handler` (asyncio's
/// `start_unix_server`); see [`start_server`].
///
/// # Errors
///
/// The `bind(2)`/`listen(2)` error (`AddrInUse` if `path` exists, ...).
pub async fn start_unix_server<H, F>(handler: H, path: impl AsRef<Path>) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future + Send + 'static,
    F::Output: HandlerOutput,
{
    ServerConfig::new().start_unix(handler, path).await
}

/// Connects to the Unix socket at `path` (asyncio's `open_unix_connection`).
///
/// # Errors
///
/// The `connect(2)` error: `NotFound` if nothing is at `path`, `ConnectionRefused` if
/// nothing listens there.
pub async fn open_unix_connection(
    path: impl AsRef<Path>,
) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = UnixStream::connect(path).await?;
    Ok(wrap(stream, StreamReader::DEFAULT_LIMIT))
}

/// Wraps a connected stream into a reader (with the line limit `limit`) and a writer, and
/// spawns the writer's flusher on the current runtime.
///
/// # Panics
///
/// Outside a runtime.
pub fn wrap<S: StreamSocket>(stream: S, limit: usize) -> (StreamReader, StreamWriter) {
    let (reader, writer, flusher) = ringloop_io::stream::wrap(stream, limit);
    crate::create_task(flusher).detach();
    (reader, writer)
}
