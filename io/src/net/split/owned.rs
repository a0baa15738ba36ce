//! [`OwnedReadHalf`] and [`OwnedWriteHalf`]: the halves of a stream split by `into_split`,
//! each holding an `Arc` of the stream, and [`ReuniteError`]. See the parent module for the
//! invariants (the two `Arc`s are the only ones; what dropping the write half does).

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::sync::Arc;

use crate::buf::{IoBuf, IoBufMut};
use crate::net::split::SplitStream;

/// The read half of a stream, owning its share of it: `into_split` of
/// [`TcpStream`](crate::net::TcpStream::into_split) or
/// [`UnixStream`](crate::net::UnixStream::into_split).
///
/// It is `Send + Sync + 'static`, so it can move into a task of its own while another task
/// writes with the [`OwnedWriteHalf`]; the read of one and the write of the other are in flight
/// at the same time, on whatever workers the tasks run. The stream is closed when both
/// halves are gone. Dropping the read half does nothing else: the peer is not told, and the
/// write half goes on working.
///
/// [`reunite`](OwnedReadHalf::reunite) turns the two halves back into the stream.
#[derive(Debug)]
pub struct OwnedReadHalf<S: SplitStream> {
    stream: Arc<S>,
}

/// The write half of a stream, owning its share of it: `into_split` of
/// [`TcpStream`](crate::net::TcpStream::into_split) or
/// [`UnixStream`](crate::net::UnixStream::into_split).
///
/// It is `Send + Sync + 'static`, so it can move into a task of its own while another task
/// reads with the [`OwnedReadHalf`].
///
/// # Dropping it shuts down the writing direction
///
/// As with tokio's `OwnedWriteHalf`, dropping the write half shuts down the writing direction
/// of the stream (`shutdown(2)` with `SHUT_WR`), even while the read half is alive: the peer
/// reads the end of the stream after the bytes written before, and can still send, which the
/// read half reads. A writer task that is done just ends, and its peer knows. Errors of that
/// shutdown (the connection was reset already, ...) are ignored.
///
/// Two ways give the write half up without the shutdown: [`forget`](OwnedWriteHalf::forget)
/// (the writing direction then stays open until the read half is dropped too, which closes
/// the stream), and [`reunite`](OwnedWriteHalf::reunite). The borrowed [`WriteHalf`] of
/// `split` shuts nothing down when dropped.
///
/// [`WriteHalf`]: crate::net::WriteHalf
///
/// # Examples
///
/// ```
/// use ringloop::net::UnixStream;
///
/// ringloop::run(async {
///     let (a, peer) = UnixStream::pair()?;
///     let (read, write) = a.into_split();
///     let (done, _) = write.write_all(b"request".to_vec()).await;
///     done?;
///     drop(write); // shuts down the writing direction only
///
///     let (n, buf) = peer.read(Vec::with_capacity(16)).await;
///     assert_eq!(&buf[..n?], b"request");
///     let (n, _) = peer.read(Vec::with_capacity(16)).await;
///     assert_eq!(n?, 0, "the peer reads the end of the stream");
///
///     // The other direction is still open.
///     let (done, _) = peer.write_all(b"reply".to_vec()).await;
///     done?;
///     let (n, buf) = read.read(Vec::with_capacity(16)).await;
///     assert_eq!(&buf[..n?], b"reply");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct OwnedWriteHalf<S: SplitStream> {
    stream: Arc<S>,
    /// Cleared by `forget` and `reunite`, the two ways to give the half up without a shutdown.
    shutdown_on_drop: bool,
}

/// Two owned halves that [`reunite`](OwnedReadHalf::reunite) was given and that come from
/// different streams; both are given back, untouched and still working.
///
/// `net::tcp::ReuniteError` and `net::unix::ReuniteError` are aliases of it, and an alias
/// cannot be a tuple-struct pattern: destructure with this name (`ReuniteError(read, write)`),
/// or use `.0` and `.1`.
///
/// # Examples
///
/// ```
/// use ringloop::net::{ReuniteError, UnixStream};
///
/// ringloop::run(async {
///     let (a, _a_peer) = UnixStream::pair()?;
///     let (b, _b_peer) = UnixStream::pair()?;
///     let (a_read, a_write) = a.into_split();
///     let (b_read, b_write) = b.into_split();
///
///     let err = a_read.reunite(b_write).unwrap_err();
///     assert!(err.to_string().contains("different streams"));
///     let ReuniteError(a_read, b_write) = err;
///
///     let _a: UnixStream = a_read.reunite(a_write).expect("the halves of one stream");
///     let _b: UnixStream = b_write.reunite(b_read).expect("the halves of one stream");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> OwnedReadHalf<S> {
    pub(super) fn new(stream: Arc<S>) -> OwnedReadHalf<S> {
        OwnedReadHalf { stream }
    }

    /// Reads up to `buf.bytes_total()` bytes into the start of `buf`, as the stream's `read`
    /// does; returns the count (0 at the end of the stream) and the buffer, whose initialised
    /// length is set to the count.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes, bytes the kernel took for it
    /// are kept, and the next read on this half (or on the stream, after
    /// [`reunite`](OwnedReadHalf::reunite)) returns them first, in order.
    ///
    /// # Errors
    ///
    /// The `recv(2)` error (`ConnectionReset`, ...).
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

    /// Puts the two halves of a stream back together, if `other` comes from the same call to
    /// `into_split` as `self`. Nothing is shut down, and what a cancelled read left behind is
    /// still there for the stream's next read.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`], holding both halves, if they come from different streams.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop::net::UnixStream;
    ///
    /// ringloop::run(async {
    ///     let (a, b) = UnixStream::pair()?;
    ///     let (read, write) = a.into_split();
    ///     let a = read.reunite(write).expect("the halves of one stream");
    ///     let (done, _) = a.write_all(b"whole again".to_vec()).await;
    ///     done?;
    ///     let (n, buf) = b.read(Vec::with_capacity(16)).await;
    ///     assert_eq!(&buf[..n?], b"whole again");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(self, other)
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    pub(super) fn new(stream: Arc<S>) -> OwnedWriteHalf<S> {
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        }
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
    /// The `send(2)` error: `BrokenPipe` after a shutdown of the writing direction or once the
    /// peer is gone (never `SIGPIPE`), `ConnectionReset`, ...
    pub fn write<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin + '_ {
        self.stream.socket().send(buf)
    }

    /// Writes all `buf.bytes_init()` bytes of `buf`, one send after another, as the stream's
    /// `write_all` does; returns the buffer.
    ///
    /// # Cancel safety
    ///
    /// Not cancel-safe: dropped in flight, it may have sent any part of the bytes, and how much
    /// is not reported.
    ///
    /// # Errors
    ///
    /// As [`write`](OwnedWriteHalf::write), and `WriteZero` if a send makes no progress.
    pub fn write_all<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<()>, B)> + Send + '_ {
        self.stream.socket().send_all(buf)
    }

    /// Shuts down the writing direction (`IORING_OP_SHUTDOWN` with `SHUT_WR`): the peer reads
    /// the end of the stream after the bytes written before; the read half keeps reading.
    /// Writes after it fail with `BrokenPipe`. Dropping the half does the same.
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

    /// Drops the write half without shutting down the writing direction: it stays open until
    /// the read half is dropped too, which closes the stream (at once if the read half is
    /// gone already).
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// Puts the two halves of a stream back together, as
    /// [`OwnedReadHalf::reunite`] does.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`], holding both halves, if they come from different streams.
    pub fn reunite(self, other: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        reunite(other, self)
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Invariant 3 of the module docs: a plain shutdown(2), error ignored.
            let _ = self.stream.socket().sock_ref().shutdown(Shutdown::Write);
        }
    }
}

impl<S: SplitStream> AsRef<S> for OwnedReadHalf<S> {
    /// The stream, for what the half does not offer (options, the descriptor).
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

impl<S: SplitStream> AsRef<S> for OwnedWriteHalf<S> {
    /// The stream, for what the half does not offer (options, the descriptor).
    fn as_ref(&self) -> &S {
        &self.stream
    }
}

/// The stream of `read` and `write`, or both back if they come from different streams.
fn reunite<S: SplitStream>(
    read: OwnedReadHalf<S>,
    mut write: OwnedWriteHalf<S>,
) -> Result<S, ReuniteError<S>> {
    if !Arc::ptr_eq(&read.stream, &write.stream) {
        return Err(ReuniteError(read, write));
    }
    write.shutdown_on_drop = false;
    drop(write);
    // Invariant 1 of the module docs: the write half held the only other reference.
    let stream = Arc::into_inner(read.stream);
    Ok(stream.expect("ringloop: the two owned halves of a stream hold its only references"))
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "ringloop: reunite was given the read half and the write half of two different \
             streams (only the halves of one into_split can be put back together)",
        )
    }
}

impl<S: SplitStream> Error for ReuniteError<S> {}
