//! The listening sockets of the echo servers, made the same way for every runtime.
//!
//! Every runtime but one serves a single listener ([`loopback_listener`]). monoio as it is
//! deployed on several cores (`monoio-reuseport`) runs one runtime per thread, each with a
//! listener of its own on the same port: [`EchoListeners::sharing_a_port`] binds them with
//! `SO_REUSEPORT`, and the kernel hands each new connection to one of them, by a hash of
//! its addresses and ports. `SO_REUSEPORT` is set only there, so the other runtimes'
//! listeners are exactly what they were.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

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
    listen(0, false)
}

/// The listeners of one echo server: one, or several sharing a port. Bind them before
/// the load generator connects, so that its connections are spread over all of them (a
/// connection stays with the listener the kernel picked when it was made).
#[derive(Debug)]
pub struct EchoListeners {
    addr: SocketAddr,
    first: TcpListener,
    more: Vec<TcpListener>,
}

impl EchoListeners {
    /// One [`loopback_listener`].
    ///
    /// # Errors
    ///
    /// As [`loopback_listener`].
    pub fn one() -> io::Result<Self> {
        Self::from_first(loopback_listener()?)
    }

    /// `n` listeners (at least one) on one loopback port, each made as
    /// [`loopback_listener`] makes its one and with `SO_REUSEPORT`: the first on a port the
    /// kernel picks, the others on that port.
    ///
    /// # Errors
    ///
    /// The first `socket(2)`, `setsockopt(2)`, `bind(2)` or `listen(2)` error.
    pub fn sharing_a_port(n: usize) -> io::Result<Self> {
        let mut listeners = Self::from_first(listen(0, true)?)?;
        for _ in 1..n {
            listeners.more.push(listen(listeners.addr.port(), true)?);
        }
        Ok(listeners)
    }

    fn from_first(first: TcpListener) -> io::Result<Self> {
        Ok(EchoListeners {
            addr: first.local_addr()?,
            first,
            more: Vec::new(),
        })
    }

    /// Where they listen (all on one address).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first listener, and the others sharing its port (none unless made by
    /// [`EchoListeners::sharing_a_port`]).
    pub fn split_first(self) -> (TcpListener, Vec<TcpListener>) {
        (self.first, self.more)
    }
}

/// A blocking listener on `127.0.0.1:port` (`0`: the kernel picks), with `SO_REUSEPORT` if
/// `reuse_port`.
fn listen(port: u16, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_share_one_port() {
        let listeners = EchoListeners::sharing_a_port(3).unwrap();
        let addr = listeners.addr();
        let (first, more) = listeners.split_first();
        assert_eq!(more.len(), 2);
        for listener in std::iter::once(&first).chain(&more) {
            assert_eq!(listener.local_addr().unwrap(), addr);
        }
        // Without SO_REUSEPORT on the first, the port is not shared.
        let one = EchoListeners::one().unwrap();
        assert!(listen(one.addr().port(), true).is_err());
    }
}
