//! [`Condition`]: `asyncio.Condition`, a condition variable bound to its own [`Mutex`].
//!
//! # State
//!
//! * `mutex`: the [`Mutex<T>`] the condition is bound to; [`Condition::lock`] locks it.
//! * `waiters`: a lock-protected [`WaitList`] of tasks parked in [`Condition::wait`].
//!
//! # Protocol of one wait ([`ConditionWait`])
//!
//! 1. `Init(guard)`: the caller holds the mutex. On the first poll the waiter is queued
//!    *before* the guard is dropped, so a notifier that changes the state under the mutex
//!    after that release is guaranteed to see the waiter (no lost wake-up).
//! 2. `Waiting(key)`: parked. `notify(n)` marks the `n` oldest waiters notified, in FIFO
//!    order; a notified waiter leaves the list on its next poll.
//! 3. `Reacquire`: the waiter queues for the mutex like any other locker and returns the new
//!    guard once it has it.
//!
//! # Cancellation
//!
//! Dropping the future in `Init` just unlocks. In `Waiting`, the slot is removed; if it had
//! already been notified, the notification is passed to the next waiter (`notify(1)`). In
//! `Reacquire`, the notification was consumed but never reached the caller, so it is passed on
//! too (Python 3.13 does the same); the mutex acquire cancels itself. A passed-on notification
//! may wake a waiter whose predicate is still false: a spurious wake-up, which condition
//! variables allow and [`Condition::wait_for`] absorbs.
//!
//! Wakers are woken only after the waiter-list lock is released.

use crate::loom::Mutex as StateMutex;
use crate::mutex::{MutexGuard, MutexLock, TryLockError};
use crate::wait_list::{Key, Removed, WaitList};
use crate::wake_list::WakeList;
use crate::Mutex;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A condition variable with its own lock, like `asyncio.Condition`.
///
/// The condition owns a [`Mutex<T>`]; [`lock`](Self::lock) it, then
/// [`wait`](Self::wait) (or [`wait_for`](Self::wait_for) a predicate) with the guard: waiting
/// releases the lock and re-acquires it before returning. [`notify`](Self::notify) wakes the
/// `n` longest-waiting tasks, [`notify_all`](Self::notify_all) all of them. Use
/// `Condition<()>` for asyncio's data-less condition.
///
/// # Examples
///
/// ```
/// use ringloop_sync::Condition;
/// use std::sync::Arc;
/// # use pollster::block_on;
///
/// let cond = Arc::new(Condition::new(Vec::new()));
/// let consumer = {
///     let cond = cond.clone();
///     std::thread::spawn(move || {
///         block_on(async {
///             let guard = cond.lock().await;
///             let mut items = cond.wait_for(guard, |items| items.len() == 3).await;
///             std::mem::take(&mut *items)
///         })
///     })
/// };
/// for i in 0..3 {
///     block_on(cond.lock()).push(i);
///     cond.notify(1);
/// }
/// assert_eq!(consumer.join().unwrap(), vec![0, 1, 2]);
/// ```
pub struct Condition<T: ?Sized = ()> {
    waiters: StateMutex<WaitList<()>>,
    mutex: Mutex<T>,
}

impl<T> Condition<T> {
    /// Creates a condition whose lock holds `value`.
    pub fn new(value: T) -> Self {
        Condition {
            waiters: StateMutex::new(WaitList::new()),
            mutex: Mutex::new(value),
        }
    }

    /// Consumes the condition and returns the data.
    pub fn into_inner(self) -> T {
        self.mutex.into_inner()
    }
}

impl<T: ?Sized> Condition<T> {
    /// Waits for the condition's lock; see [`Mutex::lock`].
    pub fn lock(&self) -> MutexLock<'_, T> {
        self.mutex.lock()
    }

    /// Takes the condition's lock if it is free; see [`Mutex::try_lock`].
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.mutex.try_lock()
    }

    /// `true` if the condition's lock is held.
    pub fn locked(&self) -> bool {
        self.mutex.locked()
    }

    /// Releases the lock, waits to be notified, re-acquires the lock and returns its guard.
    ///
    /// As with any condition variable, check the state in a loop (or use
    /// [`wait_for`](Self::wait_for)): a wake-up does not prove the state changed.
    ///
    /// Cancel-safe: a notification handed to a dropped future goes to the next waiter.
    ///
    /// # Panics
    ///
    /// If `guard` does not lock this condition's mutex.
    pub fn wait<'a>(&'a self, guard: MutexGuard<'a, T>) -> ConditionWait<'a, T> {
        assert!(
            std::ptr::addr_eq(MutexGuard::mutex(&guard), &self.mutex),
            "Condition::wait called with a guard of another mutex"
        );
        ConditionWait {
            cond: self,
            phase: WaitPhase::Init(guard),
        }
    }

    /// Waits (as [`wait`](Self::wait) does, repeatedly) until `predicate` returns `true` for the
    /// locked data, and returns the guard. Ready at once if it already holds.
    ///
    /// # Panics
    ///
    /// If `guard` does not lock this condition's mutex.
    pub fn wait_for<'a, F>(
        &'a self,
        guard: MutexGuard<'a, T>,
        predicate: F,
    ) -> ConditionWaitFor<'a, T, F>
    where
        F: FnMut(&mut T) -> bool,
    {
        assert!(
            std::ptr::addr_eq(MutexGuard::mutex(&guard), &self.mutex),
            "Condition::wait_for called with a guard of another mutex"
        );
        ConditionWaitFor {
            cond: self,
            predicate,
            phase: WaitForPhase::Check(guard),
        }
    }

    /// Wakes up to `n` waiting tasks, longest-waiting first, and returns how many it woke.
    ///
    /// Unlike asyncio, the lock need not be held; but to avoid missing a waiter, change the
    /// state the waiters test while holding the lock.
    pub fn notify(&self, n: usize) -> usize {
        let mut wakes = WakeList::new();
        let mut waiters = self.waiters.lock();
        let mut woken = 0;
        while woken < n {
            match waiters.notify_front(()) {
                Some(waker) => wakes.push(waker),
                None => break,
            }
            woken += 1;
        }
        drop(waiters);
        wakes.wake_all();
        woken
    }

    /// Wakes every waiting task and returns how many it woke.
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Condition::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters.lock().len())
            .field("mutex", &&self.mutex)
            .finish()
    }
}

/// The future of [`Condition::wait`]; resolves to the re-acquired guard.
#[must_use = "futures do nothing unless polled"]
pub struct ConditionWait<'a, T: ?Sized> {
    cond: &'a Condition<T>,
    phase: WaitPhase<'a, T>,
}

enum WaitPhase<'a, T: ?Sized> {
    /// Not polled yet; still holding the lock.
    Init(MutexGuard<'a, T>),
    /// Queued on the condition (or notified, not yet polled).
    Waiting(Key),
    /// Notified; waiting for the lock.
    Reacquire(MutexLock<'a, T>),
    Done,
}

impl<'a, T: ?Sized> Future for ConditionWait<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match &mut this.phase {
                WaitPhase::Init(_) => {
                    // Queue first, then unlock (protocol step 1).
                    let key = this.cond.waiters.lock().push_back(cx.waker(), ());
                    // Dropping the guard released by the replace unlocks the mutex.
                    drop(std::mem::replace(&mut this.phase, WaitPhase::Waiting(key)));
                    return Poll::Pending;
                }
                WaitPhase::Waiting(key) => {
                    let mut wakes = WakeList::new();
                    let mut waiters = this.cond.waiters.lock();
                    if !waiters.poll_notified(key, cx.waker(), &mut wakes) {
                        return Poll::Pending;
                    }
                    let next = WaitPhase::Reacquire(this.cond.mutex.lock());
                    if let WaitPhase::Waiting(key) = std::mem::replace(&mut this.phase, next) {
                        let _ = waiters.remove(key, &mut wakes);
                    }
                    drop(waiters);
                    wakes.wake_all();
                }
                WaitPhase::Reacquire(lock) => {
                    let guard = std::task::ready!(Pin::new(lock).poll(cx));
                    this.phase = WaitPhase::Done;
                    return Poll::Ready(guard);
                }
                WaitPhase::Done => panic!("ConditionWait polled after completion"),
            }
        }
    }
}

impl<T: ?Sized> Drop for ConditionWait<'_, T> {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.phase, WaitPhase::Done) {
            WaitPhase::Waiting(key) => {
                let mut wakes = WakeList::new();
                let removed = self.cond.waiters.lock().remove(key, &mut wakes);
                wakes.wake_all();
                if removed == Removed::Notified(()) {
                    self.cond.notify(1);
                }
            }
            WaitPhase::Reacquire(lock) => {
                drop(lock);
                self.cond.notify(1);
            }
            WaitPhase::Init(_) | WaitPhase::Done => {}
        }
    }
}

impl<T: ?Sized> fmt::Debug for ConditionWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.phase {
            WaitPhase::Init(_) => "Init",
            WaitPhase::Waiting(_) => "Waiting",
            WaitPhase::Reacquire(_) => "Reacquire",
            WaitPhase::Done => "Done",
        };
        f.debug_struct("ConditionWait")
            .field("phase", &phase)
            .finish()
    }
}

/// The future of [`Condition::wait_for`]; resolves to the guard once the predicate holds.
#[must_use = "futures do nothing unless polled"]
pub struct ConditionWaitFor<'a, T: ?Sized, F> {
    cond: &'a Condition<T>,
    predicate: F,
    phase: WaitForPhase<'a, T>,
}

enum WaitForPhase<'a, T: ?Sized> {
    /// Holding the lock; test the predicate.
    Check(MutexGuard<'a, T>),
    /// Waiting for a notification and the lock.
    Waiting(ConditionWait<'a, T>),
    Done,
}

// The predicate is never pinned (it is only called through `&mut`), and every other field is
// `Unpin`, so the future may be `Unpin` whatever `F` is.
impl<T: ?Sized, F> Unpin for ConditionWaitFor<'_, T, F> {}

impl<'a, T: ?Sized, F> Future for ConditionWaitFor<'a, T, F>
where
    F: FnMut(&mut T) -> bool,
{
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.phase, WaitForPhase::Done) {
                WaitForPhase::Check(mut guard) => {
                    if (this.predicate)(&mut guard) {
                        return Poll::Ready(guard);
                    }
                    this.phase = WaitForPhase::Waiting(this.cond.wait(guard));
                }
                WaitForPhase::Waiting(mut wait) => match Pin::new(&mut wait).poll(cx) {
                    Poll::Ready(guard) => this.phase = WaitForPhase::Check(guard),
                    Poll::Pending => {
                        this.phase = WaitForPhase::Waiting(wait);
                        return Poll::Pending;
                    }
                },
                WaitForPhase::Done => panic!("ConditionWaitFor polled after completion"),
            }
        }
    }
}

impl<T: ?Sized, F> fmt::Debug for ConditionWaitFor<'_, T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let phase = match self.phase {
            WaitForPhase::Check(_) => "Check",
            WaitForPhase::Waiting(_) => "Waiting",
            WaitForPhase::Done => "Done",
        };
        f.debug_struct("ConditionWaitFor")
            .field("phase", &phase)
            .finish()
    }
}
