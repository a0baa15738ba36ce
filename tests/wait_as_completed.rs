//! `as_completed` (asyncio's `as_completed`): outputs in completion order, cancel-safe
//! `next()`, futures dropped with the iterator, tasks and plain futures.

#[macro_use]
mod support;

use ringloop::{as_completed, create_task, sleep, wait_for, yield_now};
use std::future::{pending as never, Future};
use std::pin::Pin;
use std::time::Duration;
use support::counting::Counters;
use support::oneshot;

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

rt_test! {
    fn yields_outputs_in_the_order_they_complete(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..4).map(|_| oneshot::channel::<u32>()).unzip();
            let tasks = receivers.into_iter().map(|rx| create_task(async move { rx.await.unwrap() }));
            let mut completed = as_completed(tasks);
            assert_eq!(completed.len(), 4);
            let mut senders: Vec<Option<oneshot::Sender<u32>>> = senders.into_iter().map(Some).collect();
            for i in [3usize, 1, 0, 2] {
                senders[i].take().unwrap().send(i as u32).unwrap();
                let out = completed.next().await.unwrap().unwrap();
                assert_eq!(out, i as u32);
            }
            assert!(completed.is_empty());
            assert!(completed.next().await.is_none());
            assert!(completed.next().await.is_none(), "stays exhausted");
        });
    }

    fn timers_come_out_by_deadline(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            // Deadlines 100 ms apart — more than the timer wheel's 64 ms slots, so that even
            // timers that fire in one batch after a stall fire in deadline order.
            let delays = [300u64, 0, 200, 100];
            let mut completed = as_completed(delays.map(|ms| async move {
                sleep(Duration::from_millis(ms)).await.unwrap();
                ms
            }));
            let mut order = Vec::new();
            while let Some(ms) = completed.next().await {
                order.push(ms);
            }
            assert_eq!(order, [0, 100, 200, 300]);
        });
    }

    fn next_is_cancel_safe(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..3).map(|_| oneshot::channel::<u32>()).unzip();
            let mut completed = as_completed(receivers);
            let mut senders = senders.into_iter();
            let mut seen = Vec::new();
            let mut timeouts = 0;
            while seen.len() < 3 {
                match wait_for(completed.next(), Duration::from_millis(2)).await {
                    Ok(Some(out)) => seen.push(out.unwrap()),
                    Ok(None) => panic!("ended early"),
                    Err(_) => {
                        // A `next()` dropped by the timeout loses nothing.
                        timeouts += 1;
                        if let Some(tx) = senders.next() {
                            tx.send(timeouts).unwrap();
                        }
                    }
                }
            }
            seen.sort_unstable();
            assert_eq!(seen.len(), 3);
            assert!(completed.next().await.is_none());
        });
    }

    fn dropping_it_drops_the_running_futures(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let futures: Vec<Boxed<u32>> = vec![
                Box::pin(counters.track(async { 1 })),
                Box::pin(counters.track(never())),
                Box::pin(counters.track(never())),
            ];
            let mut completed = as_completed(futures);
            assert_eq!(completed.next().await, Some(1));
            assert_eq!(completed.len(), 2);
            yield_now().await;
            drop(completed);
            counters.assert_all_dropped_once();
        });
    }

    fn many_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let n = if cfg!(debug_assertions) { 10_000 } else { 100_000 };
        rt.block_on(async move {
            let mut completed = as_completed((0..n).map(|i| create_task(async move { i })));
            let mut sum = 0u64;
            let mut count = 0;
            while let Some(out) = completed.next().await {
                sum += out.unwrap();
                count += 1;
            }
            assert_eq!(count, n);
            assert_eq!(sum, n * (n - 1) / 2);
        });
    }
}

#[test]
fn as_completed_of_send_futures_is_send_and_unpin() {
    fn assert_send_unpin<T: Send + Unpin>(_: &T) {}
    let futures: Vec<Boxed<u32>> = Vec::new();
    let completed = as_completed(futures);
    assert_send_unpin(&completed);
    // Not Unpin futures are fine: they are pinned inside.
    let completed = as_completed([async { 1 }]);
    assert_send_unpin(&completed);
}
