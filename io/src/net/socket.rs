//! [`Socket`]: the descriptor every socket type wraps, and the ops they share.
//!
//! # Invariants
//!
//! * A `Socket` is created only on a thread with a current, running driver
//!   ([`current::require`]), or from a descriptor an accept produced (whose thread had one).
//!   The check is made at creation so that a socket made outside a runtime fails at once with
//!   a clear `io::Error`; the ops themselves still submit to the driver of whatever thread
//!   first polls them.
//! * The descriptor is a [`SharedFd`]: the socket holds one handle and every op in flight on
//!   it holds another. The descriptor is closed when the last handle goes, so never while the
//!   kernel may still use it, and its number cannot be reused under an op.
//! * The public socket types lend out op futures that borrow the socket (`+ '_`). A socket can
//!   therefore be dropped only when none of its op futures is alive; an op whose future was
//!   dropped in flight was cancelled by that drop (`ASYNC_CANCEL` on its owner ring, see
//!   [`crate::driver::lifecycle`]), and its handle lives in the driver's slot until the
//!   cancellation's CQE. Closing a socket with ops in flight thus always means: the ops are
//!   cancelled first, and the descriptor is closed by the last completion.
//! * Sockets stay in blocking mode: io_uring never blocks a thread on them (it polls
//!   readiness internally and retries), and no op has to handle `EAGAIN`.

use std::future::Future;
use std::io;
use std::mem::ManuallyDrop;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use socket2::{Domain, SockAddr, SockRef, Type};

use crate::buf::{IoBuf, IoBufMut};
use crate::driver::current;
use crate::fd::SharedFd;
use crate::op::accept::Accept;
use crate::op::connect::Connect;
use crate::op::recv::{Datagram, RecvBuf, Stream};
use crate::op::recv_msg::RecvMsg;
use crate::op::send::SendBuf;
use crate::op::send_msg::SendMsg;
use crate::op::shutdown::Shutdown;
use crate::op::Op;

/// The `listen(2)` backlog of listeners (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: i32 = 1024;

/// A socket descriptor shared with the ops in flight on it; see the module docs.
///
/// `pub` in name only: the split halves' sealed trait returns it (`net/split/mod.rs`), which
/// needs a type that is not `pub(crate)`. Outside the crate it cannot be named, and all its
/// methods are `pub(crate)`.
#[derive(Debug)]
pub struct Socket {
    fd: SharedFd,
}

impl Socket {
    /// A new socket (close-on-exec) of `domain` and `ty`.
    pub(crate) fn new(domain: Domain, ty: Type) -> io::Result<Socket> {
        current::require()?;
        let socket = socket2::Socket::new(domain, ty, None)?;
        Ok(Socket::accepted(socket.into()))
    }

    /// Wraps a socket descriptor made elsewhere (`from_std`).
    pub(crate) fn from_fd(fd: OwnedFd) -> io::Result<Socket> {
        current::require()?;
        Ok(Socket::accepted(fd))
    }

    /// Wraps a descriptor that an accept just produced (on a thread with a driver).
    pub(crate) fn accepted(fd: OwnedFd) -> Socket {
        Socket {
            fd: SharedFd::new(fd),
        }
    }

    /// Another handle on the same descriptor (for a stream's reader and writer).
    pub(crate) fn share(&self) -> Socket {
        Socket {
            fd: self.fd.clone(),
        }
    }

    /// The descriptor, shared with the ops in flight on it.
    pub(crate) fn fd(&self) -> &SharedFd {
        &self.fd
    }

    /// A listening stream socket bound to `addr`.
    pub(crate) fn listen(addr: &SockAddr) -> io::Result<Socket> {
        let socket = Socket::new(addr.domain(), Type::STREAM)?;
        if !addr.is_unix() {
            // As std and tokio do: a restarted server can bind while old connections linger
            // in TIME_WAIT.
            socket.sock_ref().set_reuse_address(true)?;
        }
        socket.sock_ref().bind(addr)?;
        socket.sock_ref().listen(LISTEN_BACKLOG)?;
        Ok(socket)
    }

    /// A datagram socket bound to `addr`.
    pub(crate) fn bind_datagram(addr: &SockAddr) -> io::Result<Socket> {
        let socket = Socket::new(addr.domain(), Type::DGRAM)?;
        socket.sock_ref().bind(addr)?;
        Ok(socket)
    }

    /// A stream socket connected to `addr` (`IORING_OP_CONNECT`), created at the first poll.
    pub(crate) async fn connect(addr: SockAddr) -> io::Result<Socket> {
        let socket = Socket::new(addr.domain(), Type::STREAM)?;
        Op::new(Connect::new(socket.fd.clone(), addr)).await?;
        Ok(socket)
    }

    /// Borrows the socket for `socket2`'s option setters and address getters.
    pub(crate) fn sock_ref(&self) -> SockRef<'_> {
        SockRef::from(self)
    }

    /// Takes the next connection off the queue (`IORING_OP_ACCEPT`).
    pub(crate) fn accept(&self) -> Op<Accept> {
        Op::new(Accept::new(self.fd.clone()))
    }

    /// Receives bytes of a stream into `buf` (`IORING_OP_RECV`).
    pub(crate) fn recv<B: IoBufMut>(&self, buf: B) -> Op<RecvBuf<B, Stream>> {
        Op::new(RecvBuf::new(self.fd.clone(), buf))
    }

    /// Receives one datagram into `buf` (`IORING_OP_RECV`).
    pub(crate) fn recv_datagram<B: IoBufMut>(&self, buf: B) -> Op<RecvBuf<B, Datagram>> {
        Op::new(RecvBuf::new(self.fd.clone(), buf))
    }

    /// Sends the initialised bytes of `buf` (`IORING_OP_SEND`).
    pub(crate) fn send<B: IoBuf>(&self, buf: B) -> Op<SendBuf<B>> {
        Op::new(SendBuf::new(self.fd.clone(), buf, 0))
    }

    /// Sends all initialised bytes of `buf`, one `IORING_OP_SEND` after another.
    ///
    /// A send that makes no progress ends it with `WriteZero`; an interrupted one is retried.
    pub(crate) fn send_all<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<()>, B)> + Send + 'static {
        let fd = self.fd.clone();
        async move {
            let mut buf = buf;
            let mut sent = 0;
            while sent < buf.bytes_init() {
                let (result, back) = Op::new(SendBuf::new(fd.clone(), buf, sent)).await;
                buf = back;
                match result {
                    Ok(0) => {
                        let e = io::Error::new(
                            io::ErrorKind::WriteZero,
                            "ringloop: the socket accepted no more bytes",
                        );
                        return (Err(e), buf);
                    }
                    Ok(n) => sent += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return (Err(e), buf),
                }
            }
            (Ok(()), buf)
        }
    }

    /// Sends the initialised bytes of `buf` to `addr` (`IORING_OP_SENDMSG`).
    pub(crate) fn send_to<B: IoBuf>(&self, buf: B, addr: SockAddr) -> Op<SendMsg<B>> {
        Op::new(SendMsg::new(self.fd.clone(), buf, addr))
    }

    /// Receives one datagram into `buf`, with its sender (`IORING_OP_RECVMSG`).
    pub(crate) fn recv_from<B: IoBufMut>(&self, buf: B) -> Op<RecvMsg<B>> {
        Op::new(RecvMsg::new(self.fd.clone(), buf))
    }

    /// Shuts down one or both directions (`IORING_OP_SHUTDOWN`).
    pub(crate) fn shutdown(&self, how: std::net::Shutdown) -> Op<Shutdown> {
        Op::new(Shutdown::new(self.fd.clone(), how))
    }

    /// The local address, as an IP socket address.
    pub(crate) fn local_inet_addr(&self) -> io::Result<SocketAddr> {
        inet(self.sock_ref().local_addr()?)
    }

    /// The peer's address, as an IP socket address.
    pub(crate) fn peer_inet_addr(&self) -> io::Result<SocketAddr> {
        inet(self.sock_ref().peer_addr()?)
    }

    /// The local (`peer == false`) or peer address of a Unix socket, as `std`'s type, which
    /// only `std` can build (an unnamed address has no public constructor).
    pub(crate) fn unix_addr(&self, peer: bool) -> io::Result<std::os::unix::net::SocketAddr> {
        // SAFETY: the descriptor is open while `self` lives, which covers this call; the
        // `ManuallyDrop` makes sure the borrowed `std` stream never closes it.
        let stream = ManuallyDrop::new(unsafe {
            std::os::unix::net::UnixStream::from_raw_fd(self.fd.raw())
        });
        if peer {
            stream.peer_addr()
        } else {
            stream.local_addr()
        }
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.raw()
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.borrow()
    }
}

/// Converts an address the kernel returned for an IP socket.
pub(crate) fn inet(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "ringloop: the kernel returned a non-IP address for an IP socket",
        )
    })
}

/// Calls `f` on each address `addrs` resolves to until one succeeds, as `std::net` does;
/// returns the last error otherwise.
pub(crate) fn each_addr<T>(
    addrs: impl ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for addr in addrs.to_socket_addrs()? {
        match f(addr) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "ringloop: the address resolved to no socket address",
        )
    }))
}
