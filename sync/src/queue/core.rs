//! The shared engine of [`Queue`](crate::Queue), [`LifoQueue`](crate::LifoQueue) and
//! [`PriorityQueue`](crate::PriorityQueue).
//!
//! # State
//!
//! One lock guards [`State`]:
//!
//! * `buf`: the items ([`Buffer`]); `maxsize` bounds it (0 = unbounded).
//! * `getters`, `putters`: FIFO [`WaitList`]s of parked `get`/`put` futures. A waiter's value is
//!   `true` when it was notified *with a reservation* and `false` when it was only told to look
//!   again (at shutdown).
//! * `reserved_items`: items in `buf` promised to notified getters. `reserved_slots`: free
//!   places promised to notified putters (whose items are still inside their futures).
//! * `unfinished`: items put and not yet marked done; `joiners` wait for it to reach 0.
//! * `shutdown`, `drained`: `shutdown(immediate)` was called; an immediate one also emptied
//!   `buf` (`drained`), which voids every item reservation.
//!
//! Items *free* to a newcomer: `buf.len() - reserved_items`. Places free to a newcomer:
//! `maxsize - buf.len() - reserved_slots` (unbounded if `maxsize == 0`).
//!
//! # Invariants
//!
//! 1. `reserved_items <= buf.len()`, and `buf.len() + reserved_slots <= maxsize` when bounded.
//! 2. No barging: a getter is queued only while no item is free, a putter only while no place is
//!    free. Whenever an item or place becomes free and someone is queued for it, it is reserved
//!    for the head of that queue in the same critical section (`item_added`, `slot_freed`).
//!    A newcomer, `get_nowait`/`put_nowait` included, only takes what is free.
//! 3. A reservation is a debt of the notified waiter: it either uses it on its next poll (takes
//!    an item / puts its item) or, if dropped first, gives it back and it is re-reserved for the
//!    next queued waiter. So a dropped future never loses an item or a place.
//!
//! # Protocol
//!
//! * get: take a free item if any; else, if shut down and `buf` is empty, fail; else queue.
//!   When notified: release the reservation (if still valid) and retry the same steps; with a
//!   reservation the first step always succeeds.
//! * put: if shut down, fail with the item; take a free place if any; else queue (the item stays
//!   in the future). When notified: release the reservation and retry.
//! * Taking an item frees a place (`slot_freed`); putting one adds an item (`item_added`) and
//!   increments `unfinished`.
//! * `shutdown`: sets `shutdown`; if immediate, moves every item out (dropped after unlocking),
//!   lowers `unfinished` by their number and releases joiners at 0. Then it wakes every queued
//!   getter and putter without a reservation so they re-check: putters fail, getters drain what
//!   is left and fail once `buf` is empty (the getter that empties a shut-down queue wakes the
//!   rest).
//!
//! A reservation is for *an* item, not a particular one: of two woken getters, the one polled
//! first takes the oldest item. Items still leave the buffer in its order (FIFO, LIFO or
//! smallest first), and no getter is ever left without the item it was promised.
//!
//! Wakers are woken only after the state lock is released.

use super::buffer::Buffer;
use super::error::{QueueShutDown, TaskDoneError, TryGetError, TryPutError};
use crate::loom::Mutex;
use crate::wait_list::{Key, Removed, WaitList};
use crate::wake_list::WakeList;
use std::task::{Context, Poll};

/// A queue of `T`; see the [module docs](self).
pub(crate) struct Core<T> {
    maxsize: usize,
    state: Mutex<State<T>>,
}

struct State<T> {
    buf: Buffer<T>,
    getters: WaitList<bool>,
    putters: WaitList<bool>,
    joiners: WaitList<()>,
    reserved_items: usize,
    reserved_slots: usize,
    unfinished: usize,
    shutdown: bool,
    drained: bool,
}

/// Where a `get`, `put` or `join` future is.
#[derive(Debug)]
pub(crate) enum Phase {
    Init,
    Waiting(Key),
    Done,
}

impl<T> State<T> {
    fn free_items(&self) -> usize {
        self.buf.len() - self.reserved_items
    }

    fn free_slots(&self, maxsize: usize) -> usize {
        if maxsize == 0 {
            usize::MAX
        } else {
            maxsize - self.buf.len() - self.reserved_slots
        }
    }

    /// An item became free: reserve it for the oldest queued getter.
    fn item_added(&mut self, wakes: &mut WakeList) {
        if self.free_items() > 0 {
            if let Some(waker) = self.getters.notify_front(true) {
                self.reserved_items += 1;
                wakes.push(waker);
            }
        }
    }

    /// A place became free: reserve it for the oldest queued putter.
    fn slot_freed(&mut self, maxsize: usize, wakes: &mut WakeList) {
        if !self.shutdown && self.free_slots(maxsize) > 0 {
            if let Some(waker) = self.putters.notify_front(true) {
                self.reserved_slots += 1;
                wakes.push(waker);
            }
        }
    }

    /// Adds an item to the buffer; the caller checked that a place is free.
    fn push_item(&mut self, item: T, wakes: &mut WakeList) {
        self.buf.push(item);
        self.unfinished += 1;
        self.item_added(wakes);
    }

    /// Takes a free item; the caller checked that one is.
    fn pop_item(&mut self, maxsize: usize, wakes: &mut WakeList) -> T {
        let item = self.buf.pop().expect("a free item exists");
        self.slot_freed(maxsize, wakes);
        if self.shutdown && self.buf.is_empty() {
            // Nothing left to drain: the parked getters must fail now.
            self.getters.notify_all(false, wakes);
        }
        item
    }

    /// get, steps after any reservation was released (module docs, "Protocol").
    fn try_get(&mut self, maxsize: usize, wakes: &mut WakeList) -> Result<T, TryGetError> {
        if self.free_items() > 0 {
            Ok(self.pop_item(maxsize, wakes))
        } else if self.shutdown && self.buf.is_empty() {
            Err(TryGetError::ShutDown)
        } else {
            Err(TryGetError::Empty)
        }
    }

    /// put, steps after any reservation was released.
    fn try_put(
        &mut self,
        item: T,
        maxsize: usize,
        wakes: &mut WakeList,
    ) -> Result<(), TryPutError<T>> {
        if self.shutdown {
            Err(TryPutError::ShutDown(item))
        } else if self.free_slots(maxsize) > 0 {
            self.push_item(item, wakes);
            Ok(())
        } else {
            Err(TryPutError::Full(item))
        }
    }

    /// Gives back a getter's item reservation (unless an immediate shutdown voided it).
    fn release_item_reservation(&mut self) {
        if !self.drained {
            self.reserved_items -= 1;
        }
    }
}

impl<T> Core<T> {
    pub(crate) fn new(maxsize: usize, buf: Buffer<T>) -> Self {
        Core {
            maxsize,
            state: Mutex::new(State {
                buf,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
                reserved_items: 0,
                reserved_slots: 0,
                unfinished: 0,
                shutdown: false,
                drained: false,
            }),
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(crate) fn qsize(&self) -> usize {
        self.state.lock().buf.len()
    }

    pub(crate) fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.state.lock().shutdown
    }

    pub(crate) fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        let result = state.try_put(item, self.maxsize, &mut wakes);
        drop(state);
        wakes.wake_all();
        result
    }

    pub(crate) fn get_nowait(&self) -> Result<T, TryGetError> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        let result = state.try_get(self.maxsize, &mut wakes);
        drop(state);
        wakes.wake_all();
        result
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if state.unfinished == 0 {
            return Err(TaskDoneError(()));
        }
        state.unfinished -= 1;
        if state.unfinished == 0 {
            state.joiners.notify_all((), &mut wakes);
        }
        drop(state);
        wakes.wake_all();
        Ok(())
    }

    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        state.shutdown = true;
        let mut dropped = None;
        if immediate {
            let items = state.buf.take_all();
            state.unfinished = state.unfinished.saturating_sub(items.len());
            state.reserved_items = 0;
            state.drained = true;
            if state.unfinished == 0 {
                state.joiners.notify_all((), &mut wakes);
            }
            dropped = Some(items);
        }
        state.getters.notify_all(false, &mut wakes);
        state.putters.notify_all(false, &mut wakes);
        drop(state);
        // The items' destructors run with no lock held.
        drop(dropped);
        wakes.wake_all();
    }

    /// Drives a `put` future; `item` is `Some` until the put completes.
    pub(crate) fn poll_put(
        &self,
        item: &mut Option<T>,
        phase: &mut Phase,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), QueueShutDown<T>>> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        match std::mem::replace(phase, Phase::Done) {
            Phase::Init => {}
            Phase::Waiting(key) => {
                if !state.putters.poll_notified(&key, cx.waker(), &mut wakes) {
                    *phase = Phase::Waiting(key);
                    return Poll::Pending;
                }
                if let Removed::Notified(true) = state.putters.remove(key, &mut wakes) {
                    state.reserved_slots -= 1;
                }
            }
            Phase::Done => panic!("put future polled after completion"),
        }
        let value = item.take().expect("put future holds its item");
        let result = match state.try_put(value, self.maxsize, &mut wakes) {
            Ok(()) => Ok(()),
            Err(TryPutError::ShutDown(value)) => Err(QueueShutDown(value)),
            Err(TryPutError::Full(value)) => {
                *item = Some(value);
                *phase = Phase::Waiting(state.putters.push_back(cx.waker(), false));
                return Poll::Pending;
            }
        };
        drop(state);
        wakes.wake_all();
        Poll::Ready(result)
    }

    /// A `put` future is dropped: give back its reservation, if any.
    pub(crate) fn cancel_put(&self, phase: &mut Phase) {
        let Phase::Waiting(key) = std::mem::replace(phase, Phase::Done) else {
            return;
        };
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if let Removed::Notified(true) = state.putters.remove(key, &mut wakes) {
            state.reserved_slots -= 1;
            state.slot_freed(self.maxsize, &mut wakes);
        }
        drop(state);
        wakes.wake_all();
    }

    /// Drives a `get` future.
    pub(crate) fn poll_get(
        &self,
        phase: &mut Phase,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, QueueShutDown>> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        match std::mem::replace(phase, Phase::Done) {
            Phase::Init => {}
            Phase::Waiting(key) => {
                if !state.getters.poll_notified(&key, cx.waker(), &mut wakes) {
                    *phase = Phase::Waiting(key);
                    return Poll::Pending;
                }
                if let Removed::Notified(true) = state.getters.remove(key, &mut wakes) {
                    state.release_item_reservation();
                }
            }
            Phase::Done => panic!("get future polled after completion"),
        }
        let result = match state.try_get(self.maxsize, &mut wakes) {
            Ok(item) => Ok(item),
            Err(TryGetError::ShutDown) => Err(QueueShutDown(())),
            Err(TryGetError::Empty) => {
                *phase = Phase::Waiting(state.getters.push_back(cx.waker(), false));
                return Poll::Pending;
            }
        };
        drop(state);
        wakes.wake_all();
        Poll::Ready(result)
    }

    /// A `get` future is dropped: give back its reserved item, if any, to the next getter.
    pub(crate) fn cancel_get(&self, phase: &mut Phase) {
        let Phase::Waiting(key) = std::mem::replace(phase, Phase::Done) else {
            return;
        };
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        if let Removed::Notified(true) = state.getters.remove(key, &mut wakes) {
            state.release_item_reservation();
            state.item_added(&mut wakes);
        }
        drop(state);
        wakes.wake_all();
    }

    /// Drives a `join` future.
    pub(crate) fn poll_join(&self, phase: &mut Phase, cx: &mut Context<'_>) -> Poll<()> {
        let mut wakes = WakeList::new();
        let mut state = self.state.lock();
        match std::mem::replace(phase, Phase::Done) {
            Phase::Init => {
                if state.unfinished == 0 {
                    return Poll::Ready(());
                }
                *phase = Phase::Waiting(state.joiners.push_back(cx.waker(), ()));
                Poll::Pending
            }
            Phase::Waiting(key) => {
                if state.joiners.poll_notified(&key, cx.waker(), &mut wakes) {
                    let _ = state.joiners.remove(key, &mut wakes);
                    Poll::Ready(())
                } else {
                    *phase = Phase::Waiting(key);
                    Poll::Pending
                }
            }
            Phase::Done => panic!("join future polled after completion"),
        }
    }

    /// A `join` future is dropped.
    pub(crate) fn cancel_join(&self, phase: &mut Phase) {
        if let Phase::Waiting(key) = std::mem::replace(phase, Phase::Done) {
            let mut wakes = WakeList::new();
            let _ = self.state.lock().joiners.remove(key, &mut wakes);
            wakes.wake_all();
        }
    }
}

impl<T> Core<T> {
    /// `Debug` output for the public queue type called `name`.
    pub(crate) fn fmt_as(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock();
        f.debug_struct(name)
            .field("qsize", &state.buf.len())
            .field("maxsize", &self.maxsize)
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("unfinished", &state.unfinished)
            .field("shutdown", &state.shutdown)
            .finish()
    }
}
