//! A CPU-bound call blocks the loop; `to_thread` / `run_in_executor` moves it off (asyncio's
//! "running blocking code" advice).
//!
//! ```python
//! def crunch():                                   # CPU-bound, no await inside
//!     ...
//!
//! async def ticker():
//!     while True:
//!         await asyncio.sleep(0.1)
//!         print("tick")
//!
//! async def main():
//!     asyncio.create_task(ticker())
//!     crunch()                                    # the ticker stalls meanwhile
//!     await asyncio.to_thread(crunch)             # the ticker goes on
//!     await loop.run_in_executor(None, crunch)    # likewise
//! ```
//!
//! A task only gives its thread back at an `.await`. A long computation (or a blocking system
//! call) between two awaits holds the thread, and every task queued on it waits. This example
//! uses the single-threaded runtime, asyncio's own model, where that means *every* task. On
//! the multi-threaded runtime it holds one worker: the other workers steal the tasks queued
//! behind it, but the timers and I/O registered with that worker's ring, and its local tasks,
//! wait until it is free.
//!
//! The fix is the same as in asyncio: run the call on the blocking thread pool with
//! `ringloop::to_thread(f)` (submitted when first polled) or
//! `Handle::run_in_executor(f)` (submitted at once, callable from any thread), and await
//! its result (`Result<T, TaskError>`: `Err` if it panicked).
//!
//! Run with `cargo run --example blocking_loop`.

use ringloop::{create_task, sleep, to_thread, Handle, Runtime};
use std::time::{Duration, Instant};

/// Busy-works for `duration` without ever yielding: a stand-in for parsing, hashing,
/// compressing, or a blocking system call.
fn crunch(duration: Duration) -> u64 {
    let start = Instant::now();
    let mut x = 1u64;
    while start.elapsed() < duration {
        for _ in 0..10_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        }
    }
    x
}

/// Prints a line every 100 ms, and says so when a tick comes late.
async fn ticker(start: Instant) {
    let mut last = Instant::now();
    loop {
        sleep(Duration::from_millis(100)).await.expect("timer");
        let gap = last.elapsed();
        last = Instant::now();
        if gap > Duration::from_millis(200) {
            println!(
                "  [{:.2?}] tick   <- {gap:.2?} since the previous one: the loop was blocked",
                start.elapsed()
            );
        } else {
            println!("  [{:.2?}] tick", start.elapsed());
        }
    }
}

fn main() -> std::io::Result<()> {
    let runtime = Runtime::builder().single_threaded().build()?;
    runtime.block_on(async {
        let start = Instant::now();
        let ticks = create_task(ticker(start));
        let work = Duration::from_millis(600);

        sleep(Duration::from_millis(250)).await?;
        println!(
            "[{:.2?}] crunch() called directly in the task:",
            start.elapsed()
        );
        crunch(work);
        println!("[{:.2?}] crunch() done", start.elapsed());

        sleep(Duration::from_millis(250)).await?;
        println!("[{:.2?}] to_thread(crunch):", start.elapsed());
        to_thread(move || crunch(work))
            .await
            .expect("crunch panicked");
        println!("[{:.2?}] to_thread(crunch) done", start.elapsed());

        sleep(Duration::from_millis(250)).await?;
        println!("[{:.2?}] Handle::run_in_executor(crunch):", start.elapsed());
        let call = Handle::current().run_in_executor(move || crunch(work));
        call.await.expect("crunch panicked");
        println!("[{:.2?}] run_in_executor(crunch) done", start.elapsed());

        ticks.cancel();
        Ok(())
    })
}
