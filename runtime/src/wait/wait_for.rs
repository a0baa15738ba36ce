//! [`wait_for`]: await a future with an optional timeout (asyncio's `wait_for`).

use ringloop_io::time::{timeout, Elapsed, Timeout};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Awaits `future` for at most `timeout` (asyncio's `wait_for`): `Ok(output)` if it
/// completes in time, `Err(Elapsed)` otherwise, and then the future has been dropped.
/// `timeout` is a `Duration` or `None` (no limit).
///
/// This is [`timeout`](ringloop_io::time::timeout) with asyncio's argument order and an optional
/// limit. asyncio cancels the awaited task at the timeout; a ringloop
/// [`Task`](crate::Task) handle that is dropped *detaches* its task instead, so to cancel
/// it, wait for [`CancelOnDrop::new(task)`](crate::CancelOnDrop).
///
/// # Examples
/// ```
/// use ringloop::{create_task, wait_for, CancelOnDrop};
/// use std::time::Duration;
///
/// ringloop::run(async {
///     assert_eq!(wait_for(async { 7 }, Duration::from_secs(1)).await.unwrap(), 7);
///     assert_eq!(wait_for(async { 7 }, None).await.unwrap(), 7);
///
///     // The task is cancelled at the timeout, as in asyncio:
///     let forever = create_task(std::future::pending::<()>());
///     let out = wait_for(CancelOnDrop::new(forever), Duration::from_millis(10)).await;
///     assert!(out.is_err());
/// });
/// ```
pub fn wait_for<F: IntoFuture>(
    future: F,
    timeout: impl Into<Option<Duration>>,
) -> WaitFor<F::IntoFuture> {
    WaitFor {
        inner: match timeout.into() {
            Some(limit) => Inner::Bounded(self::timeout(limit, future)),
            None => Inner::Unbounded(future.into_future()),
        },
    }
}

/// The future returned by [`wait_for`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFor<F> {
    inner: Inner<F>,
}

enum Inner<F> {
    Bounded(Timeout<F>),
    Unbounded(F),
}

impl<F: Future> Future for WaitFor<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: structural pinning: the variant's future is never moved out of `inner`,
        // and `inner` is never reassigned, so pinning `self` pins it.
        let inner = unsafe { &mut self.get_unchecked_mut().inner };
        match inner {
            // SAFETY: see above.
            Inner::Bounded(future) => unsafe { Pin::new_unchecked(future) }.poll(cx),
            // SAFETY: see above.
            Inner::Unbounded(future) => unsafe { Pin::new_unchecked(future) }.poll(cx).map(Ok),
        }
    }
}

impl<F> fmt::Debug for WaitFor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bounded = matches!(self.inner, Inner::Bounded(_));
        f.debug_struct("WaitFor")
            .field("bounded", &bounded)
            .finish_non_exhaustive()
    }
}
