//! Read and write halves of a stream, for both kinds of stream at once: [`OwnedReadHalf`] and
//! [`OwnedWriteHalf`] (from `into_split`), [`ReadHalf`] and [`WriteHalf`] (from `split`), and
//! [`ReuniteError`]. Each is generic over the stream it splits, bounded by [`SplitStream`],
//! which `TcpStream` and `UnixStream` implement (in their own files); `net::tcp` and
//! `net::unix` give the tokio names to each kind's halves. Nothing here is written per kind
//! except `set_nodelay` on a TCP write half (`tcp_stream.rs`).
//!
//! # Why halves are cheap
//!
//! Every op on a stream takes `&self` and holds its own handle on the descriptor (see
//! `socket.rs`), so a read and a write of one stream can already be in flight at once, from
//! any threads. A half is therefore only a way to hand out that `&self` with a direction:
//! a borrowed half is a `&S`, an owned half an `Arc<S>`. There is no lock and no state shared
//! between the halves other than the stream itself.
//!
//! # Invariants
//!
//! 1. `into_split` puts the stream in a new `Arc` and clones it once: the two owned halves hold
//!    the only two references, and nothing in the crate clones them. `reunite` relies on it:
//!    after checking that both halves point to the same allocation and dropping the write
//!    half, the read half's `Arc` is the last one and yields the stream.
//! 2. The op futures of a half borrow the half (`+ '_`), as the stream's borrow the stream, so
//!    a half is never dropped while one of its futures is alive; a future dropped in flight
//!    cancels its op as it does on the stream. What a cancelled read left behind belongs to
//!    the descriptor, so the next read on the half, or on the stream after `reunite`, gets it.
//! 3. Dropping an [`OwnedWriteHalf`] shuts down the writing direction (`shutdown(2)`,
//!    `SHUT_WR`), as tokio's does, unless it was given up by `forget` or `reunite`. The
//!    shutdown is a plain system call, not a ring op: a drop cannot wait for a completion,
//!    and `shutdown(2)` never blocks. Its error is ignored (the connection may be reset or
//!    gone already, and a drop has nobody to tell). No user code runs in that drop: the
//!    stream itself is dropped only with the last `Arc`, by `Arc`'s own drop.
//! 4. Borrowed halves own nothing and do nothing when dropped.
//!
//! There is no `unsafe` code here.

mod borrowed;
mod owned;

use std::fmt;
use std::io;
use std::sync::Arc;

use crate::net::socket::Socket;

pub use borrowed::{ReadHalf, WriteHalf};
pub use owned::{OwnedReadHalf, OwnedWriteHalf, ReuniteError};

/// A stream that splits into a read half and a write half: [`TcpStream`](crate::net::TcpStream)
/// and [`UnixStream`](crate::net::UnixStream).
///
/// The halves ([`OwnedReadHalf`], [`OwnedWriteHalf`], [`ReadHalf`], [`WriteHalf`]) are generic
/// over the stream and have the same methods for both kinds; this trait supplies what differs,
/// the type of the addresses. [`net::tcp`](crate::net::tcp) and [`net::unix`](crate::net::unix)
/// name each kind's halves as tokio does: `tcp::OwnedReadHalf` is
/// `OwnedReadHalf<TcpStream>`.
///
/// The trait is sealed: only this crate's streams implement it. Use it as a bound in code that
/// serves both kinds of stream.
///
/// # Examples
///
/// ```
/// use ringloop::net::{OwnedReadHalf, SplitStream, UnixStream};
///
/// /// Reads until the end of the stream, from either kind of stream.
/// async fn read_to_end<S: SplitStream>(half: &OwnedReadHalf<S>) -> std::io::Result<Vec<u8>> {
///     let mut out = Vec::new();
///     loop {
///         let (n, buf) = half.read(Vec::with_capacity(4096)).await;
///         if n? == 0 {
///             return Ok(out);
///         }
///         out.extend_from_slice(&buf);
///     }
/// }
///
/// ringloop::run(async {
///     let (a, b) = UnixStream::pair()?;
///     let (read, _write) = a.into_split();
///     let (done, _) = b.write_all(b"to the end".to_vec()).await;
///     done?;
///     drop(b);
///     assert_eq!(read_to_end(&read).await?, b"to the end");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait SplitStream: Sealed + fmt::Debug {
    /// The type of the stream's addresses: `std::net::SocketAddr` for TCP,
    /// `std::os::unix::net::SocketAddr` for Unix-domain streams.
    type Addr: fmt::Debug;

    /// The local address (as the stream's own `local_addr`).
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    fn local_addr(&self) -> io::Result<Self::Addr>;

    /// The peer's address (as the stream's own `peer_addr`).
    ///
    /// # Errors
    ///
    /// The `getpeername(2)` error (`NotConnected`).
    fn peer_addr(&self) -> io::Result<Self::Addr>;
}

/// What the halves need from a stream and users must not reach: its socket. Public in name
/// only, so that [`SplitStream`] may have it as a supertrait; it is nameable only inside
/// `net`, which seals [`SplitStream`].
pub trait Sealed {
    /// The socket the stream wraps.
    fn socket(&self) -> &Socket;
}

/// The owned halves of `stream`; see invariant 1.
pub(crate) fn into_split<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf::new(stream.clone()),
        OwnedWriteHalf::new(stream),
    )
}

/// The borrowed halves of `stream`.
pub(crate) fn split<S: SplitStream>(stream: &mut S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    let stream = &*stream;
    (ReadHalf::new(stream), WriteHalf::new(stream))
}
