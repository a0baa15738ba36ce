//! [`UnixStream`]: a Unix-domain stream connection read and written through the ring.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

use socket2::{Domain, SockAddr, Type};

use crate::buf::{IoBuf, IoBufMut};
use crate::driver::current;
use crate::net::socket::Socket;
use crate::net::split::{self, Sealed, SplitStream};
use crate::net::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};

/// A Unix-domain stream connection.
///
/// The same I/O as [`TcpStream`](crate::net::TcpStream), with the same ownership rules:
/// owned buffers given back with the result, futures that borrow the stream, cancellation
/// when a future is dropped in flight. See [`UnixListener`](crate::net::UnixListener) for
/// connecting through a socket file.
///
/// # Examples
///
/// ```
/// use std::net::Shutdown;
/// use ringloop_io::net::UnixStream;
/// # fn block_on<F: std::future::Future>(driver: &ringloop_io::Driver, f: F) -> F::Output {
/// #     use std::{sync::Arc, task::{Context, Poll, Waker}};
/// #     let _enter = driver.enter();
/// #     let waker = Waker::from(Arc::new(driver.unparker()));
/// #     let mut f = std::pin::pin!(f);
/// #     loop {
/// #         if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) { return v; }
/// #         driver.park(None).unwrap();
/// #     }
/// # }
///
/// let driver = ringloop_io::Driver::new(&ringloop_io::DriverConfig::new())?;
/// block_on(&driver, async {
///     let (a, b) = UnixStream::pair()?;
///     let (done, _) = a.write_all(&b"one way"[..]).await;
///     done?;
///     a.shutdown(Shutdown::Write).await?;
///     let (n, buf) = b.read(Vec::with_capacity(16)).await;
///     assert_eq!(&buf[..n?], b"one way");
///     let (n, _) = b.read(Vec::with_capacity(16)).await;
///     assert_eq!(n?, 0);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    socket: Socket,
}

impl UnixStream {
    /// Connects to the socket file `path` (`IORING_OP_CONNECT`); the socket is created when
    /// the future is first polled.
    ///
    /// # Errors
    ///
    /// A path too long for `sockaddr_un`; if the polling thread has no current driver; the
    /// `connect(2)` error (`NotFound` if nothing is at `path`, `ConnectionRefused` if nothing
    /// listens there, ...).
    pub fn connect(path: impl AsRef<Path>) -> impl Future<Output = io::Result<UnixStream>> + Send {
        let addr = SockAddr::unix(path);
        async move {
            let socket = Socket::connect(addr?).await?;
            Ok(UnixStream::from_socket(socket))
        }
    }

    /// A pair of connected streams (`socketpair(2)`).
    ///
    /// # Errors
    ///
    /// If the thread has no current driver, and the `socketpair(2)` error.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        current::require()?;
        let (a, b) = socket2::Socket::pair(Domain::UNIX, Type::STREAM, None)?;
        Ok((
            UnixStream::from_socket(Socket::accepted(a.into())),
            UnixStream::from_socket(Socket::accepted(b.into())),
        ))
    }

    /// Wraps a connected stream made with `std` (or `socket2`).
    ///
    /// # Errors
    ///
    /// If the thread has no current driver.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Socket::from_fd(OwnedFd::from(stream)).map(UnixStream::from_socket)
    }

    pub(crate) fn from_socket(socket: Socket) -> UnixStream {
        UnixStream { socket }
    }

    /// The socket, for a stream reader and writer to share.
    pub(crate) fn into_socket(self) -> Socket {
        self.socket
    }

    /// Reads up to `buf.bytes_total()` bytes into the start of `buf`; returns the count (0 at
    /// end of stream) and the buffer.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes (a timeout, a select, a
    /// cancelled task), bytes the kernel took off the socket for it are kept, and the next read
    /// returns them first, in order. Nothing is lost or read twice.
    ///
    /// # Errors
    ///
    /// The `recv(2)` error.
    pub fn read<B: IoBufMut>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.socket.recv(buf)
    }

    /// Writes some of the `buf.bytes_init()` bytes of `buf`; returns how many and the buffer.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped in flight, it may have sent some or all of the bytes.
    ///
    /// # Errors
    ///
    /// The `send(2)` error (`BrokenPipe` once the peer is gone; never `SIGPIPE`).
    pub fn write<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.socket.send(buf)
    }

    /// Writes all `buf.bytes_init()` bytes of `buf`; returns the buffer.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped in flight, it may have sent any part of the bytes.
    ///
    /// # Errors
    ///
    /// As [`write`](UnixStream::write), and `WriteZero` if a send makes no progress.
    pub fn write_all<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<()>, B)> + Send + '_ {
        self.socket.send_all(buf)
    }

    /// Shuts down the reading, writing, or both halves (`IORING_OP_SHUTDOWN`).
    ///
    /// # Errors
    ///
    /// The `shutdown(2)` error.
    pub fn shutdown(
        &self,
        how: Shutdown,
    ) -> impl Future<Output = io::Result<()>> + Send + Unpin + '_ {
        self.socket.shutdown(how)
    }

    /// The local address (usually unnamed for a connecting stream).
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.unix_addr(false)
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The `getpeername(2)` error.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.unix_addr(true)
    }

    /// Splits the stream into a read half and a write half that own it together, for two
    /// tasks: one reads while the other writes, on any workers (`Send + Sync + 'static`).
    ///
    /// Dropping the [`OwnedWriteHalf`] shuts down the writing direction, as in tokio (see its
    /// docs; [`forget`](OwnedWriteHalf::forget) does not); the stream is closed when both
    /// halves are gone. [`reunite`](OwnedReadHalf::reunite) gives the stream back.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop::net::UnixStream;
    ///
    /// ringloop::run(async {
    ///     let (stream, peer) = UnixStream::pair()?;
    ///     let (read, write) = stream.into_split();
    ///     let writer = ringloop::create_task(async move {
    ///         let (done, _) = write.write_all(b"ping".to_vec()).await;
    ///         done
    ///     });
    ///     let reader = ringloop::create_task(async move {
    ///         let (n, buf) = read.read(Vec::with_capacity(16)).await;
    ///         n.map(|_| buf)
    ///     });
    ///     let (done, _) = peer.write_all(b"pong".to_vec()).await;
    ///     done?;
    ///     let (n, buf) = peer.read(Vec::with_capacity(16)).await;
    ///     assert_eq!(&buf[..n?], b"ping");
    ///     writer.await.expect("the writer task")?;
    ///     assert_eq!(reader.await.expect("the reader task")?, b"pong");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<UnixStream>, OwnedWriteHalf<UnixStream>) {
        split::into_split(self)
    }

    /// Splits the stream into a read half and a write half that borrow it, at no cost: a
    /// read and a write awaited together in one task. See
    /// [`TcpStream::split`](crate::net::TcpStream::split) for an example.
    pub fn split(&mut self) -> (ReadHalf<'_, UnixStream>, WriteHalf<'_, UnixStream>) {
        split::split(self)
    }
}

impl SplitStream for UnixStream {
    type Addr = SocketAddr;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        UnixStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        UnixStream::peer_addr(self)
    }
}

impl Sealed for UnixStream {
    fn socket(&self) -> &Socket {
        &self.socket
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("fd", &self.as_raw_fd())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
