//! [`Interval`]: ticks at a fixed period.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::time::sleep::{far_future, sleep_until, Sleep};

/// Ticks every `period`, the first tick due at once (like any already-due sleep, it yields
/// to the scheduler once before completing, as asyncio's `sleep(0)` does).
///
/// A zero `period` is treated as one nanosecond. A tick too far ahead to be represented
/// (`Duration::MAX`) is taken as "never": it is scheduled about 30 years ahead.
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`. As with [`interval`], a tick too far
/// ahead to be represented is taken as "never".
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    Interval {
        period: period.max(Duration::from_nanos(1)),
        sleep: sleep_until(start),
    }
}

/// The stream of ticks of [`interval`].
///
/// Ticks are at `start + k * period`. If the consumer falls behind by more than a period,
/// the missed ticks are skipped (the next tick is the first one still in the future), so a
/// stall never causes a burst.
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    sleep: Sleep,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// # Errors
    ///
    /// As [`Sleep`]: no driver on the polling thread, or the driver shut down.
    pub async fn tick(&mut self) -> io::Result<Instant> {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Instant>> {
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {
                let tick = self.sleep.deadline();
                let now = Instant::now();
                // A tick that cannot be represented saturates to "never", as `sleep` does.
                let after =
                    |periods: Duration| tick.checked_add(periods).unwrap_or_else(far_future);
                let mut next = after(self.period);
                if next <= now {
                    let behind = (now - tick).as_nanos() / self.period.as_nanos();
                    let skip = u32::try_from(behind + 1).unwrap_or(u32::MAX);
                    next = after(self.period.saturating_mul(skip));
                }
                self.sleep.reset(next);
                Poll::Ready(Ok(tick))
            }
        }
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}
