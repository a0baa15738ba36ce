//! [`TcpListener`]: accepts TCP connections through the ring.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;

use socket2::SockAddr;

use crate::net::socket::{each_addr, inet, Socket};
use crate::net::TcpStream;

/// A TCP socket listening for connections, IPv4 or IPv6.
///
/// [`accept`](TcpListener::accept) goes through the ring (`IORING_OP_ACCEPT`). Its future
/// borrows the listener, so the listener outlives every accept in flight; dropping an accept
/// future cancels it, and a connection the kernel accepted for it regardless is closed, never
/// leaked.
///
/// # Examples
///
/// ```
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
///     let listener = TcpListener::bind("127.0.0.1:0")?;
///     let addr = listener.local_addr()?;
///     // Connecting needs no accept in progress: the kernel queues the connection.
///     let client = TcpStream::connect(addr).await?;
///     let (server, peer) = listener.accept().await?;
///     assert_eq!(peer, client.local_addr()?);
///     let (n, _) = client.write(b"ping".to_vec()).await;
///     assert_eq!(n?, 4);
///     let (n, buf) = server.read(Vec::with_capacity(16)).await;
///     assert_eq!((n?, &buf[..]), (4, &b"ping"[..]));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    socket: Socket,
}

impl TcpListener {
    /// Binds to `addr` and listens (`SO_REUSEADDR` set, backlog 1024 capped by the kernel at
    /// `net.core.somaxconn`). As with `std`, each address `addr` resolves to is tried in turn;
    /// host names are resolved synchronously.
    ///
    /// # Errors
    ///
    /// If the thread has no current driver (sockets must be created by a runtime's task or
    /// inside [`Driver::enter`](crate::Driver::enter)), and every error of `socket(2)`,
    /// `bind(2)` (`AddrInUse`, `AddrNotAvailable`, ...) and `listen(2)`.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, |addr| {
            Socket::listen(&SockAddr::from(addr)).map(|socket| TcpListener { socket })
        })
    }

    /// Wraps a listener made with `std` (or `socket2`), which must already be listening.
    ///
    /// # Errors
    ///
    /// If the thread has no current driver.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Socket::from_fd(OwnedFd::from(listener)).map(|socket| TcpListener { socket })
    }

    /// Accepts the next connection; returns it with the peer's address.
    ///
    /// The new stream's descriptor is close-on-exec.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes and the kernel accepted a
    /// connection for it anyway, the connection is kept and the next accept returns it (it is
    /// closed with the listener if none comes). No connection is lost.
    ///
    /// # Errors
    ///
    /// The `accept(2)` error, from the kernel's `errno`. With the descriptor limit reached it
    /// is `EMFILE` (or `ENFILE`); the connection stays queued and the listener stays usable:
    /// accept again once descriptors are free.
    pub fn accept(
        &self,
    ) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send + Unpin + '_ {
        let mut op = self.socket.accept();
        std::future::poll_fn(move |cx| {
            Pin::new(&mut op).poll(cx).map(|accepted| {
                let (fd, addr) = accepted?;
                let stream = TcpStream::from_socket(Socket::accepted(fd));
                Ok((stream, inet(addr)?))
            })
        })
    }

    /// The address the listener is bound to (with the port the kernel chose for port 0).
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_inet_addr()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("fd", &self.as_raw_fd())
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}
