//! [`Sleep`]: a future that completes at a deadline.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::driver::core::shut_down_error;
use crate::driver::current;
use crate::driver::shared::Shared;
use crate::time::entry::{TimerEntry, TimerPoll};

/// Waits until `duration` has elapsed.
///
/// The deadline is computed now; the timer is registered when first polled. A zero
/// duration yields to the scheduler once, like asyncio's `sleep(0)`: see [`Sleep`].
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    sleep_until(now.checked_add(duration).unwrap_or_else(far_future))
}

/// Waits until `deadline`; one already past yields to the scheduler once (see [`Sleep`]).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        state: State::Unregistered,
    }
}

/// About 30 years from now: "never" for a deadline.
pub(crate) fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// The future of [`sleep`] and [`sleep_until`].
///
/// Resolves to `Ok(())` at or after its deadline (never before), or to an error if polled on
/// a thread without a driver, or if its driver shut down first. The first poll registers the
/// timer on the current thread's driver; later polls may happen on any thread. Dropping it
/// cancels the timer without waking the driver.
///
/// If the deadline has already passed when it is first polled (`sleep(Duration::ZERO)`), no
/// timer is registered and no driver is needed, but it still yields once, like asyncio's
/// `sleep(0)`: that poll wakes the task and returns `Pending`, so the scheduler runs the
/// other tasks ready before it, and the next poll completes.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct Sleep {
    deadline: Instant,
    state: State,
}

#[derive(Debug)]
enum State {
    Unregistered,
    /// The deadline had passed at the first poll, which woke the task and returned `Pending`
    /// to yield; the next poll completes.
    Yielded,
    Registered {
        entry: Arc<TimerEntry>,
        owner: Arc<Shared>,
    },
    Done,
}

impl Sleep {
    /// The instant at which this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed and the sleep has completed.
    pub fn is_elapsed(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Moves the deadline, as if the sleep had been created by `sleep_until(deadline)`.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
        self.state = State::Unregistered;
    }

    fn cancel(&mut self) {
        if let State::Registered { entry, owner } = &self.state {
            if entry.transition_to_cancelled() {
                owner.timer_cancelled();
            }
        }
    }
}

impl Future for Sleep {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match &this.state {
            State::Done => Poll::Ready(Ok(())),
            State::Yielded => {
                this.state = State::Done;
                Poll::Ready(Ok(()))
            }
            State::Unregistered => {
                if Instant::now() >= this.deadline {
                    this.state = State::Yielded;
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                let deadline = this.deadline;
                // The entry holds the waker from the start (one lock less than registering
                // it after the insert), cloned here, before the driver is locked: a waker's
                // `clone` is user code. If the insert fails, both are dropped after the
                // driver is released.
                let entry = Arc::new(TimerEntry::new(Some(cx.waker().clone())));
                let registered = current::with_core(|core| {
                    core.insert_timer(deadline, Arc::clone(&entry))?;
                    Ok(Arc::clone(core.shared()))
                })
                .and_then(|r| r);
                match registered {
                    Ok(owner) => {
                        this.state = State::Registered { entry, owner };
                        Poll::Pending
                    }
                    Err(e) => Poll::Ready(Err(e)),
                }
            }
            State::Registered { entry, .. } => match entry.poll(cx.waker()) {
                TimerPoll::Pending => Poll::Pending,
                TimerPoll::Fired => {
                    this.state = State::Done;
                    Poll::Ready(Ok(()))
                }
                TimerPoll::Shutdown => {
                    this.state = State::Unregistered;
                    Poll::Ready(Err(shut_down_error()))
                }
            },
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}
