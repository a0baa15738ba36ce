//! Waits for Ctrl-C or `SIGTERM`, then exits cleanly (status 0): the shape of a server's
//! graceful shutdown.
//!
//! ```python
//! import asyncio, signal
//!
//! async def main():
//!     stop = asyncio.Event()
//!     loop = asyncio.get_running_loop()
//!     for sig in (signal.SIGINT, signal.SIGTERM):
//!         loop.add_signal_handler(sig, stop.set)
//!     await stop.wait()
//!
//! asyncio.run(main())
//! ```
//!
//! Run with `cargo run --example signal_shutdown`, then press Ctrl-C, or `kill <pid>`; left
//! alone, it sends itself `SIGTERM` after 5 seconds.

use ringloop::signal::{signal, SignalKind};
use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    ringloop::run(async {
        // Listening starts here: from now on these signals no longer end the process.
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        println!("pid {}: waiting for Ctrl-C or SIGTERM", std::process::id());
        ringloop::create_task(async {
            ringloop::sleep(Duration::from_secs(5)).await?;
            // SAFETY: kill(2) takes no pointers.
            unsafe { libc::kill(libc::getpid(), libc::SIGTERM) };
            Ok::<(), std::io::Error>(())
        })
        .detach();
        let which = poll_fn(|cx| {
            if interrupt.poll_recv(cx).is_ready() {
                Poll::Ready(SignalKind::interrupt())
            } else if terminate.poll_recv(cx).is_ready() {
                Poll::Ready(SignalKind::terminate())
            } else {
                Poll::Pending
            }
        })
        .await;
        println!("{which}: shutting down");
        Ok(())
    })
}
