//! Cancelling a long-running task: `main` checks on it once a second and, after three checks,
//! cancels it (asyncio's `Task.cancel()` example, with shorter periods).
//!
//! ```python
//! async def long_job():
//!     try:
//!         for step in itertools.count():
//!             await asyncio.sleep(0.25)           # a cancellation point
//!             print(f"long_job(): step {step}")
//!     finally:
//!         print("long_job(): cleaning up")        # runs on cancellation too
//!
//! async def main():
//!     task = asyncio.create_task(long_job())
//!     for check in range(1, 4):
//!         await asyncio.sleep(1)
//!         print(f"main(): check {check}: done={task.done()}")
//!     task.cancel()
//!     try:
//!         await task
//!     except asyncio.CancelledError:
//!         print("main(): long_job is cancelled now")
//! ```
//!
//! The difference from asyncio: cancelling a ringloop task does not raise `CancelledError`
//! inside it. The task's future is simply dropped at the `.await` where it is suspended (or
//! at once, if it is idle), so it cannot catch or refuse the cancellation; what `finally`
//! does in Python goes in a `Drop` implementation, which runs when the future is dropped.
//! Awaiting the handle then gives `Err(TaskError::Cancelled)`.
//!
//! Run with `cargo run --example cancel_long_task`.

use ringloop::TaskError;
use std::time::{Duration, Instant};

/// Runs its closure when dropped: the `finally:` block of the task.
struct Finally<F: FnMut()>(F);

impl<F: FnMut()> Drop for Finally<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

async fn long_job(start: Instant) {
    let _cleanup = Finally(move || {
        println!(
            "[{:.2?}] long_job(): cleaning up (Drop runs on cancellation too)",
            start.elapsed()
        )
    });
    for step in 0.. {
        // Every `.await` is a point where the task may be cancelled.
        ringloop::sleep(Duration::from_millis(250))
            .await
            .expect("timer");
        println!("[{:.2?}] long_job(): step {step}", start.elapsed());
    }
}

fn main() {
    ringloop::run(async {
        let start = Instant::now();
        let task = ringloop::TaskBuilder::new()
            .name("long_job")
            .spawn(long_job(start));
        for check in 1..=3 {
            ringloop::sleep(Duration::from_secs(1))
                .await
                .expect("timer");
            println!(
                "[{:.2?}] main(): check {check}: done={}, state={:?}",
                start.elapsed(),
                task.is_done(),
                task.info().state
            );
        }
        println!("[{:.2?}] main(): cancelling long_job", start.elapsed());
        task.cancel();
        match task.await {
            Err(TaskError::Cancelled) => {
                println!(
                    "[{:.2?}] main(): long_job is cancelled now",
                    start.elapsed()
                )
            }
            Err(TaskError::Panicked(payload)) => println!("long_job panicked: {payload:?}"),
            Ok(()) => unreachable!("long_job never returns"),
        }
    });
}
