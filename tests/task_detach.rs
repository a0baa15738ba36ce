//! Detaching: dropping a `Task` (or calling `detach`) does not stop the task; its output is
//! dropped exactly once, by whoever is last.

#[macro_use]
mod support;

use ringloop::{create_task, yield_now};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use support::counting::Counters;
use support::{oneshot, wait_until, yield_until};

rt_test! {
    fn dropping_the_handle_keeps_the_task_running(flavor: Flavor) {
        let rt = flavor.runtime();
        let done = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let task = create_task({
                let done = done.clone();
                async move {
                    let value = rx.await.unwrap();
                    for _ in 0..10 {
                        yield_now().await;
                    }
                    done.store(value == 3, Ordering::SeqCst);
                }
            });
            drop(task);
            tx.send(3).unwrap();
            yield_until("the detached task finished", || done.load(Ordering::SeqCst)).await;
        });
    }

    fn detach_keeps_the_task_running(flavor: Flavor) {
        let rt = flavor.runtime();
        let done = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            let done = done.clone();
            create_task(async move {
                yield_now().await;
                done.store(true, Ordering::SeqCst);
            })
            .detach();
        });
        if flavor.is_multi_thread() {
            // The workers finish it without anyone waiting for it.
            wait_until("the detached task finished", || done.load(Ordering::SeqCst));
        } else {
            // The single-threaded runtime runs it in the next block_on.
            assert!(!done.load(Ordering::SeqCst));
            rt.block_on(yield_until("the detached task finished", || done.load(Ordering::SeqCst)));
        }
    }

    fn a_chain_of_detached_tasks_runs_to_the_end(flavor: Flavor) {
        let rt = flavor.runtime();
        let reached = Arc::new(AtomicUsize::new(0));
        fn link(depth: usize, reached: Arc<AtomicUsize>) {
            create_task(async move {
                yield_now().await;
                reached.fetch_add(1, Ordering::SeqCst);
                if depth > 0 {
                    link(depth - 1, reached);
                }
            })
            .detach();
        }
        rt.block_on(async {
            link(99, reached.clone());
            yield_until("the chain ran", || reached.load(Ordering::SeqCst) == 100).await;
        });
    }

    fn the_output_of_a_detached_task_is_dropped_once(flavor: Flavor) {
        let rt = flavor.runtime();
        let (early_output, late_output) = (Counters::new(), Counters::new());
        let futures = Counters::new();
        rt.block_on(async {
            // Detached before it completes: the task side drops the output.
            let guard = early_output.guard();
            let early = create_task(futures.track(async move {
                yield_now().await;
                guard
            }));
            early.detach();
            yield_until("the early output was dropped", || early_output.dropped() == 1).await;
            // Detached after it completed: the handle drops the output.
            let guard = late_output.guard();
            let late = create_task(futures.track(async move { guard }));
            yield_until("the task completed", || late.is_done()).await;
            assert_eq!(late_output.dropped(), 0, "the output was dropped while its handle lived");
            drop(late);
            assert_eq!(late_output.dropped(), 1, "dropping the handle drops the output");
        });
        early_output.assert_all_dropped_once();
        late_output.assert_all_dropped_once();
        futures.assert_all_dropped_once();
    }
}
