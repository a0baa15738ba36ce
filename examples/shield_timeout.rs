//! A shielded operation survives the timeout of the code waiting for it (asyncio's
//! `shield`).
//!
//! ```python
//! async def save(what):
//!     await asyncio.sleep(0.6)              # a write that must not be torn
//!     print(f"{what} saved")
//!
//! async def main():
//!     try:
//!         await asyncio.wait_for(asyncio.shield(save("shielded")), timeout=0.2)
//!     except TimeoutError:
//!         print("gave up waiting; the save goes on")
//!     await asyncio.sleep(0.6)
//! ```
//!
//! `ringloop::shield(future)` runs the future as a task and awaits it without the power to
//! cancel it: when the timeout drops the `Shield`, the task keeps running. For contrast, the
//! same save awaited through `CancelOnDrop` (asyncio's behaviour for an unshielded task) is
//! cancelled at the timeout and never finishes.
//!
//! Run with `cargo run --example shield_timeout`.

use ringloop::{create_task, shield, wait_for, CancelOnDrop};
use std::time::{Duration, Instant};

async fn save(what: &'static str, start: Instant) {
    println!("[{:.2?}] {what}: saving ...", start.elapsed());
    ringloop::sleep(Duration::from_millis(600))
        .await
        .expect("timer");
    println!("[{:.2?}] {what}: saved", start.elapsed());
}

fn main() {
    ringloop::run(async {
        let start = Instant::now();
        let patience = Duration::from_millis(200);

        let unshielded = CancelOnDrop::new(create_task(save("unshielded", start)));
        if wait_for(unshielded, patience).await.is_err() {
            println!(
                "[{:.2?}] unshielded: timeout, the save was cancelled",
                start.elapsed()
            );
        }

        let shielded = shield(save("shielded", start));
        let task = shielded.task().id();
        if wait_for(shielded, patience).await.is_err() {
            println!(
                "[{:.2?}] shielded: timeout, but task {task} goes on",
                start.elapsed()
            );
        }

        // Wait long enough to see the shielded save complete (only it prints "saved").
        ringloop::sleep(Duration::from_millis(700))
            .await
            .expect("timer");
    });
}
