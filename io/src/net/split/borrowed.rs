//! [`ReadHalf`] and [`WriteHalf`]: the halves of a stream split by `split`, each a shared
//! borrow of it.

use std::future::Future;
use std::io;
use std::net::Shutdown;

use crate::buf::{IoBuf, IoBufMut};
use crate::net::split::SplitStream;

/// The read half of a stream, borrowed from it: `split` of
/// [`TcpStream`](crate::net::TcpStream::split) or
/// [`UnixStream`](crate::net::UnixStream::split).
///
/// Free of cost (a reference). A read on it and a write on the [`WriteHalf`] can be awaited
/// together in one task (with `gather!`), or handed to scoped code; for two tasks use the owned
/// halves of `into_split`.
#[derive(Debug)]
pub struct ReadHalf<'a, S: SplitStream> {
    stream: &'a S,
}

/// The write half of a stream, borrowed from it: `split` of
/// [`TcpStream`](crate::net::TcpStream::split) or
/// [`UnixStream`](crate::net::UnixStream::split).
///
/// Free of cost (a reference). Unlike the [`OwnedWriteHalf`](crate::net::OwnedWriteHalf),
/// dropping it shuts nothing down: the stream it borrows from is still there.
#[derive(Debug)]
pub struct WriteHalf<'a, S: SplitStream> {
    stream: &'a S,
}

impl<'a, S: SplitStream> ReadHalf<'a, S> {
    pub(super) fn new(stream: &'a S) -> ReadHalf<'a, S> {
        ReadHalf { stream }
    }

    /// Reads up to `buf.bytes_total()` bytes into the start of `buf`, as the stream's `read`
    /// does; returns the count (0 at the end of the stream) and the buffer.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: bytes the kernel took for a read whose future was dropped go to the next
    /// read on the stream, first and in order.
    ///
    /// # Errors
    ///
    /// The `recv(2)` error.
    pub fn read<B: IoBufMut>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.stream.socket().recv(buf)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.stream.local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The `getpeername(2)` error (`NotConnected`).
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.stream.peer_addr()
    }
}

impl<'a, S: SplitStream> WriteHalf<'a, S> {
    pub(super) fn new(stream: &'a S) -> WriteHalf<'a, S> {
        WriteHalf { stream }
    }

    /// Writes some of the `buf.bytes_init()` bytes of `buf`, as the stream's `write` does;
    /// returns how many and the buffer.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped in flight, it may have sent some or all of the bytes.
    ///
    /// # Errors
    ///
    /// The `send(2)` error (`BrokenPipe` after a shutdown of the writing direction or once
    /// the peer is gone; never `SIGPIPE`).
    pub fn write<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.stream.socket().send(buf)
    }

    /// Writes all `buf.bytes_init()` bytes of `buf`, one send after another; returns the
    /// buffer.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped in flight, it may have sent any part of the bytes.
    ///
    /// # Errors
    ///
    /// As [`write`](WriteHalf::write), and `WriteZero` if a send makes no progress.
    pub fn write_all<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<()>, B)> + Send + '_ {
        self.stream.socket().send_all(buf)
    }

    /// Shuts down the writing direction of the stream (`IORING_OP_SHUTDOWN` with
    /// `SHUT_WR`): the peer reads the end of the stream; reads go on.
    ///
    /// # Errors
    ///
    /// The `shutdown(2)` error (`NotConnected`, ...).
    pub fn shutdown(&self) -> impl Future<Output = io::Result<()>> + Send + Unpin + '_ {
        self.stream.socket().shutdown(Shutdown::Write)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.stream.local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// The `getpeername(2)` error (`NotConnected`).
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.stream.peer_addr()
    }
}

impl<S: SplitStream> AsRef<S> for ReadHalf<'_, S> {
    /// The stream, for what the half does not offer (options, the descriptor).
    fn as_ref(&self) -> &S {
        self.stream
    }
}

impl<S: SplitStream> AsRef<S> for WriteHalf<'_, S> {
    /// The stream, for what the half does not offer (options, the descriptor).
    fn as_ref(&self) -> &S {
        self.stream
    }
}
