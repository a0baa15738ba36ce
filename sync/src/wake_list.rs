//! A batch of wakers collected while a state lock is held and woken after it is released.
//!
//! `Waker::wake` runs foreign code (a scheduler's queue push, an unpark); calling it with one of
//! our locks held would let that code contend on, or re-enter, the lock. Every primitive
//! therefore moves the wakers of the waiters it notifies into a `WakeList` under the lock and
//! calls [`WakeList::wake_all`] once the guard is gone.
//!
//! The first [`INLINE`] wakers live inline, so the common case (one `release`, one `put`)
//! never allocates; a larger batch (`notify_all`, `Event::set`) spills to a `Vec`.
//!
//! Dropping a `WakeList` wakes whatever it still holds, so an early return cannot lose a
//! wake-up. Declare the list *before* taking the lock guard: locals drop in reverse order, so
//! the guard is released first.

use std::fmt;
use std::mem::ManuallyDrop;
use std::task::Waker;

/// How many wakers are stored without allocating (a `release` or `notify(n)` rarely wakes
/// more; broadcasts spill to the heap).
const INLINE: usize = 4;

/// Wakers to wake once the lock protecting the waiter list has been released.
pub(crate) struct WakeList {
    /// `ManuallyDrop` only to skip the array's drop glue: `Drop` empties it first (if a
    /// waker panics during that, the remaining ones leak, which is safe).
    inline: ManuallyDrop<[Option<Waker>; INLINE]>,
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    /// An empty list; does not allocate.
    pub(crate) const fn new() -> Self {
        WakeList {
            inline: ManuallyDrop::new([const { None }; INLINE]),
            len: 0,
            spill: Vec::new(),
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

    /// Wakes every stored waker, leaving the list empty. Call it with no lock held.
    #[inline]
    pub(crate) fn wake_all(&mut self) {
        // Most critical sections wake nobody: keep that path to two compares.
        if self.len != 0 || !self.spill.is_empty() {
            self.wake_all_slow();
        }
    }

    #[cold]
    fn wake_all_slow(&mut self) {
        for slot in &mut self.inline[..self.len] {
            if let Some(waker) = slot.take() {
                waker.wake();
            }
        }
        self.len = 0;
        for waker in std::mem::take(&mut self.spill) {
            waker.wake();
        }
    }
}

impl Drop for WakeList {
    #[inline]
    fn drop(&mut self) {
        self.wake_all();
    }
}

impl fmt::Debug for WakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeList")
            .field("len", &(self.len + self.spill.len()))
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
