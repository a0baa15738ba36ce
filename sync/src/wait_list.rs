//! A FIFO of parked waiters, stored in a slab owned by the primitive's state lock.
//!
//! Every primitive in this crate is a `Mutex<State>` whose state holds one or more
//! `WaitList`s. A waiting future owns a [`Key`] naming its slot; the slot holds the waiter's
//! [`Waker`] and a small per-waiter value `D` (the permits a semaphore waiter needs, whether a
//! queue getter holds a reserved item, ...).
//!
//! # States of a slot
//!
//! ```text
//!             push_back                notify_front / notify_all
//!   Free ───────────────────▶ Queued ─────────────────────────────▶ Notified
//!    ▲                          │                                      │
//!    └──────── remove ──────────┴────────────── remove ───────────────┘
//! ```
//!
//! * `Free`: on the free list; no future names it.
//! * `Queued`: linked into the FIFO (`head` → ... → `tail`), in arrival order. Its waker is the
//!   one given at the future's latest poll.
//! * `Notified`: unlinked from the FIFO but still owned by its future. Whatever the notifier
//!   handed over (permits, a reserved item, a barrier release) is recorded in the primitive's
//!   state and in `data`; the future collects it on its next poll, or gives it back (passes
//!   it on) when it is dropped instead.
//!
//! # Invariants
//!
//! 1. A slot is freed only by [`WaitList::remove`], which consumes the `Key`; a notifier never
//!    frees a slot. So a `Key` names the same waiter for as long as it exists (no ABA), and a
//!    future always learns whether it was notified.
//! 2. `queued` counts the `Queued` slots and `occupied` the `Queued` + `Notified` ones.
//! 3. Wakers are handed to the caller (`notify_*`) so it can wake them after releasing the
//!    state lock (see [`WakeList`]), and so is every waker the list lets go of otherwise (one
//!    replaced at a re-poll, or a queued waiter's when it is removed), to be dropped after the
//!    unlock: no waker's code runs under the lock.
//!
//! The slab grows to the largest number of simultaneous waiters and is reused, so a wait
//! allocates only while the high-water mark rises; once every slot is free again and the slab is
//! large, it is released. There is no `unsafe` here: links are indices, not pointers.

use crate::wake_list::WakeList;
use std::fmt;
use std::task::Waker;

/// "No slot" in the index links.
const NIL: usize = usize::MAX;

/// When every slot is free, a slab with more slots than this is freed instead of kept.
const SHRINK_ABOVE: usize = 64;

/// A FIFO of waiters; see the [module docs](self).
pub(crate) struct WaitList<D> {
    slots: Vec<Slot<D>>,
    /// First `Queued` slot (oldest waiter), or `NIL`.
    head: usize,
    /// Last `Queued` slot (newest waiter), or `NIL`.
    tail: usize,
    /// First `Free` slot, or `NIL`.
    free: usize,
    /// Number of `Queued` slots.
    queued: usize,
    /// Number of `Queued` + `Notified` slots.
    occupied: usize,
}

struct Slot<D> {
    link: Link,
    waker: Option<Waker>,
    data: D,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Free { next: usize },
    Queued { prev: usize, next: usize },
    Notified,
}

/// The handle a waiting future holds on its slot. Not `Clone`: [`WaitList::remove`] consumes it.
#[must_use = "a Key must be given back with WaitList::remove"]
#[derive(Debug)]
pub(crate) struct Key(usize);

/// What [`WaitList::remove`] found in the slot it freed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removed<D> {
    /// The waiter was still queued: nothing was handed to it.
    Queued(D),
    /// The waiter had been notified: the caller must collect or pass on what it was handed.
    Notified(D),
}

impl<D: Copy> WaitList<D> {
    /// An empty list; does not allocate.
    pub(crate) const fn new() -> Self {
        WaitList {
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
            free: NIL,
            queued: 0,
            occupied: 0,
        }
    }

    /// `true` if no waiter is queued (notified waiters are not counted).
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// How many waiters are queued (notified waiters are not counted).
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    /// The data of the oldest queued waiter.
    pub(crate) fn front(&self) -> Option<D> {
        (self.head != NIL).then(|| self.slots[self.head].data)
    }

    /// Queues a new waiter at the back.
    pub(crate) fn push_back(&mut self, waker: &Waker, data: D) -> Key {
        let slot = Slot {
            link: Link::Queued {
                prev: self.tail,
                next: NIL,
            },
            waker: Some(waker.clone()),
            data,
        };
        let idx = if self.free == NIL {
            self.slots.push(slot);
            self.slots.len() - 1
        } else {
            let idx = self.free;
            let Link::Free { next } = self.slots[idx].link else {
                unreachable!("free list holds a slot in use");
            };
            self.free = next;
            self.slots[idx] = slot;
            idx
        };
        if self.tail == NIL {
            self.head = idx;
        } else {
            self.set_next(self.tail, idx);
        }
        self.tail = idx;
        self.queued += 1;
        self.occupied += 1;
        Key(idx)
    }

    /// Notifies the oldest queued waiter: unlinks it, marks it `Notified`, stores `data` in it
    /// and returns its waker for the caller to wake after unlocking. `None` if none is queued.
    pub(crate) fn notify_front(&mut self, data: D) -> Option<Waker> {
        let idx = self.head;
        if idx == NIL {
            return None;
        }
        self.unlink(idx);
        let slot = &mut self.slots[idx];
        slot.link = Link::Notified;
        slot.data = data;
        slot.waker.take()
    }

    /// Notifies every queued waiter, in order, moving their wakers into `wakes`.
    pub(crate) fn notify_all(&mut self, data: D, wakes: &mut WakeList) {
        while let Some(waker) = self.notify_front(data) {
            wakes.push(waker);
        }
    }

    /// `true` if the waiter has been notified; otherwise stores `waker` (if it would not wake
    /// the same task as the stored one) and returns `false`. The waker it replaces goes to
    /// `wakes`, to be dropped after the unlock.
    #[inline]
    pub(crate) fn poll_notified(&mut self, key: &Key, waker: &Waker, wakes: &mut WakeList) -> bool {
        let slot = &mut self.slots[key.0];
        match slot.link {
            Link::Notified => true,
            Link::Queued { .. } => {
                match &slot.waker {
                    Some(old) if old.will_wake(waker) => {}
                    _ => {
                        if let Some(old) = slot.waker.replace(waker.clone()) {
                            wakes.drop_later(old);
                        }
                    }
                }
                false
            }
            Link::Free { .. } => unreachable!("a Key names a free slot"),
        }
    }

    /// Frees the waiter's slot, unlinking it if it is still queued, and reports its state. A
    /// queued waiter's waker goes to `wakes`, to be dropped after the unlock.
    pub(crate) fn remove(&mut self, key: Key, wakes: &mut WakeList) -> Removed<D> {
        let idx = key.0;
        if let Some(waker) = self.slots[idx].waker.take() {
            wakes.drop_later(waker);
        }
        let link = self.slots[idx].link;
        let data = self.slots[idx].data;
        let removed = match link {
            Link::Queued { .. } => {
                self.unlink(idx);
                Removed::Queued(data)
            }
            Link::Notified => Removed::Notified(data),
            Link::Free { .. } => unreachable!("a Key names a free slot"),
        };
        self.occupied -= 1;
        if self.occupied == 0 && self.slots.len() > SHRINK_ABOVE {
            // Every slot is free and no Key exists: drop the whole slab.
            self.slots = Vec::new();
            self.free = NIL;
        } else {
            let slot = &mut self.slots[idx];
            slot.link = Link::Free { next: self.free };
            self.free = idx;
        }
        removed
    }

    /// Unlinks a `Queued` slot from the FIFO (its `link` is left for the caller to set).
    fn unlink(&mut self, idx: usize) {
        let Link::Queued { prev, next } = self.slots[idx].link else {
            unreachable!("unlinking a slot that is not queued");
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.set_next(prev, next);
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.set_prev(next, prev);
        }
        self.queued -= 1;
    }

    fn set_next(&mut self, idx: usize, to: usize) {
        match &mut self.slots[idx].link {
            Link::Queued { next, .. } => *next = to,
            _ => unreachable!("linking a slot that is not queued"),
        }
    }

    fn set_prev(&mut self, idx: usize, to: usize) {
        match &mut self.slots[idx].link {
            Link::Queued { prev, .. } => *prev = to,
            _ => unreachable!("linking a slot that is not queued"),
        }
    }
}

impl<D> fmt::Debug for WaitList<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("queued", &self.queued)
            .field("occupied", &self.occupied)
            .field("slots", &self.slots.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::Waker;

    fn waker() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn fifo_order_and_middle_removal() {
        let mut list = WaitList::new();
        let w = waker();
        let a = list.push_back(&w, 1);
        let b = list.push_back(&w, 2);
        let c = list.push_back(&w, 3);
        assert_eq!(list.len(), 3);
        let mut wakes = WakeList::new();
        assert_eq!(list.remove(b, &mut wakes), Removed::Queued(2));
        assert_eq!(list.front(), Some(1));
        assert!(list.notify_front(10).is_some());
        assert_eq!(list.front(), Some(3));
        assert!(list.poll_notified(&a, &w, &mut wakes));
        assert!(!list.poll_notified(&c, &w, &mut wakes));
        assert_eq!(list.remove(a, &mut wakes), Removed::Notified(10));
        assert!(list.notify_front(30).is_some());
        assert!(list.notify_front(0).is_none());
        assert!(list.is_empty());
        assert_eq!(list.remove(c, &mut wakes), Removed::Notified(30));
    }

    #[test]
    fn slots_are_reused_and_order_survives_reuse() {
        let mut list = WaitList::new();
        let w = waker();
        let mut wakes = WakeList::new();
        let a = list.push_back(&w, 'a');
        let b = list.push_back(&w, 'b');
        let _ = list.remove(a, &mut wakes);
        let c = list.push_back(&w, 'c');
        assert_eq!(list.slots.len(), 2, "freed slot reused");
        list.notify_all('!', &mut wakes);
        assert_eq!(list.remove(b, &mut wakes), Removed::Notified('!'));
        assert_eq!(list.remove(c, &mut wakes), Removed::Notified('!'));
    }

    #[test]
    fn large_slab_is_released_when_idle() {
        let mut list = WaitList::new();
        let w = waker();
        let keys: Vec<_> = (0..SHRINK_ABOVE * 2)
            .map(|i| list.push_back(&w, i))
            .collect();
        let mut wakes = WakeList::new();
        for key in keys {
            let _ = list.remove(key, &mut wakes);
        }
        assert_eq!(list.slots.len(), 0);
        let k = list.push_back(&w, 7);
        assert_eq!(list.front(), Some(7));
        let _ = list.remove(k, &mut wakes);
    }
}
