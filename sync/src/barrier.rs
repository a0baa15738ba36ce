//! [`Barrier`]: `asyncio.Barrier` without abort/reset: `parties` tasks meet, then all go on.
//!
//! # State
//!
//! `parties` is fixed at creation. One lock guards `State { arrived, waiters }`.
//!
//! * `arrived`: tasks of the current round waiting at the barrier (`< parties`).
//! * `waiters`: their [`WaitList`] slots, in arrival order.
//!
//! # Protocol
//!
//! 1. A task arriving when `arrived + 1 < parties` increments `arrived` and queues.
//! 2. The task that makes `arrived + 1 == parties` is the round's *leader*: it resets
//!    `arrived` to 0 and notifies every queued waiter, all in one critical section, then
//!    completes without waiting. The barrier is at once ready for the next round: waiters of
//!    the old round are `Notified` (unlinked), so new arrivals cannot be confused with them.
//! 3. A notified waiter completes on its next poll, as a non-leader.
//!
//! # Cancellation
//!
//! A waiter dropped while still queued withdraws: its slot is removed and `arrived` decremented
//! (as asyncio does when a waiting task is cancelled), so the round still needs `parties` live
//! tasks. A waiter dropped after being notified changes nothing: its round is over.
//!
//! Wakers are woken only after the state lock is released.

use crate::loom::Mutex;
use crate::wait_list::{Key, Removed, WaitList};
use crate::wake_list::WakeList;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A reusable meeting point for a fixed number of tasks, like `asyncio.Barrier`.
///
/// Each round, the first `parties - 1` callers of [`wait`](Self::wait) park; the `parties`-th
/// releases them all and is told it is the leader.
///
/// # Examples
///
/// ```
/// use ringloop_sync::Barrier;
/// use std::sync::Arc;
/// # use pollster::block_on;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let threads: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         std::thread::spawn(move || block_on(barrier.wait()).is_leader())
///     })
///     .collect();
/// let leaders = threads
///     .into_iter()
///     .map(|t| t.join().unwrap())
///     .filter(|&leader| leader)
///     .count();
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
}

struct State {
    arrived: usize,
    waiters: WaitList<()>,
}

impl Barrier {
    /// Creates a barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (asyncio raises `ValueError`).
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "a Barrier needs at least one party");
        Barrier {
            parties,
            state: Mutex::new(State {
                arrived: 0,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Waits until `parties` tasks are waiting, then releases them all.
    ///
    /// Cancel-safe: a task dropped while waiting no longer counts towards the round.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            phase: Phase::Init,
        }
    }

    /// The number of tasks each round needs.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of tasks waiting in the current round.
    pub fn n_waiting(&self) -> usize {
        self.state.lock().arrived
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("arrived", &state.arrived)
            .finish()
    }
}

/// What [`Barrier::wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    leader: bool,
}

impl BarrierWaitResult {
    /// `true` for exactly one task per round: the one whose arrival released the others.
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

/// The future of [`Barrier::wait`].
#[must_use = "futures do nothing unless polled"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    phase: Phase,
}

#[derive(Debug)]
enum Phase {
    Init,
    Waiting(Key),
    Done,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        let mut wakes = WakeList::new();
        let mut state = this.barrier.state.lock();
        match &this.phase {
            Phase::Init => {
                if state.arrived + 1 == this.barrier.parties {
                    state.arrived = 0;
                    state.waiters.notify_all((), &mut wakes);
                    this.phase = Phase::Done;
                    drop(state);
                    wakes.wake_all();
                    return Poll::Ready(BarrierWaitResult { leader: true });
                }
                state.arrived += 1;
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
                Poll::Ready(BarrierWaitResult { leader: false })
            }
            Phase::Done => panic!("BarrierWait polled after completion"),
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Phase::Waiting(key) = std::mem::replace(&mut self.phase, Phase::Done) {
            let mut wakes = WakeList::new();
            let mut state = self.barrier.state.lock();
            if let Removed::Queued(()) = state.waiters.remove(key, &mut wakes) {
                state.arrived -= 1;
            }
            drop(state);
            wakes.wake_all();
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("phase", &self.phase)
            .finish()
    }
}
