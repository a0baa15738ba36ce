//! A batch of wakers collected while a state lock is held and woken after it is released.
//!
//! `Waker::wake` runs foreign code (a scheduler's queue push, an unpark); calling it with one of
//! our locks held would let that code contend on, or re-enter, the lock. Every primitive
//! therefore moves the wakers of the waiters it notifies into a `WakeList` under the lock and
//! calls [`WakeList::wake_all`] once the guard is gone. Dropping a waker runs foreign code too,
//! so the wakers a [`WaitList`](crate::wait_list::WaitList) lets go of under the lock (replaced
//! by a newer one, or of a waiter that left the queue) go into the same list, to be dropped,
//! not woken, after the unlock.
//!
//! The first [`INLINE`] wakers live inline, so the common case (one `release`, one `put`)
//! never allocates; a larger batch (`notify_all`, `Event::set`) spills to a `Vec`.
//!
//! Dropping a `WakeList` wakes whatever it still holds, so an early return cannot lose a
//! wake-up. Declare the list *before* taking the lock guard: locals drop in reverse order, so
//! the guard is released first.
//!
//! A waker that panics does not keep the others from being woken (a lost wake-up would leave
//! a waiter asleep for good): every waker runs, then the first panic is passed on to the
//! caller, unless the thread is already unwinding (a second panic would abort the process).

use std::any::Any;
use std::fmt;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;

/// How many wakers are stored without allocating (a `release` or `notify(n)` rarely wakes
/// more; broadcasts spill to the heap).
const INLINE: usize = 4;

/// Wakers to wake (or drop) once the lock protecting the waiter list has been released.
pub(crate) struct WakeList {
    /// `ManuallyDrop` only to skip the array's drop glue: `Drop` empties it first.
    inline: ManuallyDrop<[Option<Waker>; INLINE]>,
    len: usize,
    /// `ManuallyDrop`, as `stale`: the slow path always leaves both empty (unallocated), so
    /// a `WakeList`'s drop is its inline check alone, with no drop glue (it runs at the end
    /// of every critical section).
    spill: ManuallyDrop<Vec<Waker>>,
    /// Wakers to drop without waking (rare: a waiter re-polled with another waker, or one
    /// that left the queue): no allocation until the first.
    stale: ManuallyDrop<Vec<Waker>>,
}

impl WakeList {
    /// An empty list; does not allocate.
    pub(crate) const fn new() -> Self {
        WakeList {
            inline: ManuallyDrop::new([const { None }; INLINE]),
            len: 0,
            spill: ManuallyDrop::new(Vec::new()),
            stale: ManuallyDrop::new(Vec::new()),
        }
    }

    /// Adds a waker to wake later.
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.len < INLINE {
            self.inline[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// Adds a waker to drop later, without waking it.
    pub(crate) fn drop_later(&mut self, waker: Waker) {
        self.stale.push(waker);
    }

    /// Wakes every stored waker and drops the stale ones, leaving the list empty. Call it
    /// with no lock held.
    ///
    /// # Panics
    /// With the first panic of a waker, once every waker has run (unless the thread is
    /// already panicking: then the panic is dropped).
    #[inline]
    pub(crate) fn wake_all(&mut self) {
        // Most critical sections wake nobody, and most of the others one waiter: keep those
        // paths short. A lone waker that panics has no other waker to keep asleep, so its
        // panic simply reaches the caller (the slow path would pass it on too) -- unless the
        // thread is unwinding already (a guard dropped by a panic), where a second panic
        // would abort the process: then the slow path catches it.
        if self.spill.is_empty() && self.stale.is_empty() {
            match self.len {
                0 => return,
                1 if !std::thread::panicking() => {
                    self.len = 0;
                    if let Some(waker) = self.inline[0].take() {
                        waker.wake();
                    }
                    return;
                }
                _ => {}
            }
        }
        self.wake_all_slow();
    }

    #[cold]
    fn wake_all_slow(&mut self) {
        let mut first_panic = None;
        for slot in &mut self.inline[..self.len] {
            if let Some(waker) = slot.take() {
                run_foreign(&mut first_panic, || waker.wake());
            }
        }
        self.len = 0;
        for waker in std::mem::take(&mut *self.spill) {
            run_foreign(&mut first_panic, || waker.wake());
        }
        for waker in std::mem::take(&mut *self.stale) {
            run_foreign(&mut first_panic, || drop(waker));
        }
        if let Some(payload) = first_panic {
            if !std::thread::panicking() {
                resume_unwind(payload);
            }
        }
    }
}

/// Runs a waker's code, keeping the first panic (a later one is dropped) instead of unwinding.
fn run_foreign(first_panic: &mut Option<Box<dyn Any + Send>>, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        first_panic.get_or_insert(payload);
    }
}

impl Drop for WakeList {
    #[inline]
    fn drop(&mut self) {
        // The slow path: it never lets a panic out while the thread is already unwinding.
        if self.len != 0 || !self.spill.is_empty() || !self.stale.is_empty() {
            self.wake_all_slow();
        }
    }
}

impl fmt::Debug for WakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeList")
            .field("len", &(self.len + self.spill.len()))
            .field("stale", &self.stale.len())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_inline_and_spilled_once() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut list = WakeList::new();
        for _ in 0..INLINE * 3 {
            list.push(Waker::from(count.clone()));
        }
        list.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), INLINE * 3);
        list.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), INLINE * 3);
    }

    #[test]
    fn drop_wakes_the_rest() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        {
            let mut list = WakeList::new();
            list.push(Waker::from(count.clone()));
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
