//! The life of an op, from the owner ring's side: the shared slot each in-flight op has, and
//! the table that maps a completion's `user_data` back to it.
//!
//! # State diagram
//!
//! ```text
//!                      first poll (on any thread T; the op now belongs to T's ring)
//!   Op::Unsubmitted ─────────────────────────────────────────────┐
//!         │ dropped: nothing to cancel                            │ push SQE, slot = Waiting(waker)
//!         ▼                                                       ▼
//!       (gone)                      poll on any thread    ┌───────────────┐
//!                                  (stolen task) ───────► │   Waiting     │ ◄── waker replaced
//!                                                         └───────────────┘
//!                                    CQE reaped by owner │            │ future dropped (any thread):
//!                                                        ▼            ▼ data moved into the slot,
//!                                               ┌─────────────┐  ┌──────────┐ ASYNC_CANCEL queued
//!                          future dropped:      │  Completed  │  │ Ignored  │ on the owner ring
//!                      data.orphan(result) ◄─── │  (result)   │  │  (data)  │
//!                      (closes a new fd)        └─────────────┘  └──────────┘
//!                                                 │ next poll         │ CQE reaped by owner:
//!                                                 ▼                   ▼ data.orphan(result) on
//!                                       Ready(data.complete(r))     the owner thread; data freed
//! ```
//!
//! `Unsubmitted` and the move to `Ready` are states of the future (`crate::op::Op`); the boxed
//! states are those of the [`OpSlot`] it shares with the owner driver. Every transition of the
//! slot happens under its mutex, so the future (on whatever thread polls or drops it) and the
//! owner (reaping the CQE) never both believe they own the data. No user code runs under that
//! mutex: a waker is cloned before it is stored, and a replaced waker is dropped after the lock
//! is released and the slot is consistent, so a `clone` or `Drop` that panics leaves the op in
//! flight with its data where it was.
//!
//! * while the slot is `Waiting`, the op's data (buffer, fd) lives in the future;
//! * the future moves it into the slot (`Ignored`) only if the CQE has not arrived;
//! * the owner takes it out of `Ignored` only when the CQE has arrived, i.e. when the kernel is
//!   done with the buffer.
//!
//! So the data is freed exactly once, and only after the kernel has finished with it.
//!
//! The loom model `loom_op_slot.rs` runs this slot with the future polling (and replacing its
//! waker), the owner reaping and the future being dropped on three threads, and checks these
//! claims under every interleaving: the data is freed once, after the CQE; no wake-up is lost;
//! every waker handle is dropped once; and no user code runs while a slot's lock is held.
//!
//! # Invariants of the table
//!
//! * `user_data` of an op is `generation << 32 | index`, with bit 63 clear; internal entries
//!   (eventfd read, cancel requests) have bit 63 set, see [`super::ring`].
//! * An index is live from submission until its CQE is reaped; a CQE whose generation does not
//!   match its index is ignored (it cannot happen, but a stale id must not complete a new op).
//! * Shutdown walks the live indices, cancels each, and reaps until none is left, so no slot's
//!   data is freed while the kernel may still write into it.

use std::fmt;
use std::io;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::task::Waker;

use crate::loom::{lock, Mutex, MutexGuard};

/// A completion queue entry, as an op sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Completion {
    /// `cqe.res`: a non-negative result or a negated errno.
    pub(crate) result: i32,
    /// `cqe.flags`.
    pub(crate) flags: u32,
}

impl Completion {
    /// The result as an `io::Result`.
    pub(crate) fn into_result(self) -> io::Result<u32> {
        if self.result < 0 {
            Err(io::Error::from_raw_os_error(-self.result))
        } else {
            Ok(self.result as u32)
        }
    }
}

/// The data of an op whose future was dropped while it was in flight.
///
/// It is kept in the slot until the CQE arrives, then completed on the owner thread.
pub(crate) trait Orphan: Send {
    /// The CQE arrived: release whatever the op produced (close a new descriptor) and drop.
    fn complete(self: Box<Self>, completion: Completion);
}

/// The states of an [`OpSlot`]; see the module docs.
enum Lifecycle {
    /// In flight; the waker of the last poll.
    Waiting(Waker),
    /// The CQE arrived and nobody has taken it yet.
    Completed(Completion),
    /// The future was dropped in flight; its data waits here for the CQE.
    Ignored(Box<dyn Orphan>),
    /// The CQE has been consumed (by the future, or by the owner for an ignored op).
    Finished,
}

/// The slot an in-flight op shares between its future and its owner driver.
pub(crate) struct OpSlot {
    state: Mutex<Lifecycle>,
}

/// The slot's lock, held. Under the loom model it also marks the thread as holding an op
/// slot's lock, so that the model's wakers and op data can check that they never run under one.
struct Locked<'a> {
    // Declared first, so dropped first: the mark is cleared only once the lock is released.
    guard: MutexGuard<'a, Lifecycle>,
    #[cfg(all(test, loom))]
    _held: super::loom_op_slot::SlotLockHeld,
}

impl Deref for Locked<'_> {
    type Target = Lifecycle;

    fn deref(&self) -> &Lifecycle {
        &self.guard
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Lifecycle {
        &mut self.guard
    }
}

/// What the future found when it polled its slot.
#[must_use]
pub(crate) enum Poll {
    /// The CQE is here.
    Ready(Completion),
    /// Still in flight; the waker is registered.
    Pending,
}

/// What the future must do after dropping in flight.
#[must_use]
pub(crate) enum Dropped<D> {
    /// The CQE had arrived: the data is handed back, to be orphaned by the caller.
    Completed(D, Completion),
    /// The data now lives in the slot; the op must be cancelled on its ring. Then the
    /// waker the slot held is to be dropped: last, since its `Drop` is user code and may
    /// panic.
    NeedsCancel(Option<Waker>),
}

/// What the owner must do with a reaped CQE.
#[must_use]
pub(crate) enum Reaped {
    /// Wake this waker (after releasing the driver).
    Wake(Waker),
    /// Complete this orphan (after releasing the driver).
    Orphan(Box<dyn Orphan>, Completion),
    /// Nothing.
    Nothing,
}

impl OpSlot {
    /// A slot for an op being submitted by a future polled with `waker`.
    pub(crate) fn new(waker: Waker) -> OpSlot {
        OpSlot {
            state: Mutex::new(Lifecycle::Waiting(waker)),
        }
    }

    fn lock(&self) -> Locked<'_> {
        Locked {
            guard: lock(&self.state),
            #[cfg(all(test, loom))]
            _held: super::loom_op_slot::SlotLockHeld::mark(),
        }
    }

    /// The future polls: take the completion, or register the waker.
    ///
    /// User code (the waker's `clone` and the old waker's `Drop`) runs outside the lock, and
    /// after the slot is consistent: if it panics, the op is still in flight and the future
    /// still owns its data.
    pub(crate) fn poll(&self, waker: &Waker) -> Poll {
        {
            let mut state = self.lock();
            match &mut *state {
                Lifecycle::Waiting(old) if old.will_wake(waker) => return Poll::Pending,
                Lifecycle::Waiting(_) => {}
                Lifecycle::Completed(c) => {
                    let c = *c;
                    *state = Lifecycle::Finished;
                    return Poll::Ready(c);
                }
                // A future never polls after it was dropped or after it took its completion.
                Lifecycle::Ignored(_) | Lifecycle::Finished => return Poll::Pending,
            }
        }
        let new = waker.clone();
        let mut state = self.lock();
        match &mut *state {
            Lifecycle::Waiting(old) => {
                let old = std::mem::replace(old, new);
                drop(state);
                drop(old);
                Poll::Pending
            }
            Lifecycle::Completed(c) => {
                // The CQE arrived while the new waker was being cloned.
                let c = *c;
                *state = Lifecycle::Finished;
                drop(state);
                drop(new);
                Poll::Ready(c)
            }
            Lifecycle::Ignored(_) | Lifecycle::Finished => {
                drop(state);
                drop(new);
                Poll::Pending
            }
        }
    }

    /// The future is dropped in flight: give the data to the slot unless the CQE is here.
    ///
    /// The waker the slot held is handed back in [`Dropped::NeedsCancel`], to be dropped
    /// outside the lock, once the cancel is queued.
    pub(crate) fn transition_to_ignored<D: Orphan + 'static>(&self, data: D) -> Dropped<D> {
        let mut state = self.lock();
        match &*state {
            Lifecycle::Completed(c) => {
                let c = *c;
                *state = Lifecycle::Finished;
                Dropped::Completed(data, c)
            }
            _ => {
                let old = std::mem::replace(&mut *state, Lifecycle::Ignored(Box::new(data)));
                drop(state);
                match old {
                    Lifecycle::Waiting(waker) => Dropped::NeedsCancel(Some(waker)),
                    _ => Dropped::NeedsCancel(None),
                }
            }
        }
    }

    /// The owner reaped this op's CQE.
    pub(crate) fn transition_to_completed(&self, completion: Completion) -> Reaped {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, Lifecycle::Finished) {
            Lifecycle::Waiting(waker) => {
                *state = Lifecycle::Completed(completion);
                Reaped::Wake(waker)
            }
            Lifecycle::Ignored(data) => Reaped::Orphan(data, completion),
            Lifecycle::Completed(c) => {
                // A second CQE for one op (a multishot op's last one): keep the first.
                *state = Lifecycle::Completed(c);
                Reaped::Nothing
            }
            Lifecycle::Finished => Reaped::Nothing,
        }
    }
}

impl fmt::Debug for OpSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.lock() {
            Lifecycle::Waiting(_) => "Waiting",
            Lifecycle::Completed(_) => "Completed",
            Lifecycle::Ignored(_) => "Ignored",
            Lifecycle::Finished => "Finished",
        };
        f.debug_struct("OpSlot").field("state", &state).finish()
    }
}

/// Bit 63 of `user_data` marks the driver's internal entries.
pub(crate) const INTERNAL: u64 = 1 << 63;
const GENERATION_MASK: u32 = (1 << 31) - 1;

/// The owner's table of in-flight ops, indexed by `user_data`.
#[derive(Debug, Default)]
pub(crate) struct OpTable {
    entries: Vec<Entry>,
    free: Vec<u32>,
    live: usize,
}

#[derive(Debug)]
struct Entry {
    generation: u32,
    slot: Option<Arc<OpSlot>>,
}

impl OpTable {
    /// Stores `slot` and returns the `user_data` of its SQE.
    pub(crate) fn insert(&mut self, slot: Arc<OpSlot>) -> u64 {
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.entries.push(Entry {
                    generation: 0,
                    slot: None,
                });
                (self.entries.len() - 1) as u32
            }
        };
        let entry = &mut self.entries[index as usize];
        entry.generation = entry.generation.wrapping_add(1) & GENERATION_MASK;
        entry.slot = Some(slot);
        self.live += 1;
        (u64::from(entry.generation) << 32) | u64::from(index)
    }

    /// Removes the op with `user_data` (its CQE was reaped, or its SQE could not be pushed).
    pub(crate) fn remove(&mut self, user_data: u64) -> Option<Arc<OpSlot>> {
        let index = (user_data & u64::from(u32::MAX)) as u32;
        let generation = (user_data >> 32) as u32;
        let entry = self.entries.get_mut(index as usize)?;
        if entry.generation != generation {
            return None;
        }
        let slot = entry.slot.take()?;
        self.free.push(index);
        self.live -= 1;
        Some(slot)
    }

    /// Number of ops in flight.
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// The `user_data` of every op in flight.
    pub(crate) fn live_user_data(&self) -> Vec<u64> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.slot.is_some())
            .map(|(i, e)| (u64::from(e.generation) << 32) | i as u64)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn user_data_round_trips_and_stale_ids_miss() {
        let mut table = OpTable::default();
        let a = table.insert(Arc::new(OpSlot::new(Waker::noop().clone())));
        assert_eq!(a & INTERNAL, 0);
        assert!(table.remove(a).is_some());
        let b = table.insert(Arc::new(OpSlot::new(Waker::noop().clone())));
        assert_eq!(a & 0xffff_ffff, b & 0xffff_ffff, "index reused");
        assert_ne!(a, b, "generation differs");
        assert!(table.remove(a).is_none(), "stale id");
        assert_eq!(table.live_user_data(), vec![b]);
        assert!(table.remove(b).is_some());
        assert_eq!(table.len(), 0);
    }
}
