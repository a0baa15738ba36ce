//! loom models of the op slot ([`OpSlot`], `lifecycle.rs`): the real slot, driven the way
//! `crate::op::Op` and the owner's reaping drive it, under every interleaving.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p ringloop-io --lib loom_op_slot`
//! (or `bash ci/loom.sh`).
//!
//! # The threads
//!
//! * **The future** polls its slot with a new waker (as when the op future moves to another
//!   task), which replaces the waker registered at submission. [`FutureSide`] does what `Op`
//!   does around the slot (`Op` itself needs a live io_uring): on `Ready` it hands its data
//!   the completion; dropped in flight, it gives the data to the slot or, if the completion is
//!   there, orphans the data itself, then drops the waker the slot handed back.
//! * **The owner** reaps the CQE: it marks the kernel as done with the data, calls
//!   `transition_to_completed`, and then, as the driver does once it is released, wakes the
//!   waker it got or completes the orphan.
//! * **A third thread** takes the future from the first (a stolen task: `join` stands for the
//!   hand-off the task's state gives between workers) and drops it, or polls it again.
//!
//! Polling and dropping take the future by `&mut` or by value, so they never overlap; what
//! overlaps is each of them with the owner, and the user code each side runs after leaving the
//! lock.
//!
//! # What is checked
//!
//! * **The data is dropped exactly once, and only after the kernel is done with it.** The
//!   owner sets `kernel_done` before `transition_to_completed`; the data's `Drop` asserts it
//!   with a relaxed load, so only the slot's lock can have carried it to the dropping thread.
//!   The future takes the completion only after the owner delivered it, so this holds on the
//!   future's own path too.
//! * **No wake-up is lost.** If the future's last poll returned `Pending`, the waker of that
//!   poll has been woken exactly once when the owner is done, and the next poll is `Ready`.
//!   At most one wake happens in all.
//! * **Every waker handle is dropped exactly once**: each counting waker's live-handle count
//!   (its clones) is back to zero at the end and never underflows.
//! * **No user code runs under a slot's lock.** `OpSlot::lock` returns a guard that, under this
//!   model, marks the thread as holding an op slot's lock ([`SlotLockHeld`], a loom thread-local
//!   count, set just after the lock is taken and cleared just after it is released). The
//!   wakers' `clone`, `wake` and `drop`, and the data's `Drop` and orphan completion, assert
//!   the count is zero. This is sound where `try_lock` is not: a `try_lock` from the callback
//!   also fails when another thread rightly holds the lock (a false alarm), and it adds
//!   scheduling points; the mark is per model thread (loom runs every model thread on one OS
//!   thread, so it must be loom's thread-local, not std's) and covers exactly the span in which
//!   this thread holds the lock, so user code run under it, called directly or from the drop of
//!   a value overwritten under the lock, always sees it.

use std::cell::Cell;
use std::task::{RawWaker, RawWakerVTable, Waker};

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use super::lifecycle::{Completion, Dropped, OpSlot, Orphan, Poll, Reaped};

loom::thread_local! {
    /// How many op slot locks this model thread holds.
    static SLOT_LOCKS_HELD: Cell<usize> = Cell::new(0);
}

/// The mark `OpSlot::lock` keeps while the lock is held (see the module docs).
pub(super) struct SlotLockHeld(());

impl SlotLockHeld {
    pub(super) fn mark() -> SlotLockHeld {
        SLOT_LOCKS_HELD.with(|held| held.set(held.get() + 1));
        SlotLockHeld(())
    }
}

impl Drop for SlotLockHeld {
    fn drop(&mut self) {
        SLOT_LOCKS_HELD.with(|held| held.set(held.get() - 1));
    }
}

/// Panics if this thread holds an op slot's lock while running `what` (user code).
fn assert_no_slot_lock(what: &str) {
    SLOT_LOCKS_HELD.with(|held| {
        assert_eq!(held.get(), 0, "{what} ran under an op slot's lock");
    });
}

const COMPLETION: Completion = Completion {
    result: 7,
    flags: 0,
};

/// A waker that counts its live handles and its wakes. Its handles share one allocation, so
/// `will_wake` holds between clones, as for a task's waker.
struct CountingWaker {
    live: AtomicUsize,
    wakes: AtomicUsize,
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone_raw, wake_raw, wake_by_ref_raw, drop_raw);

impl CountingWaker {
    /// A new waker and its counts; the handle returned is live.
    fn new() -> (Arc<CountingWaker>, Waker) {
        let counts = Arc::new(CountingWaker {
            live: AtomicUsize::new(1),
            wakes: AtomicUsize::new(0),
        });
        let data = Arc::into_raw(counts.clone()).cast::<()>();
        // SAFETY: `data` is an `Arc<CountingWaker>` reference, which this handle owns, and
        // `VTABLE`'s functions treat it as one (see each).
        let waker = unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) };
        (counts, waker)
    }

    fn wakes(&self) -> usize {
        self.wakes.load(Ordering::Relaxed)
    }

    fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
}

/// # Safety
/// `data` is the pointer of a live handle: an `Arc<CountingWaker>` reference it owns.
unsafe fn clone_raw(data: *const ()) -> RawWaker {
    assert_no_slot_lock("a waker's clone");
    // SAFETY: per the contract, `data` comes from `Arc::into_raw` and its reference is live;
    // the `ManuallyDrop` leaves that reference to the handle being cloned.
    let this = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(data.cast::<CountingWaker>()) });
    this.live.fetch_add(1, Ordering::Relaxed);
    // The new handle owns a reference of its own.
    RawWaker::new(Arc::into_raw(Arc::clone(&this)).cast(), &VTABLE)
}

/// # Safety
/// As [`clone_raw`]; the handle is consumed.
unsafe fn wake_raw(data: *const ()) {
    // SAFETY: as the caller's.
    unsafe { wake_by_ref_raw(data) };
    // SAFETY: as the caller's: `wake` consumes the handle.
    unsafe { drop_raw(data) };
}

/// # Safety
/// As [`clone_raw`].
unsafe fn wake_by_ref_raw(data: *const ()) {
    assert_no_slot_lock("a waker's wake");
    // SAFETY: per the contract, `data` points to a live `CountingWaker`.
    let this = unsafe { &*data.cast::<CountingWaker>() };
    this.wakes.fetch_add(1, Ordering::Relaxed);
}

/// # Safety
/// As [`clone_raw`]; the handle is consumed.
unsafe fn drop_raw(data: *const ()) {
    assert_no_slot_lock("a waker's drop");
    // SAFETY: per the contract, `data` comes from `Arc::into_raw` and this handle owns that
    // reference, which is released here.
    let this = unsafe { Arc::from_raw(data.cast::<CountingWaker>()) };
    let before = this.live.fetch_sub(1, Ordering::Relaxed);
    assert!(before > 0, "a waker handle was dropped twice");
}

/// What the model counts about the op's data.
struct Model {
    /// Set by the owner before it reaps the CQE: from then on the kernel no longer uses the
    /// data.
    kernel_done: AtomicBool,
    data_drops: AtomicUsize,
    /// The data was completed by the future (`Ready`).
    completed: AtomicUsize,
    /// The data was released as an orphan (by the owner or by the dropped future).
    orphaned: AtomicUsize,
}

impl Model {
    fn new() -> Arc<Model> {
        Arc::new(Model {
            kernel_done: AtomicBool::new(false),
            data_drops: AtomicUsize::new(0),
            completed: AtomicUsize::new(0),
            orphaned: AtomicUsize::new(0),
        })
    }

    /// Exactly one of `complete` and `orphan` ran, and the data was dropped once.
    fn assert_data_released_once(&self) {
        let completed = self.completed.load(Ordering::Relaxed);
        let orphaned = self.orphaned.load(Ordering::Relaxed);
        assert_eq!(
            completed + orphaned,
            1,
            "completed {completed}, orphaned {orphaned}"
        );
        assert_eq!(self.data_drops.load(Ordering::Relaxed), 1, "data drops");
    }
}

/// The op's data: what the kernel writes into while the op is in flight.
struct Data(Arc<Model>);

impl Data {
    /// The future got the completion (`Operation::complete`).
    fn complete(self, completion: Completion) {
        assert_eq!(completion, COMPLETION);
        self.0.completed.fetch_add(1, Ordering::Relaxed);
    }

    /// The completion came after the future was dropped (`Operation::orphan`).
    fn orphan(self, completion: Completion) {
        assert_no_slot_lock("an orphan's release");
        assert_eq!(completion, COMPLETION);
        self.0.orphaned.fetch_add(1, Ordering::Relaxed);
    }
}

impl Orphan for Data {
    fn complete(self: Box<Self>, completion: Completion) {
        (*self).orphan(completion);
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        assert_no_slot_lock("the op data's drop");
        // Relaxed: only the slot's lock may carry the owner's store here.
        assert!(
            self.0.kernel_done.load(Ordering::Relaxed),
            "the op's data was dropped while the kernel could still write into it"
        );
        self.0.data_drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// The future's side of the slot, as `crate::op::Op` drives it once the op is in flight.
struct FutureSide {
    /// `Some` while in flight; taken by `Ready` or by the drop.
    data: Option<Data>,
    slot: Arc<OpSlot>,
}

impl FutureSide {
    /// Submits the op: the slot is made with a clone of the first poll's waker.
    fn submit(model: &Arc<Model>, waker: &Waker) -> FutureSide {
        FutureSide {
            data: Some(Data(model.clone())),
            slot: Arc::new(OpSlot::new(waker.clone())),
        }
    }

    /// One poll; true if the op completed (it is never polled after that).
    fn poll(&mut self, waker: &Waker) -> bool {
        assert!(self.data.is_some(), "polled after Ready");
        match self.slot.poll(waker) {
            Poll::Ready(completion) => {
                let data = self.data.take().expect("in flight");
                data.complete(completion);
                true
            }
            Poll::Pending => false,
        }
    }
}

impl Drop for FutureSide {
    fn drop(&mut self) {
        let Some(data) = self.data.take() else {
            return;
        };
        match self.slot.transition_to_ignored(data) {
            Dropped::Completed(data, completion) => data.orphan(completion),
            // `Op` queues the cancel here, then drops the old waker last.
            Dropped::NeedsCancel(old_waker) => drop(old_waker),
        }
    }
}

/// The owner reaps the op's CQE, then (the driver released) runs what it got.
fn reap(slot: &OpSlot, model: &Model) {
    model.kernel_done.store(true, Ordering::Relaxed);
    match slot.transition_to_completed(COMPLETION) {
        Reaped::Wake(waker) => waker.wake(),
        Reaped::Orphan(data, completion) => data.complete(completion),
        Reaped::Nothing => {}
    }
}

/// The future replaces its waker on one thread and is dropped on another, while the owner
/// reaps: the data is released once, after the CQE, and no user code runs under the lock.
#[test]
fn loom_op_slot_waker_replaced_then_dropped_while_reaping() {
    loom::model(|| {
        let model = Model::new();
        let (first, first_waker) = CountingWaker::new();
        let (second, second_waker) = CountingWaker::new();
        let future = FutureSide::submit(&model, &first_waker);
        let owner = {
            let (slot, model) = (future.slot.clone(), model.clone());
            thread::spawn(move || reap(&slot, &model))
        };
        let poller = thread::spawn(move || {
            let mut future = future;
            future.poll(&second_waker);
            future
        });
        let dropper = thread::spawn(move || drop(poller.join().unwrap()));
        owner.join().unwrap();
        dropper.join().unwrap();
        drop(first_waker);

        model.assert_data_released_once();
        assert!(first.wakes() + second.wakes() <= 1, "woken twice");
        assert_eq!(first.live(), 0, "a handle of the first waker leaked");
        assert_eq!(second.live(), 0, "a handle of the second waker leaked");
    });
}

/// The future replaces its waker, polls again with the same one (the `will_wake` fast path),
/// then moves to another thread and polls with a third waker, while the owner reaps: the
/// waker of the last `Pending` poll is woken exactly once, and the next poll is `Ready`.
#[test]
fn loom_op_slot_no_wake_up_lost_across_waker_replacements() {
    loom::model(|| {
        let model = Model::new();
        let wakers: Vec<_> = (0..3).map(|_| CountingWaker::new()).collect();
        let [first, second, third] = [0, 1, 2].map(|i| wakers[i].1.clone());
        let counts: Vec<_> = wakers.iter().map(|(counts, _)| counts.clone()).collect();
        drop(wakers);
        let future = FutureSide::submit(&model, &first);
        let owner = {
            let (slot, model) = (future.slot.clone(), model.clone());
            thread::spawn(move || reap(&slot, &model))
        };
        // Each poller returns the future and the index of the waker of its last poll, if
        // that poll was `Pending`.
        let poller = thread::spawn(move || {
            let mut future = future;
            let pending = !future.poll(&second) && !future.poll(&second);
            (future, pending.then_some(1))
        });
        let thief = thread::spawn(move || {
            let (mut future, pending) = poller.join().unwrap();
            let pending = match pending {
                Some(_) => (!future.poll(&third)).then_some(2),
                None => None,
            };
            (future, pending)
        });
        owner.join().unwrap();
        let (mut future, pending) = thief.join().unwrap();

        let wakes: Vec<_> = counts.iter().map(|c| c.wakes()).collect();
        assert!(
            wakes.iter().sum::<usize>() <= 1,
            "woken more than once: {wakes:?}"
        );
        if let Some(last) = pending {
            assert_eq!(wakes[last], 1, "the last waker was not woken: {wakes:?}");
            assert!(future.poll(&first), "woken, but the next poll is not Ready");
        }
        drop(future);
        drop(first);
        model.assert_data_released_once();
        assert_eq!(model.completed.load(Ordering::Relaxed), 1);
        for (i, c) in counts.iter().enumerate() {
            assert_eq!(c.live(), 0, "a handle of waker {i} leaked");
        }
    });
}
