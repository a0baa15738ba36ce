//! ringloop's io_uring driver: one ring per worker thread, carrying its I/O, its timers and
//! its park/unpark.
//!
//! The crate knows nothing of the scheduler. A runtime gives each worker thread a
//! [`Driver`], makes it current with [`Driver::enter`], calls [`Driver::poll`] every tick and
//! [`Driver::park`] when idle, and wakes a parked worker with its [`Unparker`]. Futures
//! created anywhere — [`fs::File`] ops, [`net`] socket ops, [`time::sleep`] and friends,
//! [`nop`] — submit to the current driver of the thread that first polls them, and may then
//! be polled (stolen) or dropped on any other thread: completions and cancellations cross
//! threads correctly.
//!
//! ```
//! use std::future::Future;
//! use std::sync::Arc;
//! use std::task::{Context, Poll, Waker};
//! use std::time::Duration;
//! use ringloop_io::{Driver, DriverConfig};
//!
//! /// The smallest possible runtime: one thread, one future.
//! fn block_on<F: Future>(driver: &Driver, future: F) -> F::Output {
//!     let _enter = driver.enter();
//!     let waker = Waker::from(Arc::new(driver.unparker()));
//!     let mut future = std::pin::pin!(future);
//!     loop {
//!         if let Poll::Ready(out) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
//!             return out;
//!         }
//!         driver.park(None).expect("io_uring_enter failed");
//!     }
//! }
//!
//! let driver = Driver::new(&DriverConfig::new())?;
//! block_on(&driver, async {
//!     ringloop_io::nop().await?;
//!     ringloop_io::time::sleep(Duration::from_millis(2)).await?;
//!     let slow = ringloop_io::time::sleep(Duration::from_secs(60));
//!     let out = ringloop_io::time::timeout(Duration::from_millis(2), slow).await;
//!     assert!(out.is_err());
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # What a runtime does with it
//!
//! Per worker thread (and for the single-threaded runtime's thread):
//!
//! 1. At worker start: `let driver = Driver::new(&config)?;` (fails with an explanatory
//!    `io::Error` if io_uring is unusable), then `let _guard = driver.enter();` for the
//!    worker's lifetime. Hand `driver.unparker()` (`Clone + Send + Sync`) to whoever must
//!    wake this worker: the injector, other workers, task wakers.
//! 2. Every scheduler tick: `driver.poll()` — submits the SQEs queued since the last tick in
//!    one `io_uring_enter` (none if nothing is queued), reaps completions (waking their
//!    tasks' wakers) and fires due timers. Never blocks.
//! 3. When idle: `driver.park(timeout)` — the same, but waits in that `io_uring_enter` until a
//!    completion, an unpark, the next timer deadline or `timeout`. It returns at once if
//!    `unpark` was called since the last `park` returned, so "check queues, then park" loses
//!    no wake-up as long as the work is published before `unpark`. It may return spuriously.
//! 4. At worker exit: drop the guard, then `driver.shutdown()` (or drop the driver), which
//!    cancels and reaps every op in flight before freeing anything.
//!
//! `Unparker::unpark` costs an atomic swap when the worker is running and one eventfd write
//! when it is parked. `poll`/`park` return an error only for a failing `io_uring_enter` or
//! re-entrant use (from a waker they run); wakers are always called after the driver is
//! released, so a waker may push to queues, unpark, or drop ops freely.
//!
//! # Layout
//!
//! * `driver/`: [`Driver`] (`mod.rs`), the ring (`ring.rs`), the op lifecycle and its state
//!   diagram (`lifecycle.rs`), the wake-up protocol (`wake.rs`) and the cross-thread half
//!   with [`Unparker`] (`shared.rs`), creation errors (`setup_error.rs`).
//! * `op/`: one io_uring opcode per file, all driven by one future type.
//! * `time/`: the timer wheel and [`time::Sleep`], [`time::Interval`], [`time::Timeout`].
//! * `buf/`: [`IoBuf`] and [`IoBufMut`]; `fs/`: [`fs::File`].
//! * `net/`: [`net::TcpListener`], [`net::TcpStream`], [`net::UdpSocket`],
//!   [`net::UnixListener`], [`net::UnixStream`], over the socket opcodes of `op/`; the
//!   halves a stream splits into, for both kinds of stream at once (`net/split/`).
//! * `signal/`: [`signal::ctrl_c`] and [`signal::Signal`]: Unix signals, through a
//!   `sigaction` handler, a self-pipe and a poll of it on the ring (`registry.rs`).
//! * `stream/`: [`stream::StreamReader`] and [`stream::StreamWriter`], asyncio's buffered
//!   streams over a connected socket.
//!
//! # Requirements
//!
//! Linux 5.11 or newer with io_uring allowed. When it is not, [`Driver::new`] returns an
//! error that names the cause (old kernel, `kernel.io_uring_disabled`, a seccomp filter,
//! the locked-memory limit) and the fix.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod buf;
mod driver;
mod fd;
pub mod fs;
mod isolate;
mod loom;
pub mod net;
mod op;
pub mod signal;
pub mod stream;
pub mod time;

use std::future::Future;
use std::io;

pub use buf::{IoBuf, IoBufMut};
pub use driver::{Driver, DriverConfig, DriverHandle, DriverStats, EnterGuard, Helped, Unparker};

/// Sends an `IORING_OP_NOP` through the current thread's ring and waits for its completion.
///
/// Useful to measure the ring's round trip and to test a driver.
///
/// # Errors
///
/// If polled on a thread without a driver, or after its driver shut down.
pub fn nop() -> impl Future<Output = io::Result<()>> + Send + Unpin {
    op::Op::new(op::nop::Nop)
}
