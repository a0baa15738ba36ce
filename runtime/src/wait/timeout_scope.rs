//! [`TimeoutScope`]: a deadline for a block of code that can be moved while the block runs
//! (asyncio's `timeout` and `timeout_at` context managers).
//!
//! # How it works
//! The scope's state (`deadline`, a `version` bumped by every `reschedule`, `expired`, and
//! the wakers of the blocks it runs) is behind one mutex, shared by the handle's clones and
//! the [`Scoped`] futures. Each `Scoped` keeps its own timer, a [`Timeout`] around a future
//! that never completes (so that it ends with the same [`Elapsed`] as every other ringloop
//! timeout). At each poll, after polling the block, it compares the scope's `version` with
//! the one its timer was made for and re-arms the timer if they differ; `reschedule` wakes
//! every block so that this happens promptly when the deadline moves earlier. No waker is
//! woken or dropped under the mutex, and a panic in one is reported (`crate::user_waker`):
//! it must not keep the other blocks from being woken.

use crate::loom::Mutex;
use ringloop_io::time::{timeout_at, Elapsed, Timeout};
use std::fmt;
use std::future::{pending, Future, IntoFuture, Pending};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A deadline for a block of code (asyncio's `timeout(delay)`): when it passes, the block
/// is cancelled (its future dropped) and [`run`](TimeoutScope::run) returns `Err(Elapsed)`.
/// `None` means no deadline. See [`TimeoutScope`] for moving it.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// ringloop::run(async {
///     // asyncio: `async with asyncio.timeout(0.01): await asyncio.sleep(60)`
///     let scope = ringloop::timeout_scope(Duration::from_millis(10));
///     let result = scope
///         .run(async {
///             ringloop::sleep(Duration::from_secs(60)).await.unwrap();
///         })
///         .await;
///     assert!(result.is_err());
///     assert!(scope.expired());
/// });
/// ```
pub fn timeout_scope(delay: impl Into<Option<Duration>>) -> TimeoutScope {
    let deadline = delay.into().map(|delay| {
        let now = Instant::now();
        now.checked_add(delay).unwrap_or_else(|| far_future(now))
    });
    timeout_scope_at(deadline)
}

/// A scope whose deadline is an instant (asyncio's `timeout_at(when)`); `None` means no
/// deadline.
pub fn timeout_scope_at(deadline: impl Into<Option<Instant>>) -> TimeoutScope {
    TimeoutScope {
        shared: Arc::new(Shared {
            state: Mutex::new(State {
                deadline: deadline.into(),
                version: 0,
                expired: false,
                next_run: 0,
                wakers: Vec::new(),
            }),
        }),
    }
}

/// About 30 years from `now`: "never" for a deadline that overflows.
fn far_future(now: Instant) -> Instant {
    now + Duration::from_secs(86_400 * 365 * 30)
}

/// A movable deadline for blocks of code: [`run`](Self::run) a block under it, and move the
/// deadline with [`reschedule`](Self::reschedule) from inside the block or from anywhere
/// else (the handle is cheap to clone, and `Send + Sync`).
///
/// It reads like asyncio's `async with asyncio.timeout(10) as cm:`. A block that completes
/// in time gives `Ok(output)`; at the deadline the block's future is dropped at once — and
/// with it everything it owns: a [`TaskGroup`](crate::TaskGroup) scope inside it cancels its
/// tasks, a [`CancelOnDrop`](crate::CancelOnDrop) cancels its task, a plain
/// [`Task`](crate::Task) handle detaches its task.
///
/// # Examples
/// ```
/// use std::time::{Duration, Instant};
///
/// ringloop::run(async {
///     let cm = ringloop::timeout_scope(Duration::from_millis(10));
///     let out = cm
///         .run(async {
///             // We need more time after all: push the deadline back.
///             cm.reschedule(Instant::now() + Duration::from_secs(60));
///             ringloop::sleep(Duration::from_millis(30)).await.unwrap();
///             "finished"
///         })
///         .await;
///     assert_eq!(out.unwrap(), "finished");
///     assert!(!cm.expired());
///
///     // No deadline at all:
///     let none = ringloop::timeout_scope(None);
///     assert_eq!(none.run(async { 1 }).await.unwrap(), 1);
/// });
/// ```
#[derive(Clone)]
pub struct TimeoutScope {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
}

struct State {
    deadline: Option<Instant>,
    /// Bumped by every `reschedule`.
    version: u64,
    expired: bool,
    /// The id of the next block run under the scope.
    next_run: u64,
    /// The blocks running under the scope, by run id, to wake when the deadline moves.
    wakers: Vec<(u64, Waker)>,
}

impl TimeoutScope {
    /// The current deadline (asyncio's `when()`), `None` if there is none.
    pub fn when(&self) -> Option<Instant> {
        self.shared.state.lock().deadline
    }

    /// Moves the deadline (asyncio's `reschedule(when)`); `None` removes it. Blocks running
    /// under the scope see the new deadline at once; a deadline in the past cancels them
    /// shortly after their next poll, which this call causes (the expired deadline's timer
    /// yields once before it fires, like `sleep(0)`).
    pub fn reschedule(&self, deadline: impl Into<Option<Instant>>) {
        let wakers: Vec<(u64, Waker)> = {
            let mut state = self.shared.state.lock();
            state.deadline = deadline.into();
            state.version += 1;
            state.wakers.clone()
        };
        for (_, waker) in wakers {
            crate::user_waker::wake(waker, "a timeout scope");
        }
    }

    /// Moves the deadline to `delay` from now.
    pub fn reschedule_after(&self, delay: Duration) {
        let now = Instant::now();
        self.reschedule(now.checked_add(delay).unwrap_or_else(|| far_future(now)));
    }

    /// True once the deadline has cancelled a block run under this scope (asyncio's
    /// `expired()`).
    pub fn expired(&self) -> bool {
        self.shared.state.lock().expired
    }

    /// Runs `block` under the scope: `Ok(output)` if it completes before the deadline,
    /// `Err(Elapsed)` if the deadline passes first (the block is then dropped). A block
    /// that is ready at the deadline wins. If the timer cannot be armed (a thread without an
    /// io_uring driver), the block ends at once with an `Elapsed` whose
    /// [`cause`](Elapsed::cause) says why, and the scope is not marked expired.
    pub fn run<F: IntoFuture>(&self, block: F) -> Scoped<F::IntoFuture> {
        let run = {
            let mut state = self.shared.state.lock();
            state.next_run += 1;
            state.next_run
        };
        Scoped {
            block: Some(block.into_future()),
            shared: self.shared.clone(),
            timer: None,
            version: None,
            run,
        }
    }
}

impl fmt::Debug for TimeoutScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("TimeoutScope")
            .field("when", &state.deadline)
            .field("expired", &state.expired)
            .finish()
    }
}

/// The future returned by [`TimeoutScope::run`].
#[must_use = "futures do nothing unless awaited"]
pub struct Scoped<F> {
    /// Structurally pinned: never moved out, only dropped in place (by assigning `None`).
    block: Option<F>,
    shared: Arc<Shared>,
    /// The timer for the deadline of `version`; `None` if that version has no deadline.
    timer: Option<Timeout<Pending<()>>>,
    /// The scope version `timer` was made for; `None` before the first poll.
    version: Option<u64>,
    run: u64,
}

impl<F: Future> Future for Scoped<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `block` is pinned with `self`: it is never moved out, only dropped in
        // place; the other fields are `Unpin` and not treated as pinned.
        let this = unsafe { self.get_unchecked_mut() };
        let Some(block) = this.block.as_mut() else {
            // Polled after completion.
            return Poll::Pending;
        };
        // SAFETY: see above.
        if let Poll::Ready(output) = unsafe { Pin::new_unchecked(block) }.poll(cx) {
            this.finish();
            return Poll::Ready(Ok(output));
        }
        // The block may have rescheduled: (re-)arm the timer for the current deadline.
        let replaced = {
            let mut state = this.shared.state.lock();
            if this.version != Some(state.version) {
                this.version = Some(state.version);
                this.timer = state
                    .deadline
                    .map(|deadline| timeout_at(deadline, pending()));
            }
            match state.wakers.iter_mut().find(|(run, _)| *run == this.run) {
                Some((_, waker)) if waker.will_wake(cx.waker()) => None,
                Some((_, waker)) => Some(std::mem::replace(waker, cx.waker().clone())),
                None => {
                    state.wakers.push((this.run, cx.waker().clone()));
                    None
                }
            }
        };
        // Not under the lock: dropping it runs the waker's code.
        drop(replaced);
        let Some(timer) = this.timer.as_mut() else {
            return Poll::Pending;
        };
        match Pin::new(timer).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(outcome) => {
                let elapsed = outcome.expect_err("the timer's future never completes");
                // A timer that could not be armed (no driver) is not the deadline passing.
                if elapsed.cause().is_none() {
                    this.shared.state.lock().expired = true;
                }
                this.finish();
                Poll::Ready(Err(elapsed))
            }
        }
    }
}

impl<F> Scoped<F> {
    /// Drops the block (cancelling it) and unregisters from the scope.
    fn finish(&mut self) {
        self.block = None;
        self.timer = None;
        let waker = {
            let mut state = self.shared.state.lock();
            let at = state.wakers.iter().position(|(run, _)| *run == self.run);
            at.map(|at| state.wakers.swap_remove(at).1)
        };
        // Also called from `Drop`: a panic must not unwind out of it.
        crate::user_waker::drop_waker(waker, "a timeout scope");
    }
}

impl<F> Drop for Scoped<F> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<F> fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("running", &self.block.is_some())
            .finish_non_exhaustive()
    }
}
