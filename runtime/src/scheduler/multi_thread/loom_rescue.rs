//! loom model of step 3 of `rescue.rs`: a worker that parks with no busy sibling to watch
//! (unwatched), and a sibling that starts a busy stretch at the same time. With the real
//! [`Watchers`] and [`ThreadParker`], and the same steps, orderings and fences as `worker.rs`
//! (`park`: mark unwatched, fence, look at the siblings' busy flags; `note_busy`: publish the
//! stretch, fence, wake one unwatched sleeper). The sleeper must end up watching the busy
//! sibling: if both sides could miss each other, the sleeper parks for good and loom reports
//! a deadlock.

use super::rescue::Watchers;
use crate::loom::{fence, AtomicU64, Ordering};
use crate::park::{Park, ThreadParker};
use loom::sync::Arc;
use loom::thread;

/// The sleeper (worker 0) parks until it sees worker 1 busy.
fn sleeper_watches_a_sibling_that_turns_busy(sleeper_rounds: usize) {
    loom::model(move || {
        let watchers = Arc::new(Watchers::new(2));
        // Worker 1's `busy_since` (0: not busy), stored and loaded relaxed as in `packing.rs`.
        let busy_since = Arc::new(AtomicU64::new(0));
        let mut parker = ThreadParker::new();
        let unparker = parker.unparker();

        let busy = {
            let (watchers, busy_since) = (watchers.clone(), busy_since.clone());
            thread::spawn(move || {
                // `note_busy`, at the start of a busy stretch.
                busy_since.store(1, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                if let Some(sleeper) = watchers.wake_one(1) {
                    assert_eq!(sleeper, 0);
                    unparker.unpark();
                }
            })
        };

        // `park`, and the run loop around it, for worker 0.
        let mut rounds = 0;
        loop {
            if busy_since.load(Ordering::Relaxed) != 0 {
                break; // parks with a timeout: watching
            }
            watchers.sleep_unwatched(0);
            fence(Ordering::SeqCst);
            if busy_since.load(Ordering::Relaxed) != 0 {
                watchers.stop_unwatched(0);
                break;
            }
            rounds += 1;
            assert!(rounds <= sleeper_rounds, "woken more often than unparked");
            parker.park(None);
            watchers.stop_unwatched(0);
        }
        busy.join().unwrap();
    });
}

#[test]
fn loom_rescue_an_unwatched_sleeper_watches_a_sibling_turning_busy() {
    sleeper_watches_a_sibling_that_turns_busy(2);
}
