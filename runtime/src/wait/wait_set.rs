//! [`wait`]: wait for some or all of a set of futures, with an optional timeout
//! (asyncio's `wait`).

use super::ready::ReadySet;
use ringloop_io::time::{sleep, Sleep};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any future completes.
    FirstCompleted,
    /// As soon as any future completes with a failure (see [`Outcome`]), or when all have
    /// completed if none fails.
    FirstException,
    /// When every future has completed.
    AllCompleted,
}

/// Whether an output counts as a failure for [`ReturnWhen::FirstException`]: for a
/// `Result`, any `Err`.
///
/// A [`Task`](crate::Task)'s output is `Result<T, TaskError>`, so a task that panicked or
/// was cancelled counts (asyncio does not count a cancelled task; a ringloop task is
/// cancelled only by an explicit `cancel()` or by shutdown). A task that returns a
/// `Result` of its own gives `Result<Result<T, E>, TaskError>`, whose inner `Err` does not
/// count; wait for `async move { task.await.unwrap() }`-style futures that flatten it if it
/// should.
pub trait Outcome {
    /// True if this output is a failure.
    fn is_failure(&self) -> bool;
}

impl<T, E> Outcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

/// Waits for the futures of `futures` until `return_when` is satisfied or `timeout` (if
/// any) expires, and returns `(done, pending)` (asyncio's `wait`):
///
/// - `done`: `(index, output)` of each future that completed, in completion order, where
///   `index` is the future's position in `futures`;
/// - `pending`: the futures that did not complete, in input order, not cancelled: a
///   [`Task`](crate::Task) keeps running, and may be waited for again.
///
/// A timeout is not an error: the futures that completed in time are in `done`. The futures
/// are polled by the task that awaits the `Wait`; they must be `Unpin` to be given back
/// (tasks are; pin other futures with `Box::pin`). Dropping the `Wait` drops the futures
/// it holds (dropping a task's handle detaches the task: it keeps running). With no futures
/// it completes at once with two empty vectors.
///
/// If the timer cannot be armed (a thread without an io_uring driver), the wait ends at
/// once, as if it had timed out.
///
/// # Examples
/// ```
/// use ringloop::{create_task, wait, ReturnWhen};
/// use std::time::Duration;
///
/// ringloop::run(async {
///     let fast = create_task(async { "fast" });
///     let slow = create_task(async {
///         ringloop::sleep(Duration::from_secs(60)).await.unwrap();
///         "slow"
///     });
///     let (done, pending) = wait([fast, slow], ReturnWhen::FirstCompleted, None).await;
///     assert_eq!(done.len(), 1);
///     let (index, output) = &done[0];
///     assert_eq!((*index, output.as_ref().unwrap()), (0, &"fast"));
///     assert_eq!(pending.len(), 1);
///     for task in pending {
///         task.cancel();
///     }
///
///     // With a timeout, nothing that is still running is lost:
///     let sleeper = create_task(ringloop::sleep(Duration::from_secs(60)));
///     let (done, pending) =
///         wait([sleeper], ReturnWhen::AllCompleted, Some(Duration::from_millis(10))).await;
///     assert!(done.is_empty());
///     assert!(pending[0].cancel());
/// });
/// ```
pub fn wait<I>(futures: I, return_when: ReturnWhen, timeout: Option<Duration>) -> Wait<I::Item>
where
    I: IntoIterator,
    I::Item: Future + Unpin,
    <I::Item as Future>::Output: Outcome,
{
    let children: Vec<Option<I::Item>> = futures.into_iter().map(Some).collect();
    Wait {
        ready: ReadySet::new(children.len()),
        remaining: children.len(),
        children,
        done: Vec::new(),
        failed: false,
        return_when,
        timer: timeout.map(sleep),
    }
}

/// The future returned by [`wait`]: `(done, pending)`.
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<F: Future> {
    children: Vec<Option<F>>,
    ready: ReadySet,
    remaining: usize,
    done: Vec<(usize, F::Output)>,
    failed: bool,
    return_when: ReturnWhen,
    timer: Option<Sleep>,
}

// Nothing in a `Wait` is ever pinned: the children are `Unpin`, and outputs are plain values.
impl<F: Future> Unpin for Wait<F> {}

impl<F: Future + Unpin> Wait<F> {
    fn finish(&mut self) -> (Vec<(usize, F::Output)>, Vec<F>) {
        // The pending futures may still wake our nodes: make that wake nobody.
        self.ready.clear_parent();
        let pending = self.children.drain(..).flatten().collect();
        (std::mem::take(&mut self.done), pending)
    }

    fn satisfied(&self) -> bool {
        match self.return_when {
            _ if self.remaining == 0 => true,
            ReturnWhen::FirstCompleted => !self.done.is_empty(),
            ReturnWhen::FirstException => self.failed,
            ReturnWhen::AllCompleted => false,
        }
    }
}

impl<F> Future for Wait<F>
where
    F: Future + Unpin,
    F::Output: Outcome,
{
    type Output = (Vec<(usize, F::Output)>, Vec<F>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.ready.register(cx.waker());
        let Wait {
            children,
            ready,
            remaining,
            done,
            failed,
            ..
        } = this;
        ready.poll_woken(cx.waker(), |index, waker| {
            let Some(future) = children.get_mut(index).and_then(Option::as_mut) else {
                return;
            };
            if let Poll::Ready(output) = Pin::new(future).poll(&mut Context::from_waker(waker)) {
                *failed |= output.is_failure();
                done.push((index, output));
                children[index] = None;
                *remaining -= 1;
            }
        });
        if this.satisfied() {
            return Poll::Ready(this.finish());
        }
        if let Some(timer) = &mut this.timer {
            // An error (no driver to arm the timer on) ends the wait like a timeout.
            if Pin::new(timer).poll(cx).is_ready() {
                return Poll::Ready(this.finish());
            }
        }
        Poll::Pending
    }
}

impl<F: Future> fmt::Debug for Wait<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("len", &self.children.len())
            .field("remaining", &self.remaining)
            .field("done", &self.done.len())
            .field("return_when", &self.return_when)
            .finish_non_exhaustive()
    }
}
