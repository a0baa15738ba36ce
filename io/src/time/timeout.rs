//! [`Timeout`]: bounds the time a future may take.

use std::error::Error;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::time::sleep::{sleep, sleep_until, Sleep};

/// Runs `future` for at most `duration`: `Ok(output)` if it finishes first, `Err(Elapsed)`
/// (and the future is dropped) otherwise.
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        inner: Some(future.into_future()),
        sleep: sleep(duration),
    }
}

/// Like [`timeout`], with a deadline.
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        inner: Some(future.into_future()),
        sleep: sleep_until(deadline),
    }
}

/// The future of [`timeout`].
///
/// The inner future is polled first, so one that is ready at the deadline wins. When the
/// deadline passes, the inner future is dropped at once (its ops are cancelled), and the
/// output is `Err(Elapsed)`.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Timeout<F> {
    /// Structurally pinned: never moved out, only dropped in place.
    inner: Option<F>,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `inner` is pinned with `self` (it is never moved out, only dropped in place
        // by assigning `None`); `sleep` is `Unpin` and is not treated as pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let Some(inner) = this.inner.as_mut() else {
            // Polled after completion.
            return Poll::Pending;
        };
        // SAFETY: see above; `inner` stays at this address until it is dropped.
        let inner = unsafe { Pin::new_unchecked(inner) };
        if let Poll::Ready(output) = inner.poll(cx) {
            this.inner = None;
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(result) => {
                this.inner = None;
                Poll::Ready(Err(Elapsed {
                    cause: result.err(),
                }))
            }
        }
    }
}

/// The error of a [`Timeout`] whose deadline passed before its future completed.
///
/// If the timer could not be armed at all (polled on a thread without a driver, or its
/// driver shut down), the timeout also ends with `Elapsed`, at once, and
/// [`cause`](Elapsed::cause) says why.
#[derive(Debug)]
pub struct Elapsed {
    cause: Option<io::Error>,
}

impl Elapsed {
    /// Why the timer could not run, if it was not a real timeout.
    pub fn cause(&self) -> Option<&io::Error> {
        self.cause.as_ref()
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            None => f.write_str("deadline has elapsed"),
            Some(cause) => write!(f, "timeout could not be armed: {cause}"),
        }
    }
}

impl Error for Elapsed {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause.as_ref().map(|e| e as &(dyn Error + 'static))
    }
}

impl From<Elapsed> for io::Error {
    fn from(elapsed: Elapsed) -> io::Error {
        match elapsed.cause {
            Some(cause) => cause,
            None => io::Error::new(io::ErrorKind::TimedOut, "deadline has elapsed"),
        }
    }
}
