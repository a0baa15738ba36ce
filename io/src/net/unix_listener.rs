//! [`UnixListener`]: accepts Unix-domain stream connections through the ring.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;

use socket2::SockAddr;

use crate::net::socket::Socket;
use crate::net::UnixStream;

/// A Unix-domain stream socket listening for connections.
///
/// As [`TcpListener`](crate::net::TcpListener): accept goes through `IORING_OP_ACCEPT`, its
/// future borrows the listener, and an accept that completes after its future was dropped has
/// its connection closed. Dropping the listener does not remove its socket file.
///
/// # Examples
///
/// ```
/// use ringloop_io::net::{UnixListener, UnixStream};
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
/// let path = std::env::temp_dir().join(format!("ringloop-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let driver = ringloop_io::Driver::new(&ringloop_io::DriverConfig::new())?;
/// block_on(&driver, async {
///     let listener = UnixListener::bind(&path)?;
///     let client = UnixStream::connect(&path).await?;
///     let (server, _peer) = listener.accept().await?;
///     let (done, _) = client.write_all(b"over a unix socket".to_vec()).await;
///     done?;
///     let (n, buf) = server.read(vec![0u8; 64]).await;
///     assert_eq!(&buf[..n?], b"over a unix socket");
///     Ok::<(), std::io::Error>(())
/// })?;
/// std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    socket: Socket,
}

impl UnixListener {
    /// Binds to the socket file `path` (which must not exist) and listens (backlog 1024,
    /// capped by the kernel at `net.core.somaxconn`).
    ///
    /// # Errors
    ///
    /// If the thread has no current driver; `AddrInUse` if `path` exists; a path too long
    /// for `sockaddr_un`; the other errors of `socket(2)`, `bind(2)` and `listen(2)`.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let addr = SockAddr::unix(path)?;
        Socket::listen(&addr).map(|socket| UnixListener { socket })
    }

    /// Wraps a listener made with `std` (or `socket2`), which must already be listening.
    ///
    /// # Errors
    ///
    /// If the thread has no current driver.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        Socket::from_fd(OwnedFd::from(listener)).map(|socket| UnixListener { socket })
    }

    /// Accepts the next connection; returns it with the peer's address (usually unnamed).
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes and the kernel accepted a
    /// connection for it anyway, the connection is kept and the next accept returns it (it is
    /// closed with the listener if none comes). No connection is lost.
    ///
    /// # Errors
    ///
    /// The `accept(2)` error; `EMFILE`/`ENFILE` leave the listener usable, as for TCP.
    pub fn accept(
        &self,
    ) -> impl Future<Output = io::Result<(UnixStream, SocketAddr)>> + Send + Unpin + '_ {
        let mut op = self.socket.accept();
        std::future::poll_fn(move |cx| {
            Pin::new(&mut op).poll(cx).map(|accepted| {
                let (fd, _) = accepted?;
                let socket = Socket::accepted(fd);
                let peer = socket.unix_addr(true)?;
                Ok((UnixStream::from_socket(socket), peer))
            })
        })
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.unix_addr(false)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("fd", &self.as_raw_fd())
            .field("addr", &self.local_addr().ok())
            .finish()
    }
}
