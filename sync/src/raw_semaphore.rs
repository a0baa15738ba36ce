//! The fair, cancel-safe permit counter behind [`Semaphore`](crate::Semaphore),
//! [`BoundedSemaphore`](crate::BoundedSemaphore), [`Mutex`](crate::Mutex) and
//! [`Lock`](crate::Lock).
//!
//! # State
//!
//! One lock guards `State { permits, waiters }`:
//!
//! * `permits`: permits nobody holds and nobody has been handed.
//! * `waiters`: a FIFO [`WaitList`] whose per-waiter value is the number of permits the waiter
//!   still needs. A `Notified` waiter has been *granted* that many permits: they were taken out
//!   of `permits` when it was notified and belong to its future.
//!
//! # Invariants
//!
//! 1. Fairness: if a waiter is queued, `permits < waiters.front()` (the head cannot be
//!    satisfied). Every change that could break this (a release, a head leaving) runs
//!    [`State::grant`], which serves waiters from the head while they fit. A newcomer
//!    (`try_acquire` or the first poll of an acquire) may take permits only when no waiter is
//!    queued, so it never barges past one; a big request at the head blocks smaller ones behind
//!    it until it is served (no starvation of `acquire_many`).
//! 2. Conservation: `permits` + permits granted to notified waiters + permits held by
//!    guards + `forgotten` is constant, except that an unbounded `release` adds permits.
//!    A bounded release may only bring back `forgotten` ones, so the total never exceeds the
//!    initial count even while guards are out.
//!
//! # Protocol of one acquire (see [`RawSemaphore::poll_acquire`])
//!
//! 1. First poll: if nobody is queued and enough permits are free, take them: done.
//!    Otherwise queue with `needed = n`.
//! 2. Later polls: if notified, the permits are ours: free the slot, done. Otherwise refresh the
//!    waker and stay pending.
//! 3. Drop before completion ([`RawSemaphore::cancel_acquire`]): free the slot. If it had been
//!    notified, its granted permits go back to `permits`; in both cases `grant` runs again, so
//!    the permits (or the head position) pass to the next waiters.
//!
//! Wakers are woken only after the state lock is released.

use crate::loom::Mutex;
use crate::wait_list::{Key, Removed, WaitList};
use crate::wake_list::WakeList;
use std::fmt;
use std::task::{Context, Poll};

/// A FIFO permit counter; see the [module docs](self).
pub(crate) struct RawSemaphore {
    state: Mutex<State>,
}

struct State {
    permits: usize,
    /// Permits taken out of circulation by `forget` and not given back since; only a
    /// [`BoundedSemaphore`](crate::BoundedSemaphore) cares (it may release at most these).
    forgotten: usize,
    waiters: WaitList<usize>,
}

/// The progress of one acquire; lives inside an acquire future.
#[derive(Debug)]
pub(crate) struct AcquireState {
    needed: usize,
    phase: Phase,
}

#[derive(Debug)]
enum Phase {
    /// Not polled yet.
    Init,
    /// Queued or notified; the key names our slot.
    Waiting(Key),
    /// The permits were handed out by `poll_acquire`.
    Done,
}

impl AcquireState {
    /// The state of an acquire of `needed` permits that has not been polled yet.
    pub(crate) const fn new(needed: usize) -> Self {
        AcquireState {
            needed,
            phase: Phase::Init,
        }
    }

    /// How many permits this acquire asks for.
    pub(crate) fn needed(&self) -> usize {
        self.needed
    }
}

impl State {
    /// Serves queued waiters from the head while the free permits cover them (invariant 1).
    fn grant(&mut self, wakes: &mut WakeList) {
        while let Some(needed) = self.waiters.front() {
            if needed > self.permits {
                break;
            }
            self.permits -= needed;
            if let Some(waker) = self.waiters.notify_front(needed) {
                wakes.push(waker);
            }
        }
    }

    fn add_permits(&mut self, n: usize) {
        self.permits = self
            .permits
            .checked_add(n)
            .expect("semaphore permit count overflowed usize");
    }
}

impl RawSemaphore {
    /// A semaphore holding `permits` free permits.
    pub(crate) fn new(permits: usize) -> Self {
        RawSemaphore {
            state: Mutex::new(State {
                permits,
                forgotten: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Free permits right now.
    pub(crate) fn available_permits(&self) -> usize {
        self.state.lock().permits
    }

    /// `true` if an acquire of one permit would have to wait.
    pub(crate) fn locked(&self) -> bool {
        let state = self.state.lock();
        state.permits == 0 || !state.waiters.is_empty()
    }

    /// Takes `n` permits if that needs no waiting and no waiter is queued.
    pub(crate) fn try_acquire(&self, n: usize) -> bool {
        let mut state = self.state.lock();
        if state.waiters.is_empty() && state.permits >= n {
            state.permits -= n;
            true
        } else {
            false
        }
    }

    /// Returns `n` permits and serves waiters.
    ///
    /// # Panics
    ///
    /// If the number of free permits would overflow `usize`.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        state.add_permits(n);
        state.grant(&mut wakes);
        drop(state);
        wakes.wake_all();
    }

    /// Records that a guard holding `n` permits was forgotten: they left circulation.
    pub(crate) fn forget(&self, n: usize) {
        if n > 0 {
            let mut state = self.state.lock();
            state.forgotten = state.forgotten.saturating_add(n);
        }
    }

    /// Returns `n` previously forgotten permits and serves waiters; `false`, changing nothing,
    /// if fewer than `n` were forgotten (releasing them would exceed the initial count).
    pub(crate) fn release_forgotten(&self, n: usize) -> bool {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if n > state.forgotten {
            return false;
        }
        state.forgotten -= n;
        state.add_permits(n);
        state.grant(&mut wakes);
        drop(state);
        wakes.wake_all();
        true
    }

    /// Drives an acquire; `Ready` once `acquire.needed()` permits belong to the caller.
    ///
    /// # Panics
    ///
    /// If polled again after it returned `Ready`.
    pub(crate) fn poll_acquire(
        &self,
        acquire: &mut AcquireState,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        match &acquire.phase {
            Phase::Init => {
                if acquire.needed == 0
                    || (state.waiters.is_empty() && state.permits >= acquire.needed)
                {
                    state.permits -= acquire.needed;
                    acquire.phase = Phase::Done;
                    return Poll::Ready(());
                }
                let key = state.waiters.push_back(cx.waker(), acquire.needed);
                acquire.phase = Phase::Waiting(key);
                Poll::Pending
            }
            Phase::Waiting(key) => {
                if !state.waiters.poll_notified(key, cx.waker(), &mut wakes) {
                    return Poll::Pending;
                }
                let Phase::Waiting(key) = std::mem::replace(&mut acquire.phase, Phase::Done) else {
                    unreachable!()
                };
                let removed = state.waiters.remove(key, &mut wakes);
                debug_assert_eq!(removed, Removed::Notified(acquire.needed));
                Poll::Ready(())
            }
            Phase::Done => panic!("acquire future polled after completion"),
        }
    }

    /// Abandons an acquire that may be queued or granted; a no-op once it completed or if it was
    /// never polled. Granted permits are returned and passed on.
    pub(crate) fn cancel_acquire(&self, acquire: &mut AcquireState) {
        let Phase::Waiting(key) = std::mem::replace(&mut acquire.phase, Phase::Done) else {
            return;
        };
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if let Removed::Notified(granted) = state.waiters.remove(key, &mut wakes) {
            state.add_permits(granted);
        }
        // Whether we were granted or were the head, the next waiters may fit now.
        state.grant(&mut wakes);
        drop(state);
        wakes.wake_all();
    }
}

impl fmt::Debug for RawSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("RawSemaphore")
            .field("permits", &state.permits)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}
