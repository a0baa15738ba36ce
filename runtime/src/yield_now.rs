//! [`yield_now`]: asyncio's `sleep(0)`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets the other tasks run: the current task goes to the back of its run queue once
/// (asyncio's `await asyncio.sleep(0)`).
///
/// # Examples
/// ```
/// ringloop::run(async {
///     for _ in 0..3 {
///         ringloop::yield_now().await;
///     }
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // Waking a running task only marks it: the scheduler queues it again, at the back,
        // once this poll returns.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
