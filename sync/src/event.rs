//! [`Event`]: `asyncio.Event`, a flag that tasks can wait to be set.
//!
//! # State
//!
//! One lock guards `State { set, waiters }`; `waiters` is a [`WaitList`] of tasks parked in
//! [`Event::wait`].
//!
//! # Invariants and protocol
//!
//! 1. While `set` is true no waiter is queued: `set()` notifies every queued waiter in the same
//!    critical section that raises the flag, and a wait that finds the flag raised completes
//!    without queueing.
//! 2. A notified waiter completes on its next poll even if the event was cleared in the
//!    meantime (asyncio wakes the waiters' futures when `set()` is called; a later `clear()`
//!    does not take that back).
//! 3. Dropping a waiter removes its slot. A notification is not a resource here (every waiter
//!    gets one), so nothing has to be passed on.
//!
//! Wakers are woken only after the state lock is released.

use crate::loom::Mutex;
use crate::wait_list::{Key, WaitList};
use crate::wake_list::WakeList;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A settable flag that tasks can wait on, like `asyncio.Event`.
///
/// # Examples
///
/// ```
/// use ringloop_sync::Event;
/// use std::sync::Arc;
/// # use pollster::block_on;
///
/// let ready = Arc::new(Event::new());
/// let waiter = {
///     let ready = ready.clone();
///     std::thread::spawn(move || block_on(ready.wait()))
/// };
/// ready.set();
/// waiter.join().unwrap();
/// assert!(ready.is_set());
/// ready.clear();
/// assert!(!ready.is_set());
/// ```
pub struct Event {
    state: Mutex<State>,
}

struct State {
    set: bool,
    waiters: WaitList<()>,
}

impl Event {
    /// Creates an event that is not set.
    pub fn new() -> Self {
        Event {
            state: Mutex::new(State {
                set: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Sets the flag and wakes every task waiting for it. Setting a set event does nothing.
    pub fn set(&self) {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if !state.set {
            state.set = true;
            state.waiters.notify_all((), &mut wakes);
        }
        drop(state);
        wakes.wake_all();
    }

    /// Lowers the flag: later [`wait`](Self::wait)s block until the next [`set`](Self::set).
    /// Waiters already woken by a `set` still complete.
    pub fn clear(&self) {
        self.state.lock().set = false;
    }

    /// `true` if the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.lock().set
    }

    /// Waits until the flag is set; ready at once if it already is.
    ///
    /// Cancel-safe (dropping the future has no effect on other waiters).
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            phase: Phase::Init,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// The future of [`Event::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct EventWait<'a> {
    event: &'a Event,
    phase: Phase,
}

#[derive(Debug)]
enum Phase {
    Init,
    Waiting(Key),
    Done,
}

impl Future for EventWait<'_> {
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut wakes = WakeList::new();
        let mut state = this.event.state.lock();
        match &this.phase {
            Phase::Init => {
                if state.set {
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
                this.phase = Phase::Waiting(state.waiters.push_back(cx.waker(), ()));
                Poll::Pending
            }
            Phase::Waiting(key) => {
                if !state.waiters.poll_notified(key, cx.waker(), &mut wakes) {
                    return Poll::Pending;
                }
                if let Phase::Waiting(key) = std::mem::replace(&mut this.phase, Phase::Done) {
                    let _ = state.waiters.remove(key, &mut wakes);
                }
                Poll::Ready(())
            }
            Phase::Done => panic!("EventWait polled after completion"),
        }
    }
}

impl Drop for EventWait<'_> {
    #[inline]
    fn drop(&mut self) {
        // A wait that completed (the usual case) has nothing to undo: keep that to a compare.
        if matches!(self.phase, Phase::Waiting(_)) {
            self.leave_queue();
        }
    }
}

impl EventWait<'_> {
    /// Takes a wait dropped before it was notified off the queue.
    #[cold]
    fn leave_queue(&mut self) {
        if let Phase::Waiting(key) = std::mem::replace(&mut self.phase, Phase::Done) {
            let mut wakes = WakeList::new();
            let _ = self.event.state.lock().waiters.remove(key, &mut wakes);
            wakes.wake_all();
        }
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("phase", &self.phase)
            .finish()
    }
}
