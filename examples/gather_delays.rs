//! `gather` of three delayed tasks: they sleep concurrently, so the whole takes as long as
//! the longest one (0.9 s), not the sum of the three (1.8 s).
//!
//! ```python
//! import asyncio, time
//!
//! async def delayed(name, delay):
//!     await asyncio.sleep(delay)
//!     print(f"{name} done after {delay} s")
//!     return name
//!
//! async def main():
//!     start = time.perf_counter()
//!     results = await asyncio.gather(
//!         delayed("A", 0.3), delayed("B", 0.9), delayed("C", 0.6))
//!     print(results, f"in {time.perf_counter() - start:.2f} s")
//!
//! asyncio.run(main())
//! ```
//!
//! `ringloop::gather` takes any iterator of futures and gives their outputs in input order.
//! Gathering `Task`s runs them on the runtime's workers; each output is then a
//! `Result<T, TaskError>` (a task may panic or be cancelled), like asyncio's
//! `gather(..., return_exceptions=True)`.
//!
//! Run with `cargo run --example gather_delays`.

use std::time::{Duration, Instant};

async fn delayed(name: &'static str, delay: Duration, start: Instant) -> &'static str {
    ringloop::sleep(delay).await.expect("timer");
    println!("{name} done after {delay:?} (at {:.2?})", start.elapsed());
    name
}

fn main() {
    ringloop::run(async {
        let start = Instant::now();
        let tasks = [("A", 300), ("B", 900), ("C", 600)].map(|(name, ms)| {
            ringloop::create_task(delayed(name, Duration::from_millis(ms), start))
        });
        let results: Vec<&str> = ringloop::gather(tasks)
            .await
            .into_iter()
            .map(|result| result.expect("the task neither panicked nor was cancelled"))
            .collect();
        let took = start.elapsed();
        println!("{results:?} in {took:.2?} (the sum of the delays is 1.8 s)");
        assert!(took < Duration::from_millis(1_500), "the delays overlapped");
    });
}
