//! [`StreamWriter`] and its [`Flusher`]: asyncio's `StreamWriter`, whose `write` only buffers
//! and whose bytes a background task sends.
//!
//! # The protocol
//!
//! The writer and the flusher share one [`State`] under a mutex:
//!
//! 1. `write` appends to `pending` and, if the flusher is idle (its waker is stored), wakes
//!    it. It never waits and never fails for lack of room: back-pressure is `drain`'s job.
//! 2. The flusher takes all of `pending` (swapping in its spare `Vec`, so no allocation in
//!    the steady state), counts it as `in_flight`, and sends it whole with one
//!    `write_all` (one `IORING_OP_SEND` when the socket has room). Then it clears
//!    `in_flight`, wakes the drainers if the unsent bytes (`pending + in_flight`) are at or
//!    below the low-water mark, and goes on while `pending` is not empty.
//! 3. When nothing is pending: after `write_eof` it shuts the writing side down once; after
//!    `close` (or the writer's drop) it shuts the writing side down (if `write_eof` did
//!    not already) and finishes (`closed`),
//!    waking `wait_closed`. Else it stores its waker and sleeps.
//! 4. A send error is kept (`error`): the pending bytes are dropped, the flusher finishes,
//!    and the next `write`, `drain` and `wait_closed` report it.
//!
//! Bytes are sent in the order they were written because only the flusher sends, one
//! `write_all` at a time.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::mem;
use std::net::Shutdown as How;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::net::Socket;
use crate::op::shutdown::Shutdown;
use crate::op::Op;
use crate::stream::error::Sticky;
use crate::stream::StreamAddr;

/// asyncio's default high-water mark: 64 KiB.
const DEFAULT_HIGH: usize = 64 * 1024;
/// asyncio's default low-water mark: a quarter of the high one.
const DEFAULT_LOW: usize = DEFAULT_HIGH / 4;
/// A spare buffer larger than this is not kept between sends.
const SPARE_MAX: usize = 1 << 20;

/// The state the writer and its flusher share; see the module docs.
struct State {
    pending: Vec<u8>,
    /// Bytes taken by the flusher and not yet sent.
    in_flight: usize,
    high: usize,
    low: usize,
    /// The flusher's waker while it sleeps.
    flusher: Option<Waker>,
    /// Tasks in `drain`.
    drainers: Vec<Waker>,
    /// Tasks in `wait_closed`.
    closers: Vec<Waker>,
    /// `write_eof` was called.
    eof: bool,
    /// `close` was called, or the writer dropped.
    closing: bool,
    /// The flusher finished: every byte sent and the socket shut down, or an error.
    closed: bool,
    error: Option<Sticky>,
}

impl State {
    fn unsent(&self) -> usize {
        self.pending.len() + self.in_flight
    }
}

type Shared = Arc<Mutex<State>>;

/// Wakes each waker, outside the lock (a waker is the runtime's code, but it may be anyone's).
fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

/// Adds `waker` to `list` unless it is there already.
fn register(list: &mut Vec<Waker>, waker: &Waker) {
    if !list.iter().any(|w| w.will_wake(waker)) {
        list.push(waker.clone());
    }
}

/// A buffered writer of a stream socket, with asyncio's `StreamWriter` methods.
///
/// [`write`](StreamWriter::write) only appends to the buffer; a background task (the
/// [`Flusher`], which `ringloop::open_connection` and `ringloop::start_server` spawn) sends
/// it, in order, whether or not anyone waits. [`drain`](StreamWriter::drain) is the
/// back-pressure: it waits while the unsent bytes are above the high-water mark (64 KiB)
/// until they are at or below the low-water mark (16 KiB).
///
/// | asyncio | ringloop |
/// |---|---|
/// | `writer.write(data)` | [`write(data)?`](StreamWriter::write) |
/// | `writer.writelines(lines)` | [`writelines(lines)?`](StreamWriter::writelines) |
/// | `await writer.drain()` | [`drain().await?`](StreamWriter::drain) |
/// | `writer.write_eof()` | [`write_eof()?`](StreamWriter::write_eof) |
/// | `writer.close()` | [`close()`](StreamWriter::close) (also on drop) |
/// | `await writer.wait_closed()` | [`wait_closed().await?`](StreamWriter::wait_closed) |
/// | `writer.is_closing()` | [`is_closing()`](StreamWriter::is_closing) |
/// | `get_extra_info('peername')` | [`peer_addr()`](StreamWriter::peer_addr) |
/// | `transport.set_write_buffer_limits(high, low)` | [`set_write_buffer_limits`](StreamWriter::set_write_buffer_limits) |
///
/// Bytes written before `close` (or the writer's drop) are sent before the socket is shut
/// down. A send error is never lost: the next `write`, `drain` or `wait_closed` returns it.
/// All methods take `&self`: share the writer (in an `Arc`) to write from several tasks.
pub struct StreamWriter {
    shared: Shared,
    socket: Socket,
}

/// Sends what a [`StreamWriter`] buffers: a future to spawn as a task, which finishes once
/// the writer is closed (or dropped) and every byte is sent, or a send failed.
///
/// `ringloop::open_connection` and `ringloop::start_server` spawn it; spawn it yourself only
/// with [`wrap`](crate::stream::wrap).
pub struct Flusher {
    run: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl StreamWriter {
    pub(crate) fn new(socket: Socket) -> (StreamWriter, Flusher) {
        let shared = Arc::new(Mutex::new(State {
            pending: Vec::new(),
            in_flight: 0,
            high: DEFAULT_HIGH,
            low: DEFAULT_LOW,
            flusher: None,
            drainers: Vec::new(),
            closers: Vec::new(),
            eof: false,
            closing: false,
            closed: false,
            error: None,
        }));
        let flusher = Flusher {
            run: Box::pin(flush(Arc::clone(&shared), socket.share())),
        };
        (StreamWriter { shared, socket }, flusher)
    }

    /// Appends `data` to the buffer; the flusher sends it. Never waits: call
    /// [`drain`](StreamWriter::drain) to wait for room.
    ///
    /// # Errors
    ///
    /// The error an earlier send failed with (`BrokenPipe`, `ConnectionReset`, ...), or
    /// `BrokenPipe` after [`close`](StreamWriter::close) or
    /// [`write_eof`](StreamWriter::write_eof). Nothing is buffered then.
    pub fn write(&self, data: &[u8]) -> io::Result<()> {
        self.writelines([data])
    }

    /// Appends each of `lines` to the buffer, as one [`write`](StreamWriter::write) of them
    /// all.
    ///
    /// # Errors
    ///
    /// As [`write`](StreamWriter::write).
    pub fn writelines<I>(&self, lines: I) -> io::Result<()>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let flusher = {
            let mut state = self.shared.lock();
            if let Some(error) = &state.error {
                return Err(error.error());
            }
            if state.closing || state.eof {
                let what = if state.closing {
                    "closed"
                } else {
                    "shut down by write_eof"
                };
                let message = format!("ringloop: write on a stream writer already {what}");
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, message));
            }
            for line in lines {
                state.pending.extend_from_slice(line.as_ref());
            }
            if state.pending.is_empty() {
                None
            } else {
                state.flusher.take()
            }
        };
        if let Some(flusher) = flusher {
            flusher.wake();
        }
        Ok(())
    }

    /// Waits for room: returns at once if the unsent bytes are at or below the high-water
    /// mark, else waits until they are at or below the low-water mark.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: it only waits; the bytes are sent whether or not anyone drains.
    ///
    /// # Errors
    ///
    /// The error a send failed with (`BrokenPipe`, `ConnectionReset`, ...).
    pub fn drain(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        let mut waiting = false;
        poll_fn(move |cx| {
            let mut state = self.shared.lock();
            if let Some(error) = &state.error {
                return Poll::Ready(Err(error.error()));
            }
            let mark = if waiting { state.low } else { state.high };
            if state.unsent() <= mark || state.closed {
                return Poll::Ready(Ok(()));
            }
            waiting = true;
            register(&mut state.drainers, cx.waker());
            Poll::Pending
        })
    }

    /// Shuts the writing side down once the buffered bytes are sent (`shutdown(SHUT_WR)`):
    /// the peer reads end of stream and may still send.
    ///
    /// # Errors
    ///
    /// As [`write`](StreamWriter::write); calling it twice is not an error.
    pub fn write_eof(&self) -> io::Result<()> {
        let flusher = {
            let mut state = self.shared.lock();
            if let Some(error) = &state.error {
                return Err(error.error());
            }
            state.eof = true;
            state.flusher.take()
        };
        if let Some(flusher) = flusher {
            flusher.wake();
        }
        Ok(())
    }

    /// Closes the writing side: the buffered bytes are sent, then the socket's writing side
    /// is shut down (the peer reads end of stream). Further writes fail. The connection's
    /// [`StreamReader`](crate::stream::StreamReader) goes on reading what the peer sends; the
    /// socket is closed when both are dropped.
    /// [`wait_closed`](StreamWriter::wait_closed) waits for it to be done. Dropping the
    /// writer closes it too.
    pub fn close(&self) {
        let flusher = {
            let mut state = self.shared.lock();
            state.closing = true;
            state.flusher.take()
        };
        if let Some(flusher) = flusher {
            flusher.wake();
        }
    }

    /// Whether [`close`](StreamWriter::close) was called (or a send failed).
    pub fn is_closing(&self) -> bool {
        let state = self.shared.lock();
        state.closing || state.closed
    }

    /// Waits until the stream is closed: every buffered byte sent and the socket shut down,
    /// or a send failed. Call [`close`](StreamWriter::close) first, as in asyncio.
    ///
    /// # Errors
    ///
    /// The error a send or the shutdown failed with: bytes that were not sent are reported,
    /// never dropped silently.
    pub fn wait_closed(&self) -> impl Future<Output = io::Result<()>> + Send + '_ {
        poll_fn(move |cx| {
            let mut state = self.shared.lock();
            if state.closed {
                return Poll::Ready(match &state.error {
                    Some(error) => Err(error.error()),
                    None => Ok(()),
                });
            }
            register(&mut state.closers, cx.waker());
            Poll::Pending
        })
    }

    /// Bytes written and not yet sent (asyncio's `transport.get_write_buffer_size()`).
    pub fn buffer_size(&self) -> usize {
        self.shared.lock().unsent()
    }

    /// Sets the high- and low-water marks of [`drain`](StreamWriter::drain) (asyncio's
    /// `transport.set_write_buffer_limits`). `low` is capped at `high`.
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) {
        let drainers = {
            let mut state = self.shared.lock();
            state.high = high;
            state.low = low.min(high);
            mem::take(&mut state.drainers)
        };
        // They check the new marks.
        wake_all(drainers);
    }

    /// The address of the other end.
    ///
    /// # Errors
    ///
    /// The `getpeername(2)` error (`NotConnected` once the peer is gone).
    pub fn peer_addr(&self) -> io::Result<StreamAddr> {
        StreamAddr::of(&self.socket, true)
    }

    /// The address of this end.
    ///
    /// # Errors
    ///
    /// The `getsockname(2)` error.
    pub fn local_addr(&self) -> io::Result<StreamAddr> {
        StreamAddr::of(&self.socket, false)
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        self.close();
    }
}

/// What the flusher does next.
enum Next {
    Send(Vec<u8>),
    /// `shutdown(SHUT_WR)`, once: the peer reads end of stream.
    ShutDownWrite,
    Finish,
}

/// The flusher's loop; see the module docs.
async fn flush(shared: Shared, socket: Socket) {
    let mut spare = Vec::new();
    let mut eof_sent = false;
    loop {
        let next = poll_fn(|cx| {
            let mut state = shared.lock();
            if state.error.is_some() {
                return Poll::Ready(Next::Finish);
            }
            if !state.pending.is_empty() {
                let batch = mem::replace(&mut state.pending, mem::take(&mut spare));
                state.in_flight = batch.len();
                return Poll::Ready(Next::Send(batch));
            }
            if (state.closing || state.eof) && !eof_sent {
                return Poll::Ready(Next::ShutDownWrite);
            }
            if state.closing {
                return Poll::Ready(Next::Finish);
            }
            if !state
                .flusher
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()))
            {
                state.flusher = Some(cx.waker().clone());
            }
            Poll::Pending
        })
        .await;
        match next {
            Next::Send(batch) => {
                let (result, mut batch) = socket.send_all(batch).await;
                batch.clear();
                if batch.capacity() <= SPARE_MAX {
                    spare = batch;
                }
                let drainers = {
                    let mut state = shared.lock();
                    state.in_flight = 0;
                    if let Err(e) = &result {
                        state.error = Some(Sticky::new(e));
                        state.pending = Vec::new();
                    }
                    if state.error.is_some() || state.unsent() <= state.low {
                        mem::take(&mut state.drainers)
                    } else {
                        Vec::new()
                    }
                };
                wake_all(drainers);
            }
            Next::ShutDownWrite => {
                let result = Op::new(Shutdown::new(socket.fd().clone(), How::Write)).await;
                // A peer already gone is not this end's failure.
                if let Err(e) = result.as_ref().map_err(io::Error::kind) {
                    if e != io::ErrorKind::NotConnected {
                        let e = result.expect_err("matched");
                        shared.lock().error = Some(Sticky::new(&e));
                    }
                }
                eof_sent = true;
            }
            Next::Finish => break,
        }
    }
    let (drainers, closers) = {
        let mut state = shared.lock();
        state.closed = true;
        state.pending = Vec::new();
        (
            mem::take(&mut state.drainers),
            mem::take(&mut state.closers),
        )
    };
    wake_all(drainers);
    wake_all(closers);
}

impl Future for Flusher {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.run.as_mut().poll(cx)
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("StreamWriter")
            .field("pending", &state.pending.len())
            .field("in_flight", &state.in_flight)
            .field("closing", &state.closing)
            .field("closed", &state.closed)
            .finish()
    }
}

impl fmt::Debug for Flusher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flusher").finish_non_exhaustive()
    }
}
