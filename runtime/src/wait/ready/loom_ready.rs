//! loom model of the `ReadySet` protocol: a wake racing with the parent's drain is never
//! lost — the child is polled by that drain or the next one, and the parent is woken when
//! the next drain is needed.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p ringloop-runtime --lib loom_`.

use super::ReadySet;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::sync::Arc;
use std::task::{Wake, Waker};

/// Counts the parent's wakes.
struct Parent(AtomicUsize);

impl Wake for Parent {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn loom_ready_wake_racing_with_a_drain_is_not_lost() {
    loom::model(|| {
        let set = ReadySet::new(2);
        let parent = Arc::new(Parent(AtomicUsize::new(0)));
        let parent_waker = Waker::from(parent.clone());
        set.register(&parent_waker);
        let mut first = Vec::new();
        set.poll_woken(&parent_waker, |index, _| first.push(index));
        assert_eq!(first, [0, 1], "every child starts queued, in order");

        let child = set.wakers[0].clone();
        let waker_thread = thread::spawn(move || child.wake());
        set.register(&parent_waker);
        let mut during = Vec::new();
        set.poll_woken(&parent_waker, |index, _| during.push(index));
        waker_thread.join().unwrap();

        let woken_after = parent.0.load(Ordering::SeqCst) > 0;
        let mut after = Vec::new();
        set.poll_woken(&parent_waker, |index, _| after.push(index));
        assert!(
            during.contains(&0) || (after == [0] && woken_after),
            "lost wake: during {during:?}, after {after:?}, parent woken {woken_after}"
        );
        assert!(
            !during.contains(&1) && !after.contains(&1),
            "child 1 was never woken"
        );
    });
}
