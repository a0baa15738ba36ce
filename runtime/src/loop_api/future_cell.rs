//! [`FutureCell`]: a future completed by hand, from any task or thread (asyncio's
//! `Future`, as made by `loop.create_future()`).
//!
//! # State (one mutex)
//! `Pending { wakers, callbacks }` until the first of `set_result`, `set_exception` or
//! `cancel` moves it to `Done(outcome)`, where it stays: the outcome is kept, so every
//! awaiter and every callback sees it (awaiting gives a clone). The completing call takes
//! the wakers and callbacks out under the lock, then — with no lock held — wakes the
//! awaiters and schedules each callback as a task on the cell's runtime, so a callback never
//! runs inside the call that completed the future (as in asyncio).

use super::future_error::{FutureError, InvalidStateError};
use crate::loom::Mutex;
use crate::Handle;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A future that another task or thread completes (asyncio's `Future`): with a result
/// ([`set_result`](Self::set_result)), an error ([`set_exception`](Self::set_exception)),
/// or by cancelling it ([`cancel`](Self::cancel)). Made by [`create_future`] or
/// [`Handle::create_future`].
///
/// The handle is cheap to clone and `Send + Sync`; every clone is the same future. Awaiting
/// a clone gives `Ok(result)` (a clone of it: `T: Clone`; share other values in an `Arc`),
/// or `Err(FutureError)` — as many times, and from as many tasks, as wanted.
///
/// # Examples
/// ```
/// use ringloop::{create_future, FutureError};
///
/// ringloop::run(async {
///     let fut = create_future::<u32>();
///     let setter = fut.clone();
///     std::thread::spawn(move || setter.set_result(42).unwrap());
///     assert_eq!(fut.clone().await.unwrap(), 42);
///     assert!(fut.set_result(0).is_err()); // already done
///
///     let cancelled = create_future::<u32>();
///     cancelled.cancel();
///     assert!(matches!(cancelled.await, Err(FutureError::Cancelled)));
///
///     let failed = create_future::<u32>();
///     failed.set_exception(std::io::Error::other("disk on fire")).unwrap();
///     let err = failed.await.unwrap_err();
///     assert_eq!(err.exception().unwrap().to_string(), "disk on fire");
/// });
/// ```
pub struct FutureCell<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    /// Where the done callbacks run.
    handle: Handle,
}

type Callback<T> = Box<dyn FnOnce(&FutureCell<T>) + Send + 'static>;

enum State<T> {
    Pending {
        wakers: Vec<Waker>,
        callbacks: Vec<Callback<T>>,
    },
    Done(Result<T, FutureError>),
}

/// A new [`FutureCell`] of the current runtime (asyncio's `loop.create_future()` on the
/// running loop).
///
/// # Panics
/// Outside a runtime.
pub fn create_future<T: Send + 'static>() -> FutureCell<T> {
    Handle::current().create_future()
}

impl Handle {
    /// A new [`FutureCell`] whose done callbacks run on this runtime (asyncio's
    /// `loop.create_future()`).
    pub fn create_future<T: Send + 'static>(&self) -> FutureCell<T> {
        FutureCell {
            inner: Arc::new(Inner {
                state: Mutex::new(State::Pending {
                    wakers: Vec::new(),
                    callbacks: Vec::new(),
                }),
                handle: self.clone(),
            }),
        }
    }
}

impl<T: Send + 'static> FutureCell<T> {
    /// Completes the future with `value` and wakes its awaiters. If it was already done,
    /// gives `value` back in the error.
    pub fn set_result(&self, value: T) -> Result<(), InvalidStateError<T>> {
        self.complete(Ok(value)).map_err(|outcome| match outcome {
            Ok(value) => InvalidStateError(value),
            Err(_) => unreachable!("complete gives back what it was given"),
        })
    }

    /// Completes the future with an error (asyncio's `set_exception`); every awaiter gets
    /// `Err(FutureError::Exception(error))`. If it was already done, gives `error` back.
    pub fn set_exception<E>(&self, error: E) -> Result<(), InvalidStateError<E>>
    where
        E: Error + Send + Sync + 'static,
    {
        let mut state = self.inner.state.lock();
        if let State::Done(_) = &*state {
            drop(state);
            return Err(InvalidStateError(error));
        }
        let outcome = Err(FutureError::Exception(Arc::new(error)));
        let previous = std::mem::replace(&mut *state, State::Done(outcome));
        drop(state);
        self.finish(previous);
        Ok(())
    }

    /// Cancels the future: its awaiters get `Err(FutureError::Cancelled)`. Returns false if
    /// it was already done (asyncio's `cancel()`).
    pub fn cancel(&self) -> bool {
        self.complete(Err(FutureError::Cancelled)).is_ok()
    }

    /// True once the future is done (asyncio's `done()`).
    pub fn is_done(&self) -> bool {
        matches!(&*self.inner.state.lock(), State::Done(_))
    }

    /// True if the future was cancelled (asyncio's `cancelled()`).
    pub fn is_cancelled(&self) -> bool {
        matches!(
            &*self.inner.state.lock(),
            State::Done(Err(FutureError::Cancelled))
        )
    }

    /// The outcome, without waiting: `None` while the future is pending (asyncio's
    /// `result()`, which raises instead).
    pub fn result(&self) -> Option<Result<T, FutureError>>
    where
        T: Clone,
    {
        match &*self.inner.state.lock() {
            State::Pending { .. } => None,
            State::Done(outcome) => Some(outcome.clone()),
        }
    }

    /// Calls `callback` with the future once it is done (asyncio's `add_done_callback`),
    /// as a task of the future's runtime: never inside the call that completes the future.
    /// If the future is already done, the callback is scheduled at once.
    ///
    /// # Examples
    /// ```
    /// use std::sync::mpsc;
    ///
    /// ringloop::run(async {
    ///     let fut = ringloop::create_future::<&str>();
    ///     let (tx, rx) = mpsc::channel();
    ///     fut.add_done_callback(move |fut| tx.send(fut.result()).unwrap());
    ///     fut.set_result("done").unwrap();
    ///     fut.await.unwrap();
    ///     let seen = loop {
    ///         match rx.try_recv() {
    ///             Ok(seen) => break seen,
    ///             Err(_) => ringloop::yield_now().await,
    ///         }
    ///     };
    ///     assert_eq!(seen.unwrap().unwrap(), "done");
    /// });
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&FutureCell<T>) + Send + 'static,
    {
        let mut state = self.inner.state.lock();
        match &mut *state {
            State::Pending { callbacks, .. } => callbacks.push(Box::new(callback)),
            State::Done(_) => {
                drop(state);
                self.schedule(Box::new(callback));
            }
        }
    }

    /// Moves a pending future to `Done(outcome)`, or gives `outcome` back if it was done.
    fn complete(&self, outcome: Result<T, FutureError>) -> Result<(), Result<T, FutureError>> {
        let mut state = self.inner.state.lock();
        if let State::Done(_) = &*state {
            return Err(outcome);
        }
        let previous = std::mem::replace(&mut *state, State::Done(outcome));
        drop(state);
        self.finish(previous);
        Ok(())
    }

    /// Wakes the awaiters and schedules the callbacks of the `Pending` state just left.
    fn finish(&self, previous: State<T>) {
        let State::Pending { wakers, callbacks } = previous else {
            unreachable!("only a pending future completes")
        };
        // One awaiter's panicking waker must not keep the others (and the callbacks) waiting.
        for waker in wakers {
            crate::user_waker::wake(waker, "a FutureCell");
        }
        for callback in callbacks {
            self.schedule(callback);
        }
    }

    fn schedule(&self, callback: Callback<T>) {
        let cell = self.clone();
        self.inner
            .handle
            .spawn(async move { callback(&cell) })
            .detach();
    }
}

impl<T> Clone for FutureCell<T> {
    fn clone(&self) -> FutureCell<T> {
        FutureCell {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> Future for FutureCell<T> {
    type Output = Result<T, FutureError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.inner.state.lock();
        match &mut *state {
            State::Done(outcome) => Poll::Ready(outcome.clone()),
            State::Pending { wakers, .. } => {
                if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
                    wakers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Unpin for FutureCell<T> {}

impl<T> fmt::Debug for FutureCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.inner.state.lock() {
            State::Pending { .. } => "pending",
            State::Done(Ok(_)) => "result",
            State::Done(Err(FutureError::Cancelled)) => "cancelled",
            State::Done(Err(FutureError::Exception(_))) => "exception",
        };
        f.debug_struct("FutureCell").field("state", &state).finish()
    }
}
