//! Buffered streams with asyncio's API: [`StreamReader`] and [`StreamWriter`] over a
//! connected TCP or Unix stream socket.
//!
//! The runtime's `ringloop::open_connection` and `ringloop::start_server` make them (and
//! spawn the writer's [`Flusher`]); [`wrap`] is the building block under both.
//!
//! * The reader owns one buffer that the kernel fills in place; every read method is
//!   cancel-safe (`reader.rs`).
//! * The writer buffers; its flusher, a task of its own, sends; `drain` applies
//!   back-pressure with asyncio's high- and low-water marks (`writer.rs`).

mod buffer;
mod error;
mod reader;
mod writer;

use std::fmt;
use std::io;

pub use error::{IncompleteRead, LimitOverrun, ReadError};
pub use reader::StreamReader;
pub use writer::{Flusher, StreamWriter};

use crate::net::{Socket, TcpStream, UnixStream};

/// A connected stream socket a [`StreamReader`] and [`StreamWriter`] can wrap:
/// [`TcpStream`] and [`UnixStream`].
pub trait StreamSocket: sealed::Sealed {}

impl StreamSocket for TcpStream {}
impl StreamSocket for UnixStream {}

mod sealed {
    use crate::net::{Socket, TcpStream, UnixStream};

    /// Keeps [`StreamSocket`](super::StreamSocket) to this crate's sockets.
    pub trait Sealed {
        /// The socket, for the reader and the writer to share.
        fn into_socket(self) -> Opaque;
    }

    /// A socket, out of reach of other crates.
    #[derive(Debug)]
    pub struct Opaque(pub(crate) Socket);

    impl Sealed for TcpStream {
        fn into_socket(self) -> Opaque {
            Opaque(self.into_socket())
        }
    }

    impl Sealed for UnixStream {
        fn into_socket(self) -> Opaque {
            Opaque(self.into_socket())
        }
    }
}

/// Wraps a connected `stream` into a reader (whose `readline`/`readuntil` accept lines up to
/// `limit` bytes) and a writer, whose [`Flusher`] the caller must spawn as a task: until it
/// runs, nothing written is sent.
///
/// `ringloop::open_connection` and `ringloop::start_server` do this for you; this is for
/// streams made otherwise (`ringloop::streams::wrap` spawns the flusher too).
///
/// # Examples
///
/// ```
/// use ringloop::net::UnixStream;
///
/// ringloop::run(async {
///     let (a, b) = UnixStream::pair()?;
///     let (mut reader, _a_writer, a_flusher) = ringloop_io::stream::wrap(a, 1024);
///     let (_b_reader, writer, b_flusher) = ringloop_io::stream::wrap(b, 1024);
///     ringloop::create_task(a_flusher);
///     ringloop::create_task(b_flusher);
///
///     writer.write(b"hello\nworld")?;
///     writer.close();
///     assert_eq!(reader.readline().await?, b"hello\n");
///     assert_eq!(reader.readline().await?, b"world");
///     assert!(reader.at_eof());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn wrap<S: StreamSocket>(stream: S, limit: usize) -> (StreamReader, StreamWriter, Flusher) {
    let socket = sealed::Sealed::into_socket(stream).0;
    let reader = StreamReader::new(socket.fd().clone(), limit);
    let (writer, flusher) = StreamWriter::new(socket);
    (reader, writer, flusher)
}

/// The address of one end of a stream: an IP address and port, or a Unix socket's.
#[derive(Clone)]
pub enum StreamAddr {
    /// A TCP stream's end.
    Inet(std::net::SocketAddr),
    /// A Unix stream's end (often unnamed: see
    /// [`std::os::unix::net::SocketAddr::as_pathname`]).
    Unix(std::os::unix::net::SocketAddr),
}

impl StreamAddr {
    /// The address of `socket`'s end (`peer == false`) or of its peer.
    fn of(socket: &Socket, peer: bool) -> io::Result<StreamAddr> {
        let sock = socket.sock_ref();
        let addr = if peer {
            sock.peer_addr()?
        } else {
            sock.local_addr()?
        };
        match addr.as_socket() {
            Some(inet) => Ok(StreamAddr::Inet(inet)),
            None => Ok(StreamAddr::Unix(socket.unix_addr(peer)?)),
        }
    }

    /// The IP address and port, for a TCP stream.
    pub fn as_inet(&self) -> Option<std::net::SocketAddr> {
        match self {
            StreamAddr::Inet(addr) => Some(*addr),
            StreamAddr::Unix(_) => None,
        }
    }
}

impl fmt::Debug for StreamAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamAddr::Inet(addr) => fmt::Debug::fmt(addr, f),
            StreamAddr::Unix(addr) => fmt::Debug::fmt(addr, f),
        }
    }
}

impl fmt::Display for StreamAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamAddr::Inet(addr) => fmt::Display::fmt(addr, f),
            StreamAddr::Unix(addr) => match addr.as_pathname() {
                Some(path) => write!(f, "{}", path.display()),
                None => f.write_str("(unnamed)"),
            },
        }
    }
}
