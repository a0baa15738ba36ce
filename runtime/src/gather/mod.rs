//! `gather`: run many futures concurrently inside the calling task and collect their outputs
//! in input order (asyncio's `gather`).
//!
//! The futures are polled by the task that awaits the gather, so they need neither `Send`
//! nor `'static`; to use other cores, gather [`Task`](crate::Task)s. Each child has its own
//! waker, and a poll of the gather polls only the children woken since their last poll (see
//! `ready.rs`), so gathering 100,000 futures costs linear work.

mod maybe_done;
mod ready;

pub use maybe_done::MaybeDone;
pub(crate) use ready::WakeFlags;

use ready::ReadyQueue;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs every future of `futures` concurrently and returns their outputs in input order.
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let squares = ringloop::gather((1..=4).map(|i| async move { i * i })).await;
///     assert_eq!(squares, [1, 4, 9, 16]);
///
///     // Tasks run in parallel on the workers; gathering them awaits them all.
///     let tasks = (0..4).map(|i| ringloop::create_task(async move { i + 1 }));
///     let results: Vec<u32> = ringloop::gather(tasks).await.into_iter().map(Result::unwrap).collect();
///     assert_eq!(results, [1, 2, 3, 4]);
/// });
/// ```
pub fn gather<I>(futures: I) -> Gather<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let children: Box<[Child<I::Item>]> = futures.into_iter().map(Child::Running).collect();
    let pending = children.len();
    Gather {
        ready: ReadyQueue::new(children.len()),
        children,
        pending,
    }
}

/// Like [`gather`] for futures that return `Result`: returns all the values in input order,
/// or the first error as soon as it happens, dropping the futures still running.
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let ok = ringloop::try_gather((1..=3).map(|i| async move { Ok::<_, String>(i) })).await;
///     assert_eq!(ok, Ok(vec![1, 2, 3]));
///
///     let err = ringloop::try_gather((1..=3).map(|i| async move {
///         if i == 2 { Err(format!("{i} failed")) } else { Ok(i) }
///     })).await;
///     assert_eq!(err, Err("2 failed".to_string()));
/// });
/// ```
pub fn try_gather<I, T, E>(futures: I) -> TryGather<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    TryGather {
        inner: gather(futures),
    }
}

enum Child<F: Future> {
    Running(F),
    Done(F::Output),
    Taken,
}

/// The future returned by [`gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<F: Future> {
    /// Heap-allocated and never reallocated, so a running child never moves: that is what
    /// makes polling it through `Pin::new_unchecked` sound, and `Gather` itself `Unpin`.
    children: Box<[Child<F>]>,
    ready: ReadyQueue,
    pending: usize,
}

impl<F: Future> Unpin for Gather<F> {}

impl<F: Future> Gather<F> {
    /// Polls the woken children; calls `on_output` with each output as it arrives, which may
    /// ask to stop (returning `Some`), leaving the rest unpolled. Returns the index of the
    /// child whose output stopped it, with what `on_output` returned.
    fn poll_children<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut on_output: impl FnMut(&mut F::Output) -> Option<R>,
    ) -> Option<(usize, R)> {
        self.ready.register(cx.waker());
        let Gather {
            children,
            ready,
            pending,
        } = self;
        let mut stop = None;
        let mut budget_spent = false;
        ready.drain(|index, waker| {
            let Child::Running(future) = &mut children[index] else {
                return true;
            };
            // The future lives in the boxed slice, which never moves or reallocates while
            // the gather exists, and it is only ever dropped in place: by the assignment of
            // its output below, or with the slice. No `Running` child is moved out of its
            // slot (only `Done` outputs are taken out). If the poll unwinds, the gather is
            // dropped with the slice, in place.
            // SAFETY: so the future stays where it is until it is dropped there.
            let future = unsafe { Pin::new_unchecked(future) };
            let mut child_cx = Context::from_waker(waker);
            if let Poll::Ready(mut output) = future.poll(&mut child_cx) {
                stop = on_output(&mut output).map(|stop| (index, stop));
                children[index] = Child::Done(output);
                *pending -= 1;
            }
            // Once the task's budget is spent, every child awaiting a ringloop future would
            // answer `Pending` and wake itself: leave the rest for the next poll instead of
            // polling each of them for nothing (which made a gather of finished tasks
            // quadratic).
            budget_spent = crate::coop::budget_spent();
            stop.is_none() && !budget_spent
        });
        if budget_spent && stop.is_none() {
            cx.waker().wake_by_ref();
        }
        stop
    }

    fn take_outputs(&mut self) -> Vec<F::Output> {
        self.children
            .iter_mut()
            .map(|child| match std::mem::replace(child, Child::Taken) {
                Child::Done(output) => output,
                _ => unreachable!("every child is done when the gather completes"),
            })
            .collect()
    }
}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        if self.pending > 0 {
            self.poll_children(cx, |_| None::<()>);
        }
        if self.pending == 0 {
            Poll::Ready(self.take_outputs())
        } else {
            Poll::Pending
        }
    }
}

impl<F: Future> fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
            .field("len", &self.ready.len())
            .field("pending", &self.pending)
            .finish()
    }
}

/// The future returned by [`try_gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct TryGather<F: Future> {
    inner: Gather<F>,
}

impl<F: Future> Unpin for TryGather<F> {}

impl<F, T, E> Future for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        if inner.pending > 0 {
            let failed = inner.poll_children(cx, |output| output.is_err().then_some(()));
            if let Some((index, ())) = failed {
                // Only the failed child's output is moved out: the children still running
                // are pinned, and must be dropped where they are.
                let error = match std::mem::replace(&mut inner.children[index], Child::Taken) {
                    Child::Done(Err(error)) => error,
                    _ => unreachable!("the failed child's error is stored"),
                };
                inner.pending = 0;
                // Drop every other child now, running or done, in place.
                inner.children = Box::new([]);
                return Poll::Ready(Err(error));
            }
        }
        if inner.pending == 0 {
            let values = inner.take_outputs().into_iter().map(|output| match output {
                Ok(value) => value,
                Err(_) => unreachable!("an error ends the gather when it arrives"),
            });
            Poll::Ready(Ok(values.collect()))
        } else {
            Poll::Pending
        }
    }
}

impl<F: Future> fmt::Debug for TryGather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TryGather").field(&self.inner).finish()
    }
}

/// Runs the given futures concurrently inside the calling task and returns a tuple of their
/// outputs, in order (asyncio's `gather(a, b, c)`).
///
/// The futures may have different output types and need neither `Send` nor `'static`. The
/// macro's arguments are evaluated at once, in order; the futures run when the result is
/// awaited. Only children woken since their last poll are polled again.
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let name = String::from("ringloop");
///     let (a, b, c) = ringloop::gather!(
///         async { 1 },
///         async { name.len() },
///         ringloop::create_task(async { "task" }),
///     )
///     .await;
///     assert_eq!((a, b, c.unwrap()), (1, 8, "task"));
/// });
/// ```
#[macro_export]
macro_rules! gather {
    ($($future:expr),+ $(,)?) => {
        $crate::__gather_impl!(@name [] $($future,)+)
    };
}

/// Implementation detail of [`gather!`]: gives each future a binding of its own (each
/// recursion step's `child` is a distinct identifier, by macro hygiene), then builds the
/// future.
#[doc(hidden)]
#[macro_export]
macro_rules! __gather_impl {
    (@name [$($named:tt)*] $future:expr, $($rest:expr,)*) => {
        $crate::__gather_impl!(@name [$($named)* (child $future)] $($rest,)*)
    };
    (@name [$(($child:ident $future:expr))*]) => {{
        $( let $child = $crate::__private::MaybeDone::new($future); )*
        async move {
            $( let mut $child = ::core::pin::pin!($child); )*
            let flags = $crate::__private::WakeFlags::new(0 $(+ $crate::__gather_impl!(@one $child))*);
            ::core::future::poll_fn(|cx| {
                flags.register(cx.waker());
                let mut index = 0usize;
                let mut done = true;
                $(
                    if flags.take(index) {
                        $child.as_mut().poll_with(flags.waker(index));
                    }
                    done &= $child.is_done();
                    index += 1;
                )*
                let _ = index;
                if done {
                    ::core::task::Poll::Ready(())
                } else {
                    ::core::task::Poll::Pending
                }
            })
            .await;
            ( $( $child.as_mut().take_output(), )* )
        }
    }};
    (@one $child:ident) => { 1usize };
}
