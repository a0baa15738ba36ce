//! Sockets whose I/O goes through the ring: [`TcpListener`], [`TcpStream`], [`UdpSocket`],
//! [`UnixListener`] and [`UnixStream`]; and the halves a stream splits into, for a task that
//! reads and another that writes: [`OwnedReadHalf`] and [`OwnedWriteHalf`] (`into_split`),
//! [`ReadHalf`] and [`WriteHalf`] (`split`), generic over the kind of stream
//! ([`SplitStream`]) and named per kind in [`tcp`] and [`unix`] as in tokio.
//!
//! Every operation that waits is an io_uring op (`ACCEPT`, `CONNECT`, `RECV`, `SEND`,
//! `RECVMSG`, `SENDMSG`, `SHUTDOWN`), with the driver's op lifecycle (`driver/lifecycle.rs`):
//! submitted on first poll to the polling thread's driver, completed on whatever thread polls
//! it later, cancelled on its own ring when its future is dropped. Socket set-up (`socket`,
//! `bind`, `listen`, options, addresses) is done with ordinary system calls, which never
//! block.
//!
//! # Buffers
//!
//! Reads and writes take an owned buffer ([`IoBufMut`](crate::IoBufMut) /
//! [`IoBuf`](crate::IoBuf)) and return it with the result: `read(buf) -> (io::Result<usize>,
//! B)`, `write(buf) -> (io::Result<usize>, B)`, `write_all(buf) -> (io::Result<()>, B)`. A
//! read fills the buffer from its start and sets its initialised length to the count.
//!
//! # Lifetimes, cancellation and closing
//!
//! * Op futures borrow their socket, so a socket is never dropped while one of its op futures
//!   is alive:
//!
//!   ```compile_fail
//!   fn close_early(stream: ringloop_io::net::TcpStream) {
//!       let read = stream.read(Vec::with_capacity(8));
//!       drop(stream); // error[E0505]: cannot move out of `stream` because it is borrowed
//!       drop(read);
//!   }
//!   ```
//! * Dropping an op future in flight cancels the op (`ASYNC_CANCEL` on the ring it was
//!   submitted to, from any thread). Its buffer, address storage and a handle on the socket's
//!   descriptor stay with the driver until the cancellation completes, then are freed.
//! * The descriptor is reference-counted between the socket and its ops: dropping a socket
//!   whose dropped ops are still being cancelled closes the descriptor when the last of them
//!   completes, never before, so the kernel never sees a closed or reused descriptor number.
//! * **Reads and accepts are cancel-safe**: what the kernel produced for one whose future was
//!   dropped (by a timeout, a select, a cancelled task) is kept for the socket's next read or
//!   accept: the bytes of a stream, in order and each once; a datagram, whole, with its
//!   sender; a connection. A new read or accept issued while a dropped one is still being
//!   cancelled waits for that cancellation first, so nothing can overtake what it kept.
//!   A connection kept and never accepted is closed with the listener.
//! * **Writes are not**: a write or `write_all` dropped in flight may have sent some or all of
//!   its bytes, and how many is not known (as with a dropped `write_all` in tokio). A connect
//!   dropped in flight leaves its socket unconnected (the socket is dropped with the future);
//!   a dropped shutdown may or may not have happened.
//! * Driver shutdown cancels every op in flight: live futures then complete with an error
//!   (typically `ECANCELED`) and get their buffer back.
//!
//! # Errors
//!
//! Kernel errors arrive as `io::Error::from_raw_os_error(errno)`, so
//! [`ErrorKind`](std::io::ErrorKind) is meaningful: `ConnectionRefused`, `ConnectionReset`,
//! `AddrInUse`, `BrokenPipe`, ... A socket created on a thread without a current driver (not
//! a runtime worker, not inside [`Driver::enter`](crate::Driver::enter)) fails at once with an
//! error that says so.

mod socket;
mod split;
mod tcp_listener;
mod tcp_stream;
mod udp_socket;
mod unix_listener;
mod unix_stream;

pub(crate) use socket::Socket;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, SplitStream, WriteHalf};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp_socket::UdpSocket;
pub use unix_listener::UnixListener;
pub use unix_stream::UnixStream;

/// The halves of a split [`TcpStream`], under the names tokio gives them (`tokio::net::tcp`).
pub mod tcp {
    use super::TcpStream;

    /// The read half of [`TcpStream::into_split`].
    pub type OwnedReadHalf = super::OwnedReadHalf<TcpStream>;
    /// The write half of [`TcpStream::into_split`]; dropping it shuts down the writing
    /// direction.
    pub type OwnedWriteHalf = super::OwnedWriteHalf<TcpStream>;
    /// The read half of [`TcpStream::split`].
    pub type ReadHalf<'a> = super::ReadHalf<'a, TcpStream>;
    /// The write half of [`TcpStream::split`].
    pub type WriteHalf<'a> = super::WriteHalf<'a, TcpStream>;
    /// The halves of two different TCP streams, given back by `reunite`.
    pub type ReuniteError = super::ReuniteError<TcpStream>;
}

/// The halves of a split [`UnixStream`], under the names tokio gives them
/// (`tokio::net::unix`).
pub mod unix {
    use super::UnixStream;

    /// The read half of [`UnixStream::into_split`].
    pub type OwnedReadHalf = super::OwnedReadHalf<UnixStream>;
    /// The write half of [`UnixStream::into_split`]; dropping it shuts down the writing
    /// direction.
    pub type OwnedWriteHalf = super::OwnedWriteHalf<UnixStream>;
    /// The read half of [`UnixStream::split`].
    pub type ReadHalf<'a> = super::ReadHalf<'a, UnixStream>;
    /// The write half of [`UnixStream::split`].
    pub type WriteHalf<'a> = super::WriteHalf<'a, UnixStream>;
    /// The halves of two different Unix-domain streams, given back by `reunite`.
    pub type ReuniteError = super::ReuniteError<UnixStream>;
}
