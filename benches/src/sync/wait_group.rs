//! A wait group: a count that goes up and down, and one waiter that wakes at zero.
//!
//! The echo servers count their live tasks with it (the accept loop and one per connection),
//! so a workload can wait until its server has wound down before it returns.
//!
//! # Protocol
//!
//! - `count` is changed with one atomic add or subtract; [`WaitGroup::add`] must happen
//!   before the matching [`WaitGroup::done`], and while the count is above zero (a task
//!   adds for the tasks it spawns while it is counted itself).
//! - `waker` (a mutex) holds the waiter's [`Waker`].
//!
//! 1. The `done` that takes `count` from 1 to 0 locks `waker`, takes it, unlocks and wakes it.
//! 2. The waiter's poll returns `Ready` if `count` is 0; otherwise it locks `waker`, stores
//!    its waker, and checks `count` again under the lock: `Ready` if it is 0 now, else
//!    `Pending`.
//!
//! A `done` reaching zero before the waiter's lock is seen by the re-check; one after it
//! finds the stored waker. No wake-up is lost.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

/// Counts live tasks; [`WaitGroup::wait`] completes when none is left.
#[derive(Default)]
pub struct WaitGroup {
    count: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl WaitGroup {
    /// A wait group with a count of zero.
    pub fn new() -> Self {
        WaitGroup::default()
    }

    /// Counts `n` more tasks.
    pub fn add(&self, n: usize) {
        self.count.fetch_add(n, Ordering::AcqRel);
    }

    /// Counts one task as finished; the call that reaches zero wakes the waiter.
    ///
    /// # Panics
    ///
    /// If the count is already zero.
    pub fn done(&self) {
        let before = self.count.fetch_sub(1, Ordering::AcqRel);
        assert!(before > 0, "WaitGroup::done called more often than add");
        if before == 1 {
            let waker = self.waker.lock().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    /// The current count.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// A future that completes once the count is zero.
    pub fn wait(&self) -> WaitGroupWait<'_> {
        WaitGroupWait { group: self }
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// The future returned by [`WaitGroup::wait`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct WaitGroupWait<'a> {
    group: &'a WaitGroup,
}

impl Future for WaitGroupWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.group.count() == 0 {
            return Poll::Ready(());
        }
        let mut slot = self.group.waker.lock();
        match &mut *slot {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        if self.group.count() == 0 {
            *slot = None;
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn wakes_when_the_last_task_is_done() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for _ in 0..200 {
            let group = Arc::new(WaitGroup::new());
            group.add(1);
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    group.add(1);
                    let group = group.clone();
                    thread::spawn(move || group.done())
                })
                .collect();
            group.done();
            rt.block_on(group.wait());
            assert_eq!(group.count(), 0);
            for t in threads {
                t.join().unwrap();
            }
        }
        // Zero is open, and a group can be reused.
        let group = WaitGroup::new();
        rt.block_on(group.wait());
        group.add(2);
        group.done();
        group.done();
        rt.block_on(group.wait());
    }
}
