//! [`UdpSocket`]: datagrams sent and received through the ring.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;

use socket2::SockAddr;

use crate::buf::{IoBuf, IoBufMut};
use crate::net::socket::{each_addr, inet, Socket};

/// A UDP socket, IPv4 or IPv6.
///
/// [`send_to`](UdpSocket::send_to) and [`recv_from`](UdpSocket::recv_from) go through
/// `IORING_OP_SENDMSG`/`RECVMSG`, whose message header, `iovec` and address the op owns
/// until its completion; [`send`](UdpSocket::send) and [`recv`](UdpSocket::recv), for a
/// [`connect`](UdpSocket::connect)ed socket, through `SEND`/`RECV`. As with the stream types,
/// the futures borrow the socket and take owned buffers.
///
/// # Examples
///
/// ```
/// use ringloop_io::net::UdpSocket;
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
///     let a = UdpSocket::bind("127.0.0.1:0")?;
///     let b = UdpSocket::bind("127.0.0.1:0")?;
///     let (n, _) = a.send_to(b"datagram".to_vec(), b.local_addr()?).await;
///     assert_eq!(n?, 8);
///     let (received, buf) = b.recv_from(Vec::with_capacity(64)).await;
///     let (n, from) = received?;
///     assert_eq!((&buf[..n], from), (&b"datagram"[..], a.local_addr()?));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    socket: Socket,
}

impl UdpSocket {
    /// Binds a UDP socket to `addr` (port 0: the kernel picks one). Each address `addr`
    /// resolves to is tried in turn, as with `std`.
    ///
    /// # Errors
    ///
    /// If the thread has no current driver, and the errors of `socket(2)` and `bind(2)`.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| {
            Socket::bind_datagram(&SockAddr::from(addr)).map(|socket| UdpSocket { socket })
        })
    }

    /// Wraps a socket made with `std` (or `socket2`).
    ///
    /// # Errors
    ///
    /// If the thread has no current driver.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Socket::from_fd(OwnedFd::from(socket)).map(|socket| UdpSocket { socket })
    }

    /// Sets the default destination of [`send`](UdpSocket::send) and the only source
    /// [`recv`](UdpSocket::recv) accepts datagrams from.
    ///
    /// Synchronous: a UDP `connect(2)` only records the address, it sends nothing. Each
    /// address `addr` resolves to is tried in turn.
    ///
    /// # Errors
    ///
    /// The `connect(2)` error (`AddrNotAvailable`, an address of the other family, ...).
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |addr| {
            self.socket.sock_ref().connect(&SockAddr::from(addr))
        })
    }

    /// Sends the `buf.bytes_init()` bytes of `buf` as one datagram to `addr`.
    ///
    /// # Errors
    ///
    /// The `sendmsg(2)` error (`EMSGSIZE` for a datagram too large, `NetworkUnreachable`,
    /// ...).
    pub fn send_to<B: IoBuf>(
        &self,
        buf: B,
        addr: SocketAddr,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.socket.send_to(buf, SockAddr::from(addr))
    }

    /// Receives one datagram into the start of `buf` (up to `buf.bytes_total()` bytes; the
    /// rest of a longer datagram is discarded); returns its length and sender, and the buffer.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a datagram the kernel received for a future that was dropped before it
    /// completed is kept, and the next receive returns it. No datagram is lost.
    ///
    /// # Errors
    ///
    /// The `recvmsg(2)` error (`ConnectionRefused` on a connected socket whose peer answered
    /// an earlier datagram with ICMP port unreachable, ...).
    pub fn recv_from<B: IoBufMut>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<(usize, SocketAddr)>, B)> + Send + Unpin + '_ {
        let mut op = self.socket.recv_from(buf);
        std::future::poll_fn(move |cx| {
            Pin::new(&mut op).poll(cx).map(|(received, buf)| {
                let received = received.and_then(|(n, addr)| Ok((n, inet(addr)?)));
                (received, buf)
            })
        })
    }

    /// Sends the `buf.bytes_init()` bytes of `buf` as one datagram to the connected address.
    ///
    /// # Errors
    ///
    /// `EDESTADDRREQ` if the socket is not connected, and the other `send(2)` errors.
    pub fn send<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.socket.send(buf)
    }

    /// Receives one datagram from the connected address into the start of `buf`.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: a datagram the kernel received for a future that was dropped before it
    /// completed is kept, and the next receive returns it. No datagram is lost.
    ///
    /// # Errors
    ///
    /// The `recv(2)` error.
    pub fn recv<B: IoBufMut>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.socket.recv_datagram(buf)
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_inet_addr()
    }

    /// The connected address.
    ///
    /// # Errors
    ///
    /// `NotConnected` if [`connect`](UdpSocket::connect) was not called.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.peer_inet_addr()
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("fd", &self.as_raw_fd())
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
