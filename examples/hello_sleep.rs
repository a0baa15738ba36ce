//! Hello world with a sleep: the first program of asyncio's tutorial.
//!
//! ```python
//! import asyncio
//!
//! async def main():
//!     print("Hello ...")
//!     await asyncio.sleep(1)
//!     print("... World!")
//!
//! asyncio.run(main())
//! ```
//!
//! `ringloop::run` plays `asyncio.run`: it starts a runtime, runs the future to completion and
//! shuts the runtime down. An `async` block is a coroutine: it does nothing until it is
//! awaited (here, by `run`). Timers resolve to `io::Result`, because a timer needs the
//! io_uring ring of the thread that polls it.
//!
//! Run with `cargo run --example hello_sleep`.

use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let start = Instant::now();
    ringloop::run(async {
        println!("Hello ...");
        ringloop::sleep(Duration::from_secs(1)).await?;
        println!("... World!");
        Ok::<(), std::io::Error>(())
    })?;
    println!("(took {:.2?})", start.elapsed());
    Ok(())
}
