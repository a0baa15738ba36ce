//! `create_future` / `FutureCell` (asyncio's `loop.create_future()`): completed from tasks
//! and threads, errors, cancellation, many awaiters, done callbacks, dropped awaiters, and an
//! awaiter whose waker panics.

#[macro_use]
mod support;

use ringloop::{create_future, create_task, FutureCell, FutureError, Handle};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::Context;
use std::time::Duration;
use support::wakers::{bomb_waker, on_a_thread};
use support::yield_until;

rt_test! {
    fn an_awaiter_with_a_panicking_waker_does_not_keep_the_others_waiting(flavor: Flavor) {
        let out = on_a_thread("a FutureCell with a panicking awaiter", move || {
            let rt = flavor.runtime();
            rt.block_on(async {
                let fut = create_future::<u32>();
                // The first awaiter's waker panics when woken; the second is a task.
                let bomb = ManuallyDrop::new(bomb_waker());
                let mut first = fut.clone();
                assert!(Pin::new(&mut first).poll(&mut Context::from_waker(&bomb)).is_pending());
                let second = create_task(fut.clone());
                ringloop::yield_now().await;
                let (tx, rx) = mpsc::channel();
                fut.add_done_callback(move |_| tx.send(()).unwrap());
                fut.set_result(3).unwrap();
                let value = second.await.unwrap().unwrap();
                yield_until("the callback ran", || rx.try_recv().is_ok()).await;
                value
            })
        });
        assert_eq!(out, 3);
    }

    fn set_result_from_another_thread_wakes_the_awaiter(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(async {
            let fut = create_future::<String>();
            let setter = fut.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                setter.set_result("hi".to_owned()).unwrap();
            });
            fut.await
        });
        assert_eq!(out.unwrap(), "hi");
    }

    fn every_awaiter_sees_the_outcome(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let fut = create_future::<u32>();
            let waiters: Vec<_> = (0..8).map(|_| create_task(fut.clone())).collect();
            ringloop::yield_now().await;
            fut.set_result(7).unwrap();
            for waiter in waiters {
                assert_eq!(waiter.await.unwrap().unwrap(), 7);
            }
            // Already done: awaiting again gives the same result at once.
            assert_eq!(fut.clone().await.unwrap(), 7);
            assert_eq!(fut.result().unwrap().unwrap(), 7);
        });
    }

    fn exceptions_and_cancellation(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let failed = create_future::<u32>();
            let waiter = create_task(failed.clone());
            failed.set_exception(std::io::Error::other("nope")).unwrap();
            let err = waiter.await.unwrap().unwrap_err();
            assert_eq!(err.exception().unwrap().to_string(), "nope");
            assert!(!err.is_cancelled());
            let again = failed.set_exception(std::io::Error::other("twice")).unwrap_err();
            assert_eq!(again.into_inner().to_string(), "twice");
            assert_eq!(failed.set_result(1).unwrap_err().into_inner(), 1);
            assert!(!failed.cancel());

            let cancelled = create_future::<u32>();
            let waiter = create_task(cancelled.clone());
            assert!(cancelled.cancel());
            assert!(cancelled.is_cancelled() && cancelled.is_done());
            assert!(matches!(waiter.await.unwrap(), Err(FutureError::Cancelled)));
            assert!(!cancelled.cancel());
        });
    }

    fn done_callbacks_run_as_tasks_after_completion(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let fut = create_future::<u32>();
            let (tx, rx) = mpsc::channel();
            let calls = Arc::new(AtomicUsize::new(0));
            for _ in 0..3 {
                let (tx, calls) = (tx.clone(), calls.clone());
                fut.add_done_callback(move |fut| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tx.send((fut.result(), ringloop::current_task().is_some())).unwrap();
                });
            }
            fut.set_result(3).unwrap();
            // Never inside set_result itself.
            let inline = calls.load(Ordering::SeqCst);
            assert!(inline == 0 || flavor.is_multi_thread(), "a callback ran inside set_result");
            // Added after completion: scheduled at once.
            let late = tx.clone();
            fut.add_done_callback(move |fut| late.send((fut.result(), true)).unwrap());
            let mut seen = Vec::new();
            yield_until("every callback ran", || {
                seen.extend(rx.try_iter());
                seen.len() == 4
            })
            .await;
            for (result, in_task) in seen {
                assert_eq!(result.unwrap().unwrap(), 3);
                assert!(in_task);
            }
        });
    }

    fn a_dropped_awaiter_does_not_disturb_the_others(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let fut = create_future::<u32>();
            let dropped = create_task(fut.clone());
            let kept = create_task(fut.clone());
            ringloop::yield_now().await;
            assert!(dropped.cancel());
            let timed_out = ringloop::wait_for(fut.clone(), Duration::from_millis(1)).await;
            assert!(timed_out.is_err());
            fut.set_result(5).unwrap();
            assert_eq!(kept.await.unwrap().unwrap(), 5);
        });
    }

    fn handle_create_future_from_outside_the_runtime(flavor: Flavor) {
        let rt = flavor.runtime();
        let fut: FutureCell<u32> = rt.handle().create_future();
        let (tx, rx) = mpsc::channel();
        fut.add_done_callback(move |fut| tx.send(fut.result()).unwrap());
        let setter = fut.clone();
        std::thread::spawn(move || setter.set_result(9).unwrap()).join().unwrap();
        assert_eq!(rt.block_on(fut).unwrap(), 9);
        let seen = rt.block_on(async move {
            loop {
                if let Ok(seen) = rx.try_recv() {
                    break seen;
                }
                ringloop::sleep(Duration::from_millis(1)).await.unwrap();
            }
        });
        assert_eq!(seen.unwrap().unwrap(), 9);
        let _ = Handle::try_current();
    }
}

#[test]
fn future_cell_is_send_sync_and_unpin() {
    fn assert_all<T: Send + Sync + Unpin>() {}
    assert_all::<FutureCell<u32>>();
    assert_all::<FutureError>();
    fn into_boxed(e: FutureError) -> Box<dyn std::error::Error + Send + Sync> {
        e.into()
    }
    let _ = into_boxed;
}
