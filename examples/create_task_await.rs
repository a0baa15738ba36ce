//! Awaiting coroutines one after the other versus running them as tasks: the `say_after`
//! program of asyncio's tutorial, with shorter delays.
//!
//! ```python
//! async def say_after(delay, what):
//!     await asyncio.sleep(delay)
//!     print(what)
//!
//! async def main():
//!     await say_after(0.5, "hello")      # 0.5 s ...
//!     await say_after(1.0, "world")      # ... then 1 s more: 1.5 s
//!
//!     task1 = asyncio.create_task(say_after(0.5, "hello"))
//!     task2 = asyncio.create_task(say_after(1.0, "world"))
//!     await task1                        # both run at once: 1 s
//!     await task2
//! ```
//!
//! As in Python, calling an `async fn` only makes a future (a coroutine object); awaiting it
//! runs it *inside* the awaiting task, so two awaits in a row run one after the other.
//! `create_task` starts the future as a task of its own right away, and awaiting the task's
//! handle gives its result, as a `Result<T, TaskError>`.
//!
//! Run with `cargo run --example create_task_await`.

use std::time::{Duration, Instant};

async fn say_after(delay: Duration, what: &'static str) {
    ringloop::sleep(delay).await.expect("timer");
    println!("  {what}");
}

fn main() {
    ringloop::run(async {
        let start = Instant::now();
        println!("awaiting one coroutine after the other:");
        say_after(Duration::from_millis(500), "hello").await;
        say_after(Duration::from_millis(1000), "world").await;
        println!("  finished in {:.2?} (0.5 s + 1 s)", start.elapsed());

        let start = Instant::now();
        println!("running them as tasks:");
        let task1 = ringloop::create_task(say_after(Duration::from_millis(500), "hello"));
        let task2 = ringloop::create_task(say_after(Duration::from_millis(1000), "world"));
        // Both tasks are already running; awaiting a handle waits for that task's result.
        task1.await.expect("task1 failed");
        task2.await.expect("task2 failed");
        println!(
            "  finished in {:.2?} (the longer delay only)",
            start.elapsed()
        );
    });
}
