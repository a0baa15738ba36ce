//! `task_group` (asyncio's `TaskGroup`): results, the first failure cancelling the others and
//! the body, collected failures, tasks added while joining, tasks refused once closed,
//! cancelling one task, dropping the scope, a panicking body, tasks created from other
//! threads, local tasks, no leaked futures (drop counters), and wakers of the group's
//! awaiters that panic or come back into the group (woken and dropped outside its locks).
// Handles are returned from group bodies on purpose, to await them after the group.
#![allow(clippy::async_yields_async)]

#[macro_use]
mod support;

use ringloop::{create_task, sleep, task_group, FailureKind, TaskBuilder, TaskError, TaskGroup};
use std::future::{pending as never, Future};
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, RawWaker, Waker};
use std::time::Duration;
use support::counting::Counters;
use support::wakers::{bomb_waker, on_a_thread, on_last_drop};
use support::{assert_cancelled, expect_panic, oneshot, yield_until};

rt_test! {
    fn a_group_task_awaited_with_a_panicking_waker_still_exits_the_group(flavor: Flavor) {
        let out = on_a_thread("a group whose task's awaiter has a panicking waker", move || {
            let rt = flavor.runtime();
            rt.block_on(task_group(|group| async move {
                let (release, released) = oneshot::channel::<()>();
                let mut child = group.create_task(async move {
                    released.await.unwrap();
                    5
                });
                // The bomb becomes the waker the child's completion wakes.
                let bomb = ManuallyDrop::new(bomb_waker());
                let polled = Pin::new(&mut child).poll(&mut Context::from_waker(&bomb));
                assert!(polled.is_pending());
                release.send(()).unwrap();
                yield_until("the child is done", || child.is_done()).await;
                child.await.unwrap()
            }))
        });
        // The scope saw the child exit: it did not wait for it forever.
        assert_eq!(out.unwrap(), 5);
    }

    fn the_scope_waker_is_dropped_outside_the_group_lock(flavor: Flavor) {
        // The scope's waker comes back into the group when dropped (`len()` takes the group's
        // lock): dropping it under that lock would deadlock. The scope drops it when it is
        // polled with another waker (`replaced`), or else when it closes.
        for replaced in [false, true] {
            on_a_thread("a scope polled with a re-entering waker", move || {
                let rt = flavor.runtime();
                rt.block_on(async move {
                    let handle: Arc<Mutex<Option<TaskGroup>>> = Arc::default();
                    let in_body = handle.clone();
                    let (release, released) = oneshot::channel::<()>();
                    let mut scope = Box::pin(task_group(move |group| async move {
                        *in_body.lock().unwrap() = Some(group);
                        released.await.unwrap();
                    }));
                    let in_drop = handle.clone();
                    let reentrant = on_last_drop(move || {
                        if let Some(group) = in_drop.lock().unwrap().as_ref() {
                            let _ = group.len();
                        }
                    });
                    // The same waker, without a reference of its own: polling with it keeps the
                    // scope's clone registered, and the scope's clone is the last one.
                    // SAFETY: `data` and `vtable` come from a live waker, and the copy is never
                    // dropped (it only borrows the reference of a clone that outlives its use).
                    let alias = ManuallyDrop::new(unsafe {
                        Waker::from_raw(RawWaker::new(reentrant.data(), reentrant.vtable()))
                    });
                    let other = on_last_drop(|| {});
                    let first = scope.as_mut().poll(&mut Context::from_waker(&reentrant));
                    assert!(first.is_pending());
                    drop(reentrant);
                    // The body's wait holds a clone too, until this wake consumes it.
                    release.send(()).unwrap();
                    let waker = if replaced { &other } else { &*alias };
                    if scope.as_mut().poll(&mut Context::from_waker(waker)).is_pending() {
                        scope.await.unwrap();
                    }
                    handle.lock().unwrap().take();
                });
            });
        }
    }

    fn the_scope_waits_for_every_task_and_gives_the_body_output(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let out = rt.block_on(async {
            task_group(|group| {
                let counters = counters.clone();
                async move {
                    let handles: Vec<_> = (0..20u64)
                        .map(|i| {
                            group.create_task(counters.track(async move {
                                sleep(Duration::from_millis(i % 3)).await.unwrap();
                                i
                            }))
                        })
                        .collect();
                    (handles, "body")
                }
            })
            .await
        });
        let (handles, body) = out.unwrap();
        assert_eq!(body, "body");
        counters.assert_all_dropped_once();
        let mut sum = 0;
        for handle in handles {
            assert!(handle.is_done());
            sum += support::block_on_thread(handle).unwrap();
        }
        assert_eq!(sum, (0..20).sum());
    }

    fn a_panic_cancels_the_others_and_the_body(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let body_finished = Arc::new(AtomicBool::new(false));
        let err = rt.block_on(async {
            task_group(|group| {
                let (counters, body_finished) = (counters.clone(), body_finished.clone());
                async move {
                    for _ in 0..5 {
                        group.create_task(counters.track(never::<()>()));
                    }
                    group.create_task_with(TaskBuilder::new().name("bad"), async {
                        panic!("boom");
                    });
                    // Cancelled by the failure: never gets past this.
                    let _alive = counters.guard();
                    never::<()>().await;
                    body_finished.store(true, Ordering::SeqCst);
                }
            })
            .await
            .unwrap_err()
        });
        assert!(!body_finished.load(Ordering::SeqCst));
        counters.assert_all_dropped_once();
        let failures = err.failures();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].kind(), FailureKind::Panicked);
        assert_eq!(failures[0].message(), "boom");
        assert_eq!(failures[0].name(), Some("bad"));
        assert!(err.to_string().contains("(bad) panicked: boom"), "{err}");
    }

    fn an_err_of_a_fallible_task_fails_the_group_and_stays_in_its_handle(flavor: Flavor) {
        let rt = flavor.runtime();
        let (err, handle) = rt.block_on(async {
            let handle = Arc::new(Mutex::new(None));
            let err = task_group(|group| {
                let handle = handle.clone();
                async move {
                    let failing = group.create_fallible_task(async {
                        Err::<u32, _>(std::io::Error::other("disk full"))
                    });
                    *handle.lock().unwrap() = Some(failing);
                    group.create_task(never::<()>());
                }
            })
            .await
            .unwrap_err();
            let handle = handle.lock().unwrap().take().unwrap();
            (err, handle.await)
        });
        assert_eq!(err.failures()[0].kind(), FailureKind::Error);
        assert_eq!(err.failures()[0].message(), "disk full");
        assert_eq!(handle.unwrap().unwrap_err().to_string(), "disk full");
        // An Ok of a fallible task is no failure.
        let ok = rt.block_on(task_group(|group| async move {
            group.create_fallible_task(async { Ok::<_, String>(1) })
        }));
        assert_eq!(support::block_on_thread(ok.unwrap()).unwrap(), Ok(1));
    }

    fn every_failure_is_collected(flavor: Flavor) {
        // Two failures for sure: `b` is inside its poll (spinning) when `a` fails, so the
        // cancel cannot stop it, and it fails too. That needs two workers.
        if flavor.workers() < 2 {
            return;
        }
        let rt = flavor.runtime();
        let err = rt.block_on(async {
            task_group(|group| async move {
                let b_running = Arc::new(AtomicBool::new(false));
                let watched = group.clone();
                let running = b_running.clone();
                group.create_task_with(TaskBuilder::new().name("b"), async move {
                    running.store(true, Ordering::SeqCst);
                    assert!(support::spin_until(|| watched.is_closed()), "a never failed");
                    panic!("b failed");
                });
                yield_until("b runs", || b_running.load(Ordering::SeqCst)).await;
                group.create_task_with(TaskBuilder::new().name("a"), async move {
                    panic!("a failed");
                });
            })
            .await
            .unwrap_err()
        });
        let names: Vec<_> = err.failures().iter().map(|f| f.name().unwrap()).collect();
        assert_eq!(names, ["a", "b"], "{err}");
        assert!(err.to_string().starts_with("2 tasks of the group failed: "), "{err}");
    }

    fn tasks_may_add_siblings_while_the_group_joins(flavor: Flavor) {
        let rt = flavor.runtime();
        let count = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            task_group(|group| {
                let count = count.clone();
                async move {
                    fn spawn_chain(group: TaskGroup, depth: usize, count: Arc<AtomicUsize>) {
                        let inner = group.clone();
                        group.create_task(async move {
                            ringloop::yield_now().await;
                            count.fetch_add(1, Ordering::SeqCst);
                            if depth > 0 {
                                spawn_chain(inner, depth - 1, count);
                            }
                        });
                    }
                    spawn_chain(group, 10, count);
                    // The body ends at once; the scope still waits for the whole chain.
                }
            })
            .await
            .unwrap();
        });
        assert_eq!(count.load(Ordering::SeqCst), 11);
    }

    fn tasks_created_after_the_group_finished_are_cancelled_on_arrival(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let group = task_group(|group| async move { group }).await.unwrap();
            assert!(group.is_closed());
            let late = group.create_task(counters.track(async { 1 }));
            counters.assert_all_dropped_once();
            assert_eq!(counters.polls(), 0);
            assert!(late.is_cancelled());
            assert_cancelled(late.await);
        });
    }

    fn cancelling_one_task_is_not_a_failure(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(async {
            task_group(|group| async move {
                let stuck = group.create_task(never::<()>());
                let fine = group.create_task(async { 2 });
                ringloop::yield_now().await;
                assert!(stuck.cancel());
                // On two workers the cancellation may complete at any moment: a second
                // cancel must say false if the task was already done before it was made.
                let done_before = stuck.is_done();
                assert!(!(stuck.cancel() && done_before));
                let stuck = stuck.await;
                (stuck.map_err(|e| e.is_cancelled()), fine.await.unwrap())
            })
            .await
        });
        assert_eq!(out.unwrap(), (Err(true), 2));
    }

    fn dropping_the_scope_cancels_every_task(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let started = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let scope = {
                let (counters, started) = (counters.clone(), started.clone());
                create_task(task_group(move |group| async move {
                    for _ in 0..8 {
                        let started = started.clone();
                        group.create_task(counters.track(async move {
                            started.fetch_add(1, Ordering::SeqCst);
                            never::<()>().await
                        }));
                    }
                    never::<()>().await
                }))
            };
            yield_until("every task started", || started.load(Ordering::SeqCst) == 8).await;
            assert!(scope.cancel());
            assert_cancelled(scope.await);
            yield_until("every task was dropped", || counters.live() == 0).await;
            counters.assert_all_dropped_once();
        });
    }

    fn a_panicking_body_cancels_the_tasks_then_resumes_its_panic(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let message = expect_panic(|| {
            rt.block_on(task_group(|group| {
                let counters = counters.clone();
                async move {
                    group.create_task(counters.track(never::<()>()));
                    ringloop::yield_now().await;
                    panic!("body failed");
                }
            }))
        });
        assert_eq!(message, "body failed");
        // The scope waited for its tasks before resuming the panic.
        counters.assert_all_dropped_once();
    }

    fn tasks_can_be_created_from_another_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(async {
            task_group(|group| async move {
                let (tx, rx) = oneshot::channel();
                let from_thread = group.clone();
                std::thread::spawn(move || {
                    let handle = from_thread.create_task(async { 40 + 2 });
                    let _ = tx.send(handle);
                });
                rx.await.unwrap().await.unwrap()
            })
            .await
        });
        assert_eq!(out.unwrap(), 42);
    }

    fn local_tasks_join_the_group(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(async {
            task_group(|group| async move {
                let shared = std::rc::Rc::new(5);
                let local = group.create_local_task({
                    let shared = shared.clone();
                    async move { *shared * 2 }
                });
                local.await.unwrap()
            })
            .await
        });
        assert_eq!(out.unwrap(), 10);
    }

    fn a_cancelled_group_child_handle_reports_cancelled(flavor: Flavor) {
        let rt = flavor.runtime();
        let handle = rt.block_on(async {
            let handle = Arc::new(Mutex::new(None));
            let _ = task_group(|group| {
                let handle = handle.clone();
                async move {
                    *handle.lock().unwrap() = Some(group.create_task(never::<()>()));
                    group.create_task(async { panic!("x") });
                }
            })
            .await;
            let handle = handle.lock().unwrap().take().unwrap();
            handle
        });
        assert!(handle.is_cancelled());
        assert!(matches!(support::block_on_thread(handle), Err(TaskError::Cancelled)));
    }
}

#[test]
fn task_group_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<TaskGroup>();
    assert_send_sync::<ringloop::GroupTask<u32>>();
    assert_send_sync::<ringloop::TaskGroupError>();
    let scope = task_group(|group| async move { group.len() });
    assert_send(&scope);
    // TaskGroupError works with `?` into boxed errors.
    fn into_boxed(e: ringloop::TaskGroupError) -> Box<dyn std::error::Error + Send + Sync> {
        e.into()
    }
    let _ = into_boxed;
}
