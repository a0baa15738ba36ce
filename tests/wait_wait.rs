//! `wait` (asyncio's `wait`): each `ReturnWhen`, timeouts that give back what is still
//! pending, pending tasks that keep running and can be waited for again, dropping the `Wait`
//! at any point, and large sets.

#[macro_use]
mod support;

use ringloop::{create_task, sleep, wait, ReturnWhen, Task, TaskError};
use std::future::{pending as never, ready, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::counting::Counters;
use support::{assert_cancelled, oneshot, yield_until};

/// A task that finishes when `rx` receives (or its sender goes away).
fn gated(rx: oneshot::Receiver<u32>) -> Task<u32> {
    create_task(async move { rx.await.unwrap_or(0) })
}

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

rt_test! {
    fn first_completed_returns_the_finished_and_the_running(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (tx, rx) = oneshot::channel();
            let slow = gated(rx);
            let fast = create_task(async { 7 });
            let (done, pending) = wait([slow, fast], ReturnWhen::FirstCompleted, None).await;
            assert_eq!(done.len(), 1);
            assert_eq!(done[0].0, 1);
            assert_eq!(*done[0].1.as_ref().unwrap(), 7);
            assert_eq!(pending.len(), 1);
            // The pending task still runs, and can be waited for again.
            tx.send(3).unwrap();
            let (done, pending) = wait(pending, ReturnWhen::AllCompleted, None).await;
            assert!(pending.is_empty());
            assert_eq!(*done[0].1.as_ref().unwrap(), 3);
        });
    }

    fn all_completed_waits_for_every_future(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let mut senders = Vec::new();
            let mut tasks = Vec::new();
            for _ in 0..4 {
                let (tx, rx) = oneshot::channel();
                senders.push(tx);
                tasks.push(gated(rx));
            }
            let waiting = create_task(wait(tasks, ReturnWhen::AllCompleted, None));
            // Complete in the order 2, 0, 3, 1, each after the previous one was seen done.
            let order = [2usize, 0, 3, 1];
            let mut senders: Vec<Option<oneshot::Sender<u32>>> =
                senders.into_iter().map(Some).collect();
            for &i in &order {
                senders[i].take().unwrap().send(i as u32 * 10).unwrap();
                // Let the waiting task see it before the next one completes.
                for _ in 0..20 {
                    ringloop::yield_now().await;
                }
            }
            let (done, pending) = waiting.await.unwrap();
            assert!(pending.is_empty());
            let indices: Vec<usize> = done.iter().map(|(i, _)| *i).collect();
            let mut sorted = indices.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2, 3]);
            for (i, out) in done {
                assert_eq!(out.unwrap(), i as u32 * 10);
            }
        });
    }

    fn first_exception_returns_at_the_first_failure(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (_tx, rx) = oneshot::channel();
            let blocked = gated(rx);
            let ok = create_task(async { 1 });
            let boom = create_task(async { panic!("boom") });
            let (done, pending) =
                wait([blocked, ok, boom], ReturnWhen::FirstException, None).await;
            assert!(done.iter().any(|(i, out)| *i == 2 && matches!(out, Err(TaskError::Panicked(_)))));
            assert_eq!(pending.len(), 1);
            assert!(pending[0].cancel());
        });
    }

    fn first_exception_without_failures_waits_for_all(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let futures: Vec<Boxed<Result<u32, String>>> = vec![
                Box::pin(async { Ok(1) }),
                Box::pin(async {
                    sleep(Duration::from_millis(5)).await.unwrap();
                    Ok(2)
                }),
            ];
            let (done, pending) = wait(futures, ReturnWhen::FirstException, None).await;
            assert!(pending.is_empty());
            assert_eq!(done.len(), 2);
            // Plain futures returning Err count as failures too.
            let futures: Vec<Boxed<Result<u32, String>>> =
                vec![Box::pin(never()), Box::pin(ready(Err("no".to_owned())))];
            let (done, pending) = wait(futures, ReturnWhen::FirstException, None).await;
            assert_eq!(done, [(1, Err("no".to_owned()))]);
            assert_eq!(pending.len(), 1);
        });
    }

    fn a_timeout_returns_what_finished_and_gives_back_the_rest(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (_tx, rx) = oneshot::channel();
            let stuck = gated(rx);
            let quick = create_task(async { 5 });
            let started = Instant::now();
            let (done, pending) = wait(
                [stuck, quick],
                ReturnWhen::AllCompleted,
                Some(Duration::from_millis(20)),
            )
            .await;
            let waited = started.elapsed();
            assert!(waited >= Duration::from_millis(20), "returned before the timeout: {waited:?}");
            assert!(waited < Duration::from_secs(10), "timeout far too late: {waited:?}");
            assert_eq!(done.len(), 1);
            assert_eq!(pending.len(), 1);
            assert!(!pending[0].is_done(), "a pending task is not cancelled by the timeout");
            assert!(pending[0].cancel());
        });
    }

    fn an_empty_set_completes_at_once(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let none: Vec<Task<()>> = Vec::new();
            let (done, pending) = wait(none, ReturnWhen::AllCompleted, Some(Duration::from_secs(60))).await;
            assert!(done.is_empty() && pending.is_empty());
        });
    }

    fn dropping_the_wait_detaches_tasks_and_drops_plain_futures(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let finished = Arc::new(AtomicBool::new(false));
            let (tx, rx) = oneshot::channel::<u32>();
            let task = {
                let finished = finished.clone();
                create_task(async move {
                    let _ = rx.await;
                    finished.store(true, Ordering::SeqCst);
                })
            };
            let futures: Vec<Boxed<Result<(), TaskError>>> = vec![
                Box::pin(counters.track(never())),
                Box::pin(task),
                Box::pin(counters.track(never())),
            ];
            // Poll the wait a few times, then drop it half-way (a timeout around it).
            let out = ringloop::wait_for(
                wait(futures, ReturnWhen::AllCompleted, None),
                Duration::from_millis(10),
            )
            .await;
            assert!(out.is_err());
            assert_eq!(counters.polls(), 2, "each plain future was polled once");
            counters.assert_all_dropped_once();
            // The task was detached, not cancelled: it still finishes.
            tx.send(1).unwrap();
            yield_until("the detached task finishes", || finished.load(Ordering::SeqCst)).await;
        });
    }

    fn many_futures_complete_in_linear_work(flavor: Flavor) {
        let rt = flavor.runtime();
        let n = if cfg!(debug_assertions) { 10_000 } else { 100_000 };
        rt.block_on(async move {
            let tasks: Vec<Task<usize>> = (0..n).map(|i| create_task(async move { i })).collect();
            let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
            assert!(pending.is_empty());
            let mut total = 0;
            for (i, out) in done {
                assert_eq!(out.unwrap(), i);
                total += 1;
            }
            assert_eq!(total, n);
        });
    }

    fn pending_tasks_can_be_cancelled_by_the_caller(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let tasks: Vec<Task<()>> = (0..3).map(|_| create_task(never())).collect();
            let (done, pending) =
                wait(tasks, ReturnWhen::FirstCompleted, Some(Duration::from_millis(1))).await;
            assert!(done.is_empty());
            for task in &pending {
                assert!(task.cancel());
            }
            for task in pending {
                assert_cancelled(task.await);
            }
        });
    }
}

#[test]
fn wait_is_send_and_unpin() {
    fn assert_send_unpin<T: Send + Unpin>(_: &T) {}
    let futures: Vec<Boxed<Result<(), ()>>> = Vec::new();
    let w = wait(futures, ReturnWhen::AllCompleted, None);
    assert_send_unpin(&w);
}
