//! [`StreamReader`]: asyncio's `StreamReader` over a connected socket, read through the ring
//! into one buffer per stream.
//!
//! # Cancel safety
//!
//! Every read method keeps all its state in the reader, not in its future: the bytes stay in
//! the buffer until the method returns them, and the receive op in flight (with the buffer's
//! free part lent to the kernel) is kept by the reader, not by the future. A read cancelled
//! at any await (a timeout, a select, a cancelled task) therefore loses nothing: the next
//! call finds the op still in flight, or its bytes in the buffer.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::fd::SharedFd;
use crate::op::recv::{RecvBuf, Stream};
use crate::op::Op;
use crate::stream::buffer::{FillTarget, ReadBuffer};
use crate::stream::error::{IncompleteRead, LimitOverrun, ReadError, Sticky};

/// The most a fill asks the kernel for when the caller needs no particular amount.
const READ_CHUNK: usize = 64 * 1024;

/// A buffered reader of a stream socket, with asyncio's `StreamReader` methods.
///
/// Made by `ringloop::open_connection`, `ringloop::start_server` (which hands one to each
/// connection's handler) or [`wrap`](crate::stream::wrap). It owns one buffer, which the
/// kernel fills in place (`IORING_OP_RECV` into its free part), grows when a line or a
/// `readexactly` needs it, and shrinks back once emptied.
///
/// | asyncio | ringloop |
/// |---|---|
/// | `await reader.read(n)` | [`read(n)`](StreamReader::read) |
/// | `await reader.read()` / `read(-1)` | [`read_to_end()`](StreamReader::read_to_end) |
/// | `await reader.readline()` | [`readline()`](StreamReader::readline) |
/// | `await reader.readuntil(sep)` | [`readuntil(sep)`](StreamReader::readuntil) |
/// | `await reader.readexactly(n)` | [`readexactly(n)`](StreamReader::readexactly) |
/// | `reader.at_eof()` | [`at_eof()`](StreamReader::at_eof) |
/// | `async for line in reader` | `while let Some(line) = reader.next_line().await` |
///
/// Every read method is **cancel-safe**: cancelled (by a timeout, for instance), it loses
/// nothing, and the next call sees every byte. After a socket error, every read that needs
/// more bytes reports the same error; bytes already buffered are still returned.
///
/// For parsers that work on the buffer in place, [`buffer`](StreamReader::buffer),
/// [`consume`](StreamReader::consume) and [`fill`](StreamReader::fill) give access without
/// copying.
pub struct StreamReader {
    fd: SharedFd,
    buf: ReadBuffer,
    /// The receive in flight, kept across cancelled reads (module docs).
    fill: Option<Op<RecvBuf<FillTarget, Stream>>>,
    /// A receive returned 0: the peer shut its writing side down.
    eof: bool,
    /// The socket failed; every later fill reports it.
    error: Option<Sticky>,
    limit: usize,
}

impl StreamReader {
    /// asyncio's default limit: 64 KiB.
    pub const DEFAULT_LIMIT: usize = 64 * 1024;

    pub(crate) fn new(fd: SharedFd, limit: usize) -> StreamReader {
        StreamReader {
            fd,
            buf: ReadBuffer::default(),
            fill: None,
            eof: false,
            error: None,
            limit: limit.max(1),
        }
    }

    /// The longest line [`readline`](StreamReader::readline) and
    /// [`readuntil`](StreamReader::readuntil) accept, separator excluded.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Reads up to `n` bytes: returns what is buffered if anything is, else waits for the
    /// next bytes to arrive. Returns an empty `Vec` at end of stream (and for `n == 0`).
    ///
    /// # Errors
    ///
    /// The socket's error (`ConnectionReset`, ...), if nothing is buffered.
    pub fn read(&mut self, n: usize) -> impl Future<Output = io::Result<Vec<u8>>> + Send + '_ {
        poll_fn(move |cx| loop {
            if n == 0 || !self.buf.data().is_empty() {
                return Poll::Ready(Ok(self.buf.take(n)));
            }
            if ready!(self.poll_fill(cx, READ_CHUNK))? == 0 {
                return Poll::Ready(Ok(Vec::new()));
            }
        })
    }

    /// Reads until end of stream and returns everything (asyncio's `read()`, `read(-1)`).
    ///
    /// The buffer grows as needed: use it only on streams whose size you trust.
    ///
    /// # Errors
    ///
    /// The socket's error; the bytes read so far stay buffered.
    pub fn read_to_end(&mut self) -> impl Future<Output = io::Result<Vec<u8>>> + Send + '_ {
        poll_fn(move |cx| loop {
            let free = self.buf.len().clamp(READ_CHUNK, 1 << 24);
            if ready!(self.poll_fill(cx, free))? == 0 {
                return Poll::Ready(Ok(self.buf.take(usize::MAX)));
            }
        })
    }

    /// Reads one line, `\n` included. At end of stream, returns what is left (without a
    /// `\n`), then empty `Vec`s.
    ///
    /// # Errors
    ///
    /// `InvalidData` wrapping a [`LimitOverrun`] if no `\n` comes within the limit (the
    /// bytes stay buffered; unlike asyncio, which drops them); the socket's error.
    pub fn readline(&mut self) -> impl Future<Output = io::Result<Vec<u8>>> + Send + '_ {
        poll_fn(move |cx| {
            Poll::Ready(match ready!(self.poll_readuntil(cx, b"\n")) {
                Ok(line) => Ok(line),
                Err(ReadError::IncompleteRead(rest)) => Ok(rest.partial),
                Err(e) => Err(e.into()),
            })
        })
    }

    /// The next line, as [`readline`](StreamReader::readline), or `None` at end of stream:
    /// `while let Some(line) = reader.next_line().await { let line = line?; ... }`
    /// (asyncio's `async for line in reader`).
    pub fn next_line(&mut self) -> impl Future<Output = Option<io::Result<Vec<u8>>>> + Send + '_ {
        let line = self.readline();
        async move {
            match line.await {
                Ok(line) if line.is_empty() => None,
                other => Some(other),
            }
        }
    }

    /// Reads up to and including the first `separator`.
    ///
    /// # Errors
    ///
    /// * [`ReadError::IncompleteRead`] if the stream ends first (with the remaining bytes,
    ///   consumed);
    /// * [`ReadError::LimitOverrun`] if the separator is not within the first
    ///   [`limit`](StreamReader::limit) bytes (nothing consumed);
    /// * [`ReadError::Io`]: the socket's error, or `InvalidInput` for an empty separator.
    pub fn readuntil<'a>(
        &'a mut self,
        separator: &'a [u8],
    ) -> impl Future<Output = Result<Vec<u8>, ReadError>> + Send + 'a {
        poll_fn(move |cx| self.poll_readuntil(cx, separator))
    }

    /// Reads exactly `n` bytes. The buffer grows to `n` if it must, whatever the limit.
    ///
    /// # Errors
    ///
    /// [`ReadError::IncompleteRead`] if the stream ends first (with the bytes it held,
    /// consumed); [`ReadError::Io`]: the socket's error (nothing consumed).
    pub fn readexactly(
        &mut self,
        n: usize,
    ) -> impl Future<Output = Result<Vec<u8>, ReadError>> + Send + '_ {
        poll_fn(move |cx| loop {
            let len = self.buf.len();
            if len >= n {
                return Poll::Ready(Ok(self.buf.take(n)));
            }
            if self.eof && self.fill.is_none() {
                return Poll::Ready(Err(ReadError::IncompleteRead(IncompleteRead {
                    partial: self.buf.take(len),
                    expected: Some(n),
                })));
            }
            ready!(self.poll_fill(cx, (n - len).min(1 << 24)))?;
        })
    }

    /// Whether the stream ended and every byte was read.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buf.len() == 0
    }

    /// The buffered bytes, not yet read.
    pub fn buffer(&self) -> &[u8] {
        self.buf.data()
    }

    /// Marks the first `n` buffered bytes read (all of them if `n` is larger).
    pub fn consume(&mut self, n: usize) {
        self.buf.consume(n);
    }

    /// Receives more bytes into the buffer: waits until at least one arrives and returns how
    /// many did, or 0 at end of stream. The buffer grows if it is full, past the limit: a
    /// parser using it bounds [`buffer`](StreamReader::buffer)'s length itself.
    ///
    /// Cancel-safe, as every read.
    ///
    /// # Errors
    ///
    /// The socket's error.
    pub fn fill(&mut self) -> impl Future<Output = io::Result<usize>> + Send + '_ {
        poll_fn(move |cx| self.poll_fill(cx, READ_CHUNK.min(self.buf.len().max(4096))))
    }

    /// Polls for more bytes, first making `free` bytes of room when no receive is in
    /// flight (one in flight is waited for as it is).
    fn poll_fill(&mut self, cx: &mut Context<'_>, free: usize) -> Poll<io::Result<usize>> {
        loop {
            let fill = match &mut self.fill {
                Some(fill) => fill,
                None => {
                    if self.eof {
                        return Poll::Ready(Ok(0));
                    }
                    if let Some(error) = &self.error {
                        return Poll::Ready(Err(error.error()));
                    }
                    let target = self.buf.make_room(free);
                    self.fill
                        .insert(Op::new(RecvBuf::new(self.fd.clone(), target)))
                }
            };
            let (result, target) = ready!(Pin::new(fill).poll(cx));
            self.fill = None;
            match result {
                Ok(0) => {
                    self.eof = true;
                    return Poll::Ready(Ok(0));
                }
                Ok(n) => {
                    self.buf.filled(&target);
                    return Poll::Ready(Ok(n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(Sticky::new(&e));
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// asyncio's `readuntil`: searches what is buffered, then waits for more.
    fn poll_readuntil(
        &mut self,
        cx: &mut Context<'_>,
        separator: &[u8],
    ) -> Poll<Result<Vec<u8>, ReadError>> {
        if separator.is_empty() {
            let e = io::Error::new(io::ErrorKind::InvalidInput, "the separator is empty");
            return Poll::Ready(Err(ReadError::Io(e)));
        }
        // Where the separator may start: bytes before it were searched already.
        let mut from = 0;
        loop {
            let data = self.buf.data();
            if data.len() - from >= separator.len() {
                if let Some(at) = find(&data[from..], separator) {
                    let at = from + at;
                    if at > self.limit {
                        return Poll::Ready(Err(self.overrun(at)));
                    }
                    return Poll::Ready(Ok(self.buf.take(at + separator.len())));
                }
                from = data.len() + 1 - separator.len();
                if from > self.limit {
                    return Poll::Ready(Err(self.overrun(from)));
                }
            }
            if self.eof && self.fill.is_none() {
                let len = data.len();
                return Poll::Ready(Err(ReadError::IncompleteRead(IncompleteRead {
                    partial: self.buf.take(len),
                    expected: None,
                })));
            }
            // Room for a line of the limit's length, separator included, and no more.
            let room = (self.limit + separator.len()).saturating_sub(self.buf.len());
            ready!(self.poll_fill(cx, room.clamp(1, READ_CHUNK)))?;
        }
    }

    fn overrun(&self, consumed: usize) -> ReadError {
        ReadError::LimitOverrun(LimitOverrun {
            consumed,
            limit: self.limit,
        })
    }
}

/// Where `needle` (not empty) first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [byte] => memchr::memchr(*byte, haystack),
        _ => memchr::memmem::find(haystack, needle),
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("fd", &self.fd.raw())
            .field("buffered", &self.buf.len())
            .field("capacity", &self.buf.capacity())
            .field("receiving", &self.fill.is_some())
            .field("eof", &self.eof)
            .field("limit", &self.limit)
            .finish()
    }
}
