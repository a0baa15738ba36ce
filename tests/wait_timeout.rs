//! `wait_for`, `timeout_scope` (asyncio's `wait_for` and `timeout`), `shield` and
//! `CancelOnDrop`: what is dropped, cancelled or left running when time runs out; and the
//! wakers a scope keeps are dropped outside its lock.
//!
//! Timing assertions are one-sided where scheduling could delay things (a timer never fires
//! early; upper bounds are generous).

#[macro_use]
mod support;

use ringloop::{
    create_task, shield, sleep, task_group, timeout_scope, timeout_scope_at, wait_for,
    CancelOnDrop, Shield,
};
use std::future::{pending as never, Future};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Context;
use std::time::{Duration, Instant};
use support::counting::Counters;
use support::wakers::{on_a_thread, on_last_drop};
use support::{assert_cancelled, oneshot, yield_until};

/// Far longer than any test should take: "never", for a deadline.
const LONG: Duration = Duration::from_secs(3600);
/// A generous upper bound for something due "now" on a loaded machine.
const LATE: Duration = Duration::from_secs(10);

rt_test! {
    fn a_scoped_block_waker_is_dropped_outside_the_scope_lock(flavor: Flavor) {
        // The waker comes back into the scope when dropped (`when()` takes its lock): dropping
        // it under that lock would deadlock. The scope drops it when the block is polled with
        // another waker (`replaced`), or else when the block is dropped.
        for replaced in [true, false] {
            on_a_thread("a scoped block polled with a re-entering waker", move || {
                let rt = flavor.runtime();
                rt.block_on(async move {
                    // No deadline: no timer holds a clone of the waker as well.
                    let scope = timeout_scope(None);
                    let in_drop = scope.clone();
                    let reentrant = on_last_drop(move || {
                        let _ = in_drop.when();
                    });
                    let mut block = Box::pin(scope.run(never::<()>()));
                    let polled = block.as_mut().poll(&mut Context::from_waker(&reentrant));
                    assert!(polled.is_pending());
                    drop(reentrant); // the scope holds the last clone
                    if replaced {
                        let other = on_last_drop(|| {});
                        let polled = block.as_mut().poll(&mut Context::from_waker(&other));
                        assert!(polled.is_pending());
                    }
                    drop(block);
                });
            });
        }
    }

    fn wait_for_gives_the_output_in_time_and_drops_the_future_on_timeout(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            assert_eq!(wait_for(async { 1 }, Duration::from_secs(5)).await.unwrap(), 1);
            assert_eq!(wait_for(async { 2 }, None).await.unwrap(), 2);
            let started = Instant::now();
            let out = wait_for(counters.track(never::<()>()), Duration::from_millis(10)).await;
            assert!(out.is_err());
            assert!(started.elapsed() >= Duration::from_millis(10));
            assert!(started.elapsed() < LATE);
            counters.assert_all_dropped_once();
        });
    }

    fn wait_for_a_cancel_on_drop_task_cancels_it(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let task = create_task(counters.track(never::<()>()));
            let out = wait_for(CancelOnDrop::new(task), Duration::from_millis(5)).await;
            assert!(out.is_err());
            yield_until("the cancelled task's future is dropped", || counters.live() == 0).await;
            counters.assert_all_dropped_once();
            // A plain task handle only detaches.
            let detached = Arc::new(AtomicBool::new(false));
            let (tx, rx) = oneshot::channel::<()>();
            let task = {
                let detached = detached.clone();
                create_task(async move {
                    let _ = rx.await;
                    detached.store(true, Ordering::SeqCst);
                })
            };
            assert!(wait_for(task, Duration::from_millis(1)).await.is_err());
            tx.send(()).unwrap();
            yield_until("the detached task finishes", || detached.load(Ordering::SeqCst)).await;
        });
    }

    fn cancel_on_drop_into_task_disarms_it(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let guard = CancelOnDrop::new(create_task(async { 3 }));
            let task = guard.into_task();
            assert_eq!(task.await.unwrap(), 3);
        });
    }

    fn a_scope_cancels_its_block_at_the_deadline(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            // Before the scope: its deadline is fixed when it is made.
            let started = Instant::now();
            let scope = timeout_scope(Duration::from_millis(10));
            assert!(scope.when().is_some());
            let out = scope.run(counters.track(never::<()>())).await;
            assert!(out.unwrap_err().cause().is_none());
            assert!(started.elapsed() >= Duration::from_millis(10));
            assert!(started.elapsed() < LATE);
            assert!(scope.expired());
            counters.assert_all_dropped_once();
        });
    }

    fn a_block_that_finishes_in_time_is_not_expired(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let scope = timeout_scope(LONG);
            assert_eq!(scope.run(async { 5 }).await.unwrap(), 5);
            assert!(!scope.expired());
            let unbounded = timeout_scope(None);
            assert_eq!(unbounded.when(), None);
            assert_eq!(unbounded.run(sleep(Duration::from_millis(2))).await.unwrap().ok(), Some(()));
        });
    }

    fn rescheduling_later_from_inside_the_block_extends_it(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let scope = timeout_scope(Duration::from_millis(5));
            let out = scope
                .run(async {
                    scope.reschedule_after(LONG);
                    sleep(Duration::from_millis(30)).await.unwrap();
                    "done"
                })
                .await;
            assert_eq!(out.unwrap(), "done");
            assert!(!scope.expired());
            // And removing the deadline works too.
            let scope = timeout_scope(Duration::from_millis(5));
            let out = scope
                .run(async {
                    scope.reschedule(None);
                    sleep(Duration::from_millis(30)).await.unwrap();
                })
                .await;
            assert!(out.is_ok());
        });
    }

    fn rescheduling_earlier_from_another_task_cancels_the_block(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let scope = timeout_scope_at(Instant::now() + LONG);
            let running = {
                let scope = scope.clone();
                let block = counters.track(never::<()>());
                create_task(async move { scope.run(block).await })
            };
            yield_until("the block runs", || counters.polls() > 0).await;
            let started = Instant::now();
            scope.reschedule(Instant::now());
            let out = running.await.unwrap();
            assert!(out.is_err());
            assert!(started.elapsed() < LATE, "the block was not woken by reschedule");
            assert!(scope.expired());
            counters.assert_all_dropped_once();
        });
    }

    fn a_task_group_in_an_expired_scope_cancels_its_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let scope = timeout_scope(Duration::from_millis(10));
            let out = scope
                .run(task_group(|group| {
                    let counters = counters.clone();
                    async move {
                        for _ in 0..4 {
                            group.create_task(counters.track(never::<()>()));
                        }
                        never::<()>().await
                    }
                }))
                .await;
            assert!(out.is_err());
            yield_until("every task of the group is dropped", || counters.live() == 0).await;
            counters.assert_all_dropped_once();
        });
    }

    fn a_shielded_task_survives_its_awaiter_timing_out(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let shielded = shield(async move { rx.await.unwrap() + 1 });
            let task_id = shielded.task().id();
            let out = wait_for(shielded, Duration::from_millis(2)).await;
            assert!(out.is_err());
            assert!(ringloop::all_tasks().iter().any(|t| t.id == task_id), "still running");
            tx.send(41).unwrap();
            yield_until("the shielded task finishes", || {
                !ringloop::all_tasks().iter().any(|t| t.id == task_id)
            })
            .await;
        });
    }

    fn a_shielded_task_survives_its_awaiting_task_being_cancelled(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let finished = Arc::new(AtomicBool::new(false));
            let (tx, rx) = oneshot::channel::<()>();
            let inner = {
                let finished = finished.clone();
                create_task(async move {
                    let _ = rx.await;
                    finished.store(true, Ordering::SeqCst);
                })
            };
            let outer = create_task(async move { Shield::new(inner).await });
            yield_now_a_few().await;
            assert!(outer.cancel());
            assert_cancelled(outer.await);
            tx.send(()).unwrap();
            yield_until("the shielded task finishes", || finished.load(Ordering::SeqCst)).await;
        });
    }

    fn shield_gives_the_task_outcome(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            assert_eq!(shield(async { 9 }).await.unwrap(), 9);
            let shielded = Shield::from(create_task(never::<()>()));
            assert!(shielded.task().cancel());
            assert_cancelled(shielded.await);
        });
    }
}

async fn yield_now_a_few() {
    for _ in 0..10 {
        ringloop::yield_now().await;
    }
}

#[test]
fn timeout_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<ringloop::TimeoutScope>();
    assert_send_sync::<Shield<u32>>();
    assert_send_sync::<CancelOnDrop<u32>>();
    let scope = timeout_scope(None);
    assert_send(&scope.run(async { 1 }));
    assert_send(&wait_for(async { 1 }, None));
}
