//! A future completed by another task: `create_future` and `set_result` (asyncio's
//! `loop.create_future()` example, with a shorter delay).
//!
//! ```python
//! async def set_after(fut, delay, value):
//!     await asyncio.sleep(delay)
//!     fut.set_result(value)
//!
//! async def main():
//!     loop = asyncio.get_running_loop()
//!     fut = loop.create_future()
//!     loop.create_task(set_after(fut, 0.5, "... world"))
//!     print("hello ...")
//!     print(await fut)
//! ```
//!
//! `ringloop::create_future::<T>()` makes a `FutureCell<T>`: a cheap, cloneable handle to one
//! future that anybody may complete (from a task, a callback or a plain thread) with
//! `set_result`, `set_exception` or `cancel`. Awaiting a clone gives `Ok(value)` (a clone of
//! the value) or `Err(FutureError)`; every clone sees the same outcome. Completing it twice
//! is an error that hands the value back (asyncio's `InvalidStateError`).
//!
//! Run with `cargo run --example future_from_task`.

use ringloop::{create_future, FutureCell, FutureError};
use std::time::Duration;

async fn set_after(fut: FutureCell<String>, delay: Duration, value: &str) {
    ringloop::sleep(delay).await.expect("timer");
    fut.set_result(value.to_owned())
        .expect("nobody else completes this future");
}

fn main() {
    ringloop::run(async {
        let fut = create_future::<String>();
        ringloop::create_task(set_after(
            fut.clone(),
            Duration::from_millis(500),
            "... world",
        ))
        .detach();
        println!("hello ...");
        println!("{}", fut.clone().await.expect("the future was set"));

        // The outcome stays: awaiting again (or reading `result()`) gives it at once, and a
        // second `set_result` is refused with the value handed back.
        assert_eq!(fut.result().unwrap().unwrap(), "... world");
        let refused = fut.set_result("again".to_owned()).unwrap_err();
        println!(
            "set_result on a done future: {refused} (got back {:?})",
            refused.0
        );

        // A future failed from a plain OS thread: every awaiter sees the same error.
        let failing = create_future::<u32>();
        let setter = failing.clone();
        std::thread::spawn(move || {
            setter
                .set_exception(std::io::Error::other("disk on fire"))
                .unwrap()
        });
        match failing.await {
            Err(FutureError::Exception(err)) => println!("the other thread failed it: {err}"),
            other => println!("unexpected: {other:?}"),
        }
    });
}
