//! [`TcpStream`]: a TCP connection read and written through the ring.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use socket2::SockAddr;

use crate::buf::{IoBuf, IoBufMut};
use crate::net::socket::Socket;
use crate::net::split::{self, Sealed, SplitStream};
use crate::net::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};

/// A TCP connection, IPv4 or IPv6.
///
/// Reads and writes take an owned buffer and give it back with the result, because the
/// kernel may still use it after the future is gone. All methods take `&self`, so one task can
/// read while another writes (share the stream through an `Arc`). The futures borrow the
/// stream: it can only be dropped once none is alive, and a future dropped in flight cancels
/// its op. Dropping the stream closes the connection once the last cancelled op has completed.
///
/// # Examples
///
/// An echo round trip; see [`TcpListener`](crate::net::TcpListener) for the set-up.
///
/// ```
/// use std::net::Shutdown;
/// use ringloop_io::net::{TcpListener, TcpStream};
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
///     let listener = TcpListener::bind("[::1]:0").or_else(|_| TcpListener::bind("127.0.0.1:0"))?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     client.set_nodelay(true)?;
///     let (server, _) = listener.accept().await?;
///
///     let (done, _) = client.write_all(b"hello, ring".to_vec()).await;
///     done?;
///     client.shutdown(Shutdown::Write).await?;
///     let (n, buf) = server.read(vec![0u8; 64]).await;
///     assert_eq!(&buf[..n?], b"hello, ring");
///     let (n, _) = server.read(vec![0u8; 64]).await;
///     assert_eq!(n?, 0, "end of stream after the peer's shutdown(Write)");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    socket: Socket,
}

impl TcpStream {
    /// Connects to `addr` (`IORING_OP_CONNECT`); the socket is created when the future is
    /// first polled.
    ///
    /// It takes a resolved address because host name resolution blocks; resolve names with
    /// `std::net::ToSocketAddrs` off the runtime's threads.
    ///
    /// # Errors
    ///
    /// If the polling thread has no current driver; the `connect(2)` error from the kernel:
    /// `ConnectionRefused` when nothing listens, `TimedOut`, `NetworkUnreachable`, ...
    pub fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<TcpStream>> + Send {
        let connect = Socket::connect(SockAddr::from(addr));
        async move { connect.await.map(TcpStream::from_socket) }
    }

    /// Wraps a connected stream made with `std` (or `socket2`).
    ///
    /// # Errors
    ///
    /// If the thread has no current driver.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Socket::from_fd(OwnedFd::from(stream)).map(TcpStream::from_socket)
    }

    pub(crate) fn from_socket(socket: Socket) -> TcpStream {
        TcpStream { socket }
    }

    /// The socket, for a stream reader and writer to share.
    pub(crate) fn into_socket(self) -> Socket {
        self.socket
    }

    /// Reads up to `buf.bytes_total()` bytes into the start of `buf` (`IORING_OP_RECV`).
    ///
    /// Returns the count (0 at end of stream: the peer shut down its writing side or closed;
    /// also 0 for a buffer without capacity) and the buffer, whose initialised length is set
    /// to the count.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes (a timeout, a select, a
    /// cancelled task), bytes the kernel took off the socket for it are kept, and the next read
    /// returns them first, in order. Nothing is lost or read twice.
    ///
    /// # Errors
    ///
    /// The `recv(2)` error: `ConnectionReset` if the peer reset the connection, ...
    pub fn read<B: IoBufMut>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.socket.recv(buf)
    }

    /// Writes some of the `buf.bytes_init()` bytes of `buf` (`IORING_OP_SEND`); returns how
    /// many and the buffer.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped in flight, it may have sent some or all of the bytes.
    ///
    /// # Errors
    ///
    /// The `send(2)` error: `BrokenPipe` after a shutdown of the writing side or a reset,
    /// `ConnectionReset`, ... Never `SIGPIPE` (the send uses `MSG_NOSIGNAL`).
    pub fn write<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.socket.send(buf)
    }

    /// Writes all `buf.bytes_init()` bytes of `buf`, one send after another; returns the
    /// buffer.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped in flight, it may have sent any part of the bytes, and how
    /// much is not reported.
    ///
    /// # Errors
    ///
    /// As [`write`](TcpStream::write), and `WriteZero` if a send makes no progress. How much
    /// was written before an error is not reported.
    pub fn write_all<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<()>, B)> + Send + '_ {
        self.socket.send_all(buf)
    }

    /// Shuts down the reading, writing, or both halves (`IORING_OP_SHUTDOWN`).
    ///
    /// After `Shutdown::Write` the peer reads end of stream, and may still write back.
    ///
    /// # Errors
    ///
    /// The `shutdown(2)` error (`NotConnected`, ...).
    pub fn shutdown(
        &self,
        how: Shutdown,
    ) -> impl Future<Output = io::Result<()>> + Send + Unpin + '_ {
        self.socket.shutdown(how)
    }

    /// The remote address.
    ///
    /// # Errors
    ///
    /// The `getpeername(2)` error (`NotConnected`).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_inet_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_inet_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm: small writes go out at once).
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.socket.sock_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.socket.sock_ref().nodelay()
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
    /// use ringloop::net::{TcpListener, TcpStream};
    ///
    /// ringloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let (read, write) = stream.into_split();
    ///
    ///     // A writer task sends the request; its half, dropped at its end, ends the request.
    ///     let writer = ringloop::create_task(async move {
    ///         let (done, _) = write.write_all(b"ping".to_vec()).await;
    ///         done
    ///     });
    ///     // A reader task waits for the reply meanwhile.
    ///     let reader = ringloop::create_task(async move {
    ///         let (n, buf) = read.read(Vec::with_capacity(16)).await;
    ///         n.map(|_| buf)
    ///     });
    ///
    ///     let (n, request) = server.read(Vec::with_capacity(16)).await;
    ///     assert_eq!(&request[..n?], b"ping");
    ///     writer.await.expect("the writer task")?;
    ///     let (n, _) = server.read(Vec::with_capacity(16)).await;
    ///     assert_eq!(n?, 0, "the write half is gone: end of the request");
    ///     let (done, _) = server.write_all(b"pong".to_vec()).await;
    ///     done?;
    ///     assert_eq!(reader.await.expect("the reader task")?, b"pong");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf<TcpStream>, OwnedWriteHalf<TcpStream>) {
        split::into_split(self)
    }

    /// Splits the stream into a read half and a write half that borrow it, at no cost: a
    /// read and a write awaited together in one task.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop::net::{TcpListener, TcpStream};
    ///
    /// ringloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0")?;
    ///     let mut stream = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (peer, _) = listener.accept().await?;
    ///     let (done, _) = peer.write_all(b"from the peer".to_vec()).await;
    ///     done?;
    ///
    ///     let (read, write) = stream.split();
    ///     let ((n, buf), (sent, _)) =
    ///         ringloop::gather!(read.read(Vec::with_capacity(64)), write.write_all(b"to it".to_vec()))
    ///             .await;
    ///     assert_eq!(&buf[..n?], b"from the peer");
    ///     sent?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_, TcpStream>, WriteHalf<'_, TcpStream>) {
        split::split(self)
    }
}

impl SplitStream for TcpStream {
    type Addr = SocketAddr;

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }
}

impl Sealed for TcpStream {
    fn socket(&self) -> &Socket {
        &self.socket
    }
}

impl OwnedWriteHalf<TcpStream> {
    /// Sets `TCP_NODELAY` on the stream, as [`TcpStream::set_nodelay`].
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.as_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.as_ref().nodelay()
    }
}

impl WriteHalf<'_, TcpStream> {
    /// Sets `TCP_NODELAY` on the stream, as [`TcpStream::set_nodelay`].
    ///
    /// # Errors
    ///
    /// The `setsockopt(2)` error.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.as_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The `getsockopt(2)` error.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.as_ref().nodelay()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("fd", &self.as_raw_fd())
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
