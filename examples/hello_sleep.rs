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
//! `#[ringloop::main]` plays `asyncio.run(main())`: it turns `async fn main` into a `main`
//! that starts a runtime, runs the body to completion and shuts the runtime down (the body
//! runs as `ringloop::run` would run it). Like a coroutine, the body does nothing until it
//! is awaited, here by the runtime. Timers resolve to `io::Result`, because a timer needs the
//! io_uring ring of the thread that polls it: `?` returns their error from `main`.
//!
//! Run with `cargo run --example hello_sleep`.

use std::time::{Duration, Instant};

#[ringloop::main]
async fn main() -> std::io::Result<()> {
    let start = Instant::now();
    println!("Hello ...");
    ringloop::sleep(Duration::from_secs(1)).await?;
    println!("... World!");
    println!("(took {:.2?})", start.elapsed());
    Ok(())
}
