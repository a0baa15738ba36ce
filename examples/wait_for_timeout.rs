//! Giving up on a slow operation with `wait_for` (asyncio's `wait_for` example, with shorter
//! delays).
//!
//! ```python
//! async def eternity():
//!     await asyncio.sleep(3600)
//!     print("yay!")
//!
//! async def main():
//!     try:
//!         await asyncio.wait_for(eternity(), timeout=0.5)
//!     except TimeoutError:
//!         print("timeout!")
//! ```
//!
//! `wait_for(future, timeout)` gives `Ok(output)` or `Err(Elapsed)`, and at the timeout it
//! drops the future. Dropping a coroutine (a plain future) cancels it. Dropping a `Task`
//! handle, though, *detaches* the task, so a task given to `wait_for` keeps running after
//! the timeout unless it is wrapped in `CancelOnDrop`, which cancels it as asyncio would.
//! All three cases are shown.
//!
//! Run with `cargo run --example wait_for_timeout`.

use ringloop::{create_task, wait_for, CancelOnDrop};
use std::time::{Duration, Instant};

async fn eternity(label: &'static str, start: Instant) {
    ringloop::sleep(Duration::from_secs(1))
        .await
        .expect("timer");
    // Stands for "never" in this demo: it only prints if it was not cancelled.
    println!(
        "[{:.2?}] {label}: yay! (still ran to the end)",
        start.elapsed()
    );
}

fn main() {
    ringloop::run(async {
        let start = Instant::now();
        let limit = Duration::from_millis(500);

        // 1. A coroutine: dropped (cancelled) at the timeout.
        match wait_for(eternity("coroutine", start), limit).await {
            Ok(()) => println!("coroutine finished in time"),
            Err(elapsed) => println!("[{:.2?}] coroutine: timeout! ({elapsed})", start.elapsed()),
        }

        // 2. A task in CancelOnDrop: cancelled at the timeout, as in asyncio.
        let task = create_task(eternity("CancelOnDrop task", start));
        let guard = CancelOnDrop::new(task);
        if wait_for(guard, limit).await.is_err() {
            println!(
                "[{:.2?}] CancelOnDrop task: timeout! (task cancelled)",
                start.elapsed()
            );
        }

        // 3. A plain task handle: the timeout drops the handle, which detaches the task.
        let task = create_task(eternity("detached task", start));
        if wait_for(task, limit).await.is_err() {
            println!(
                "[{:.2?}] plain task: timeout! (the task runs on)",
                start.elapsed()
            );
        }

        // Give the detached task time to finish before `run` returns: `run` cancels every
        // task still alive when its future completes, as `asyncio.run` does.
        ringloop::sleep(Duration::from_millis(700))
            .await
            .expect("timer");
    });
}
