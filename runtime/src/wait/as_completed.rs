//! [`as_completed`]: the outputs of many futures, in the order they complete (asyncio's
//! `as_completed`).

use super::ready::ReadySet;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs the futures of `futures` concurrently and yields their outputs as they complete
/// (asyncio's `as_completed`): call [`next`](AsCompleted::next) until it gives `None`, or use
/// it as a [`Stream`](futures_core::Stream).
///
/// The futures are polled by the task that awaits `next`, so they need neither `Send` nor
/// `'static` nor `Unpin`; to use other cores, pass [`Task`](crate::Task)s. To know which
/// future an output came from, make it part of the output (`async move { (id, fut.await) }`).
/// Dropping the `AsCompleted` drops the futures still running (dropping a task's handle
/// detaches the task).
///
/// # Cancel safety
/// `next()` is cancel safe: an output is only taken out of the `AsCompleted` in the poll
/// that returns it, so dropping a `next()` future (say, in a timeout) loses nothing.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// ringloop::run(async {
///     let delays = [300u64, 10, 150];
///     let mut completed = ringloop::as_completed(delays.map(|ms| async move {
///         ringloop::sleep(Duration::from_millis(ms)).await.unwrap();
///         ms
///     }));
///     let mut order = Vec::new();
///     while let Some(ms) = completed.next().await {
///         order.push(ms);
///     }
///     assert_eq!(order, [10, 150, 300]);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let children: Box<[Option<I::Item>]> = futures.into_iter().map(Some).collect();
    AsCompleted {
        ready: ReadySet::new(children.len()),
        running: children.len(),
        children,
        outputs: VecDeque::new(),
    }
}

/// The async iterator returned by [`as_completed`].
#[must_use = "an AsCompleted does nothing unless its `next()` is awaited"]
pub struct AsCompleted<F: Future> {
    /// Heap-allocated and never reallocated, so a running child never moves: that is what
    /// makes polling it through `Pin::new_unchecked` sound, and `AsCompleted` itself `Unpin`.
    children: Box<[Option<F>]>,
    ready: ReadySet,
    running: usize,
    /// Completed, not yet returned.
    outputs: VecDeque<F::Output>,
}

impl<F: Future> Unpin for AsCompleted<F> {}

impl<F: Future> AsCompleted<F> {
    /// The next output to complete, or `None` once every output has been returned.
    // An async iterator's `next`, like `StreamExt::next`; it cannot be `Iterator::next`.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Next<'_, F> {
        Next { inner: self }
    }

    /// Polls for the next output (what [`next`](Self::next) and the `Stream` do).
    fn poll_next_output(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        if let Some(output) = self.outputs.pop_front() {
            return Poll::Ready(Some(output));
        }
        if self.running == 0 {
            return Poll::Ready(None);
        }
        self.ready.register(cx.waker());
        let AsCompleted {
            children,
            ready,
            running,
            outputs,
        } = self;
        ready.poll_woken(cx.waker(), |index, waker| {
            let Some(future) = children[index].as_mut() else {
                return;
            };
            // SAFETY: the future lives in the boxed slice, which never moves or reallocates
            // while `self` exists; it is only ever dropped in place (by assigning `None`).
            let future = unsafe { Pin::new_unchecked(future) };
            if let Poll::Ready(output) = future.poll(&mut Context::from_waker(waker)) {
                children[index] = None;
                *running -= 1;
                outputs.push_back(output);
            }
        });
        match self.outputs.pop_front() {
            Some(output) => Poll::Ready(Some(output)),
            None => Poll::Pending,
        }
    }

    /// How many outputs are still to come (running futures plus completed ones not yet
    /// returned).
    pub fn len(&self) -> usize {
        self.running + self.outputs.len()
    }

    /// True once every output has been returned.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<F: Future> futures_core::Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.get_mut().poll_next_output(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl<F: Future> futures_core::FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.is_empty()
    }
}

impl<F: Future> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("running", &self.running)
            .field("ready_outputs", &self.outputs.len())
            .finish()
    }
}

/// The future returned by [`AsCompleted::next`].
#[must_use = "futures do nothing unless awaited"]
pub struct Next<'a, F: Future> {
    inner: &'a mut AsCompleted<F>,
}

impl<F: Future> Future for Next<'_, F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.inner.poll_next_output(cx)
    }
}

impl<F: Future> fmt::Debug for Next<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Next").field(&self.inner).finish()
    }
}
