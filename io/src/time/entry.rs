//! The state one timer shares between its future (polled and dropped on any thread) and the
//! wheel of the driver it was registered on (touched only by that driver's thread).
//!
//! # States
//!
//! ```text
//!   Pending(waker) ──fire (owner)──────► Fired
//!        │   ▲ poll (any thread) replaces the waker
//!        │
//!        ├──cancel (future dropped, any thread)──► Cancelled   (wheel sweeps it later)
//!        └──shutdown (owner driver shut down)────► Shutdown    (future returns an error)
//! ```
//!
//! All transitions happen under the entry's mutex, and no user code runs under it (a waker is
//! cloned before it is stored and dropped after it is taken out). The owner only fires an entry that is
//! `Pending`; a future that is dropped only counts a cancellation if it moved the entry out of
//! `Pending` itself. Cancelling never touches the wheel and never wakes the owner: the entry
//! stays in its wheel slot until the owner reaches that slot or sweeps the wheel.
//!
//! Memory: one `Arc` of 48 bytes per timer, plus a 16-byte `(deadline, Arc)` in the wheel.

use std::fmt;
use std::task::Waker;

use crate::loom::{lock, Mutex};

enum State {
    Pending(Option<Waker>),
    Fired,
    Cancelled,
    Shutdown,
}

/// A timer's shared state; see the module docs.
pub(crate) struct TimerEntry {
    state: Mutex<State>,
}

/// What a poll of the timer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum TimerPoll {
    /// The deadline passed and the owner fired the timer.
    Fired,
    /// Not yet; the waker is registered.
    Pending,
    /// The owner driver shut down before the deadline.
    Shutdown,
}

impl TimerEntry {
    /// A pending entry, woken through `waker` when it fires (the sleep's first poll gives it
    /// one, cloned before the driver is locked: a waker's `clone` is user code).
    pub(crate) fn new(waker: Option<Waker>) -> TimerEntry {
        TimerEntry {
            state: Mutex::new(State::Pending(waker)),
        }
    }

    /// Any thread: register `waker` or report the outcome.
    ///
    /// The waker is cloned, and the one it replaces dropped, outside the lock: both are user
    /// code.
    pub(crate) fn poll(&self, waker: &Waker) -> TimerPoll {
        {
            let state = lock(&self.state);
            match &*state {
                State::Pending(Some(old)) if old.will_wake(waker) => return TimerPoll::Pending,
                State::Pending(_) => {}
                State::Fired => return TimerPoll::Fired,
                State::Shutdown => return TimerPoll::Shutdown,
                State::Cancelled => return TimerPoll::Pending,
            }
        }
        let new = waker.clone();
        let mut state = lock(&self.state);
        let (outcome, unused) = match &mut *state {
            State::Pending(slot) => (TimerPoll::Pending, slot.replace(new)),
            State::Fired => (TimerPoll::Fired, Some(new)),
            State::Shutdown => (TimerPoll::Shutdown, Some(new)),
            State::Cancelled => (TimerPoll::Pending, Some(new)),
        };
        drop(state);
        drop(unused);
        outcome
    }

    /// Any thread: the future is dropped. `true` if this moved the entry out of `Pending`
    /// (so the owner's wheel now holds one more dead entry). The registered waker is dropped
    /// after the lock is released.
    pub(crate) fn transition_to_cancelled(&self) -> bool {
        let mut state = lock(&self.state);
        if let State::Pending(_) = &*state {
            let old = std::mem::replace(&mut *state, State::Cancelled);
            drop(state);
            drop(old);
            true
        } else {
            false
        }
    }

    /// Owner: the deadline passed. Returns the waker to wake once the driver is released.
    pub(crate) fn transition_to_fired(&self) -> Option<Waker> {
        self.finish(State::Fired)
    }

    /// Owner: the driver shuts down. Returns the waker to wake.
    pub(crate) fn transition_to_shutdown(&self) -> Option<Waker> {
        self.finish(State::Shutdown)
    }

    fn finish(&self, to: State) -> Option<Waker> {
        let mut state = lock(&self.state);
        match std::mem::replace(&mut *state, State::Cancelled) {
            State::Pending(waker) => {
                *state = to;
                waker
            }
            other => {
                *state = other;
                None
            }
        }
    }

    /// Owner: whether the entry was cancelled (the wheel may drop it).
    pub(crate) fn is_cancelled(&self) -> bool {
        matches!(&*lock(&self.state), State::Cancelled)
    }
}

impl fmt::Debug for TimerEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*lock(&self.state) {
            State::Pending(_) => "Pending",
            State::Fired => "Fired",
            State::Cancelled => "Cancelled",
            State::Shutdown => "Shutdown",
        };
        f.debug_struct("TimerEntry").field("state", &state).finish()
    }
}
