//! `gather`, `try_gather` and `gather!`: outputs in input order, errors ending the gather and
//! dropping the rest, nesting, linear cost in the number of children, and tasks in parallel.

#[macro_use]
mod support;

use ringloop::{create_task, gather, try_gather, yield_now, TaskError};
use std::future::{pending, Future};
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use support::counting::Counters;
use support::{oneshot, spin_until};

/// Yields `n` times.
async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// A child that fails with `Err(index)` after `after` yields.
async fn failing(index: usize, after: usize) -> Result<usize, usize> {
    yields(after).await;
    Err(index)
}

/// Where each [`PinnedChild`] was first polled and where it was dropped.
type AddressLog = Arc<Mutex<Vec<(usize, usize)>>>;

/// A `!Unpin` future that never completes and checks `Pin`'s drop guarantee: it records the
/// address it was first polled at, and in its `Drop` logs that address with the one it is
/// dropped at (the two must be equal: a pinned future is dropped where it was pinned).
struct PinnedChild {
    polled_at: Option<usize>,
    log: AddressLog,
    _pinned: PhantomPinned,
}

impl PinnedChild {
    fn new(log: &AddressLog) -> PinnedChild {
        PinnedChild {
            polled_at: None,
            log: log.clone(),
            _pinned: PhantomPinned,
        }
    }
}

impl Future for PinnedChild {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let address = &*self as *const PinnedChild as usize;
        // SAFETY: only a plain field is written; nothing is moved out of the pinned value.
        let this = unsafe { self.get_unchecked_mut() };
        this.polled_at.get_or_insert(address);
        Poll::Pending
    }
}

impl Drop for PinnedChild {
    fn drop(&mut self) {
        if let Some(polled_at) = self.polled_at {
            let dropped_at = self as *const PinnedChild as usize;
            self.log.lock().unwrap().push((polled_at, dropped_at));
        }
    }
}

/// Asserts that `expected` pinned children were dropped, each where it was polled.
#[track_caller]
fn assert_dropped_in_place(log: &AddressLog, expected: usize) {
    let log = log.lock().unwrap();
    assert_eq!(log.len(), expected, "pinned children dropped: {log:x?}");
    for &(polled_at, dropped_at) in log.iter() {
        assert_eq!(
            polled_at, dropped_at,
            "a pinned child was polled at {polled_at:#x} but moved to {dropped_at:#x} before \
             its drop"
        );
    }
}

rt_test! {
    fn gather_macro_mixes_output_types(flavor: Flavor) {
        let rt = flavor.runtime();
        let borrowed = String::from("borrowed");
        let out = rt.block_on(async {
            let rc = Rc::new(4); // gathered futures need not be Send
            ringloop::gather!(
                async { 1u8 },
                async {
                    yields(3).await;
                    borrowed.len()
                },
                create_task(async { 2.5f64 }),
                async { *rc },
                async { Err::<(), _>("no") },
            )
            .await
        });
        let (a, b, c, d, e) = out;
        assert_eq!((a, b, c.unwrap(), d, e), (1, 8, 2.5, 4, Err("no")));
    }

    fn gather_macro_polls_only_woken_children(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let slow_polls = Counters::new();
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let (busy, slow) = ringloop::gather!(
                counters.track(async move {
                    yields(100).await;
                    tx.send(7).unwrap();
                }),
                slow_polls.track(rx),
            )
            .await;
            let () = busy;
            assert_eq!(slow.unwrap(), 7);
        });
        assert_eq!(counters.polls(), 101);
        // Polled once to start waiting and once when woken, not at each of the 100 yields.
        assert_eq!(slow_polls.polls(), 2);
    }

    fn gather_keeps_input_order(flavor: Flavor) {
        let rt = flavor.runtime();
        let n = 50;
        let finished = Arc::new(Mutex::new(Vec::new()));
        let out = rt.block_on(gather((0..n).map(|i| {
            let finished = finished.clone();
            async move {
                // The last child finishes first.
                yields(n - i).await;
                finished.lock().unwrap().push(i);
                i * 10
            }
        })));
        assert_eq!(out, (0..n).map(|i| i * 10).collect::<Vec<_>>());
        let finished = finished.lock().unwrap().clone();
        assert_eq!(finished, (0..n).rev().collect::<Vec<_>>(), "children finished in reverse");
    }

    fn gather_of_nothing(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            assert!(gather(Vec::<std::future::Ready<u8>>::new()).await.is_empty());
            let ok = try_gather(Vec::<std::future::Ready<Result<u8, ()>>>::new()).await;
            assert_eq!(ok, Ok(vec![]));
        });
    }

    fn nested_gathers(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(async {
            let rows = gather((0..5).map(|row| {
                gather((0..4).map(move |col| async move {
                    yields(col).await;
                    row * 4 + col
                }))
            }))
            .await;
            let (tuple, flat, tried) = ringloop::gather!(
                ringloop::gather!(async { 'x' }, gather((1..=2).map(|i| async move { i }))),
                async { rows.concat() },
                try_gather((0..3).map(|i| async move { Ok::<_, ()>(i) })),
            )
            .await;
            (tuple, flat, tried)
        });
        assert_eq!(out.0, ('x', vec![1, 2]));
        assert_eq!(out.1, (0..20).collect::<Vec<_>>());
        assert_eq!(out.2, Ok(vec![0, 1, 2]));
    }

    fn try_gather_returns_the_first_error_and_drops_the_rest(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            // Child 3 fails after 2 yields, child 7 after 5; the rest never finish.
            let children = (0..10).map(|i| {
                let child: std::pin::Pin<Box<dyn Future<Output = Result<usize, usize>> + Send>> =
                    match i {
                        3 => Box::pin(failing(3, 2)),
                        7 => Box::pin(failing(7, 5)),
                        _ => Box::pin(async { pending::<Result<usize, usize>>().await }),
                    };
                counters.track(child)
            });
            assert_eq!(try_gather(children).await, Err(3));
            // All ten were dropped by the time the error came back.
            assert_eq!(counters.dropped(), 10);

            // "First" is first in time, not in input order.
            let children = [failing(0, 3), failing(1, 1), failing(2, 2)];
            assert_eq!(try_gather(children).await, Err(1));
        });
        counters.assert_all_dropped_once();
    }

    fn try_gather_drops_running_children_in_place(flavor: Flavor) {
        let rt = flavor.runtime();
        let log = AddressLog::default();
        rt.block_on(async {
            // Children 0, 1 and 3 are pinned and still running when child 2 fails.
            let children = (0..4).map(|i| {
                let log = log.clone();
                async move {
                    if i == 2 {
                        yields(1).await;
                        return Err(i);
                    }
                    PinnedChild::new(&log).await;
                    Ok(())
                }
            });
            assert_eq!(try_gather(children).await, Err(2));
        });
        assert_dropped_in_place(&log, 3);
    }

    fn dropped_gathers_drop_pinned_children_in_place(flavor: Flavor) {
        let rt = flavor.runtime();
        let log = AddressLog::default();
        rt.block_on(async {
            // Poll each gather once (every child starts), then drop it.
            let log = &log;
            let mut over_iter = Box::pin(gather((0..3).map(|_| PinnedChild::new(log))));
            let mut in_macro = Box::pin(ringloop::gather!(
                PinnedChild::new(log),
                async { 1 },
                PinnedChild::new(log),
            ));
            std::future::poll_fn(|cx| {
                assert!(over_iter.as_mut().poll(cx).is_pending());
                assert!(in_macro.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            drop(over_iter);
            drop(in_macro);
        });
        assert_dropped_in_place(&log, 5);
    }

    fn try_gather_collects_values_in_order(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(try_gather((0..10).map(|i| async move {
            yields(10 - i).await;
            Ok::<_, String>(i)
        })));
        assert_eq!(out, Ok((0..10).collect()));
    }

    fn dropping_a_gather_drops_every_child_once(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let mut gathered = Box::pin(gather((0..100).map(|i| {
                counters.track(async move {
                    if i % 2 == 0 {
                        i
                    } else {
                        pending().await
                    }
                })
            })));
            // Poll it once: half of the children finish, half wait.
            std::future::poll_fn(|cx| {
                assert!(gathered.as_mut().poll(cx).is_pending());
                std::task::Poll::Ready(())
            })
            .await;
            assert!(format!("{gathered:?}").contains("pending: 50"), "{gathered:?}");
            // The finished children's futures are gone already; the waiting ones are not.
            assert_eq!(counters.dropped(), 50);
            drop(gathered);
        });
        counters.assert_all_dropped_once();
    }

    fn gather_of_100_000_futures_costs_linear_polls(flavor: Flavor) {
        let rt = flavor.runtime();
        let n = 100_000;
        let counters = Counters::new();
        let out = rt.block_on(async {
            // In a task, so the cooperative budget applies too.
            let counters = counters.clone();
            create_task(async move {
                gather((0..n).map(|i| {
                    counters.track(async move {
                        yield_now().await;
                        i
                    })
                }))
                .await
            })
            .await
            .unwrap()
        });
        assert_eq!(out.len(), n);
        assert!(out.iter().enumerate().all(|(i, v)| i == *v));
        // Each child is polled twice (once to yield, once to finish): linear, not quadratic.
        assert!(counters.polls() < 3 * n, "{} polls for {n} children", counters.polls());
        counters.assert_all_dropped_once();
    }

    fn gather_of_finished_tasks_inside_a_task_costs_linear_polls(flavor: Flavor) {
        let rt = flavor.runtime();
        let n = if cfg!(debug_assertions) { 20_000 } else { 100_000 };
        let counters = Counters::new();
        let sum = rt.block_on(async {
            let counters = counters.clone();
            create_task(async move {
                let tasks: Vec<_> = (0..n).map(|i| create_task(async move { i })).collect();
                // Let them all finish first: every handle is then ready at once, and awaiting
                // each one takes a unit of the gathering task's cooperative budget.
                support::yield_until("the tasks finished", || tasks.iter().all(|t| t.is_done()))
                    .await;
                let out = gather(tasks.into_iter().map(|t| counters.track(t))).await;
                out.into_iter().map(Result::unwrap).sum::<usize>()
            })
            .await
            .unwrap()
        });
        assert_eq!(sum, n * (n - 1) / 2);
        // The budget may make the gather come back many times, but a handle that made no
        // progress must not be polled again and again: linear, not n * n / budget.
        assert!(counters.polls() < 3 * n, "{} polls for {n} children", counters.polls());
    }

    fn gather_polls_only_the_child_that_was_woken(flavor: Flavor) {
        let rt = flavor.runtime();
        let n = if cfg!(debug_assertions) { 10_000 } else { 100_000 };
        let counters = Counters::new();
        rt.block_on(async {
            // Each child waits for its own message; the messages come one at a time, each
            // from another task, so the gather is woken n times for one child each.
            let (senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| oneshot::channel::<usize>()).unzip();
            let feeder = create_task(async move {
                for (i, tx) in senders.into_iter().enumerate() {
                    tx.send(i).unwrap();
                    yield_now().await;
                }
            });
            let out = gather(receivers.into_iter().map(|rx| counters.track(rx))).await;
            feeder.await.unwrap();
            assert!(out.into_iter().enumerate().all(|(i, v)| v == Ok(i)));
        });
        assert!(counters.polls() < 3 * n, "{} polls for {n} children", counters.polls());
        counters.assert_all_dropped_once();
    }

    fn gather_of_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(async {
            let tasks = (0..1000u64).map(|i| {
                create_task(async move {
                    yields((i % 7) as usize).await;
                    if i % 100 == 99 {
                        panic!("task {i} failed");
                    }
                    i
                })
            });
            gather(tasks).await
        });
        for (i, result) in out.into_iter().enumerate() {
            match result {
                Ok(v) => assert_eq!(v, i as u64),
                Err(err) => {
                    assert_eq!(i % 100, 99);
                    assert_eq!(err.to_string(), format!("task panicked: task {i} failed"));
                }
            }
        }
    }

    fn gathered_tasks_run_in_parallel(flavor: Flavor) {
        let rt = flavor.runtime();
        let flags: Arc<[AtomicBool; 2]> = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let rendezvous = |me: usize, parallel: bool| {
            let flags = flags.clone();
            create_task(async move {
                flags[me].store(true, Ordering::SeqCst);
                let other = &flags[1 - me];
                if parallel {
                    // No yield: only a task running at the same time on another worker can
                    // set the other flag.
                    spin_until(|| other.load(Ordering::SeqCst))
                } else {
                    support::yield_until("the other task ran", || other.load(Ordering::SeqCst))
                        .await;
                    true
                }
            })
        };
        let parallel = flavor.workers() >= 2;
        let out: Vec<Result<bool, TaskError>> =
            rt.block_on(async { gather([rendezvous(0, parallel), rendezvous(1, parallel)]).await });
        for result in out {
            assert!(result.unwrap(), "the two tasks never ran at the same time");
        }
    }
}
