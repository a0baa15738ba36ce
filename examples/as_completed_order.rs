//! Results in the order they complete, not the order they were started (asyncio's
//! `as_completed`).
//!
//! ```python
//! async def fetch(name, delay):
//!     await asyncio.sleep(delay)
//!     return name, delay
//!
//! async def main():
//!     jobs = [fetch("slow", 0.9), fetch("fast", 0.1), fetch("medium", 0.5), fetch("quick", 0.3)]
//!     for next_done in asyncio.as_completed(jobs):
//!         name, delay = await next_done
//!         print(f"{name} ({delay} s)")
//! ```
//!
//! `ringloop::as_completed` takes the futures and yields their outputs as they complete:
//! call `.next().await` until it gives `None`. The futures run inside the task that awaits
//! `next()`, so they need not be `Send`; pass `Task`s instead to run them on several
//! workers (each output is then a `Result<T, TaskError>`). To know which future an output
//! belongs to, make it part of the output, as `fetch` does here.
//!
//! Run with `cargo run --example as_completed_order`.

use std::time::{Duration, Instant};

async fn fetch(name: &'static str, delay_ms: u64) -> (&'static str, u64) {
    ringloop::sleep(Duration::from_millis(delay_ms))
        .await
        .expect("timer");
    (name, delay_ms)
}

fn main() {
    ringloop::run(async {
        let start = Instant::now();
        let jobs = [
            ("slow", 900),
            ("fast", 100),
            ("medium", 500),
            ("quick", 300),
        ];
        println!("started in this order: {:?}", jobs.map(|(name, _)| name));
        let mut completed = ringloop::as_completed(jobs.map(|(name, ms)| fetch(name, ms)));
        let mut order = Vec::new();
        while let Some((name, delay_ms)) = completed.next().await {
            println!(
                "[{:.2?}] {name} ({delay_ms} ms), {} still running",
                start.elapsed(),
                completed.len()
            );
            order.push(name);
        }
        println!("completed in this order: {order:?}");
        assert_eq!(order, ["fast", "quick", "medium", "slow"]);
    });
}
