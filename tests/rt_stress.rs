//! Stress: a million tasks, workers spawning and waking each other (ping-pong through a
//! runtime-agnostic oneshot), spawn trees, and cancellation racing wake-ups and completion,
//! with exact counts and every future dropped exactly once. Sizes shrink in debug builds.

#[macro_use]
mod support;

use ringloop::{create_task, gather, yield_now, Runtime, Task};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::thread;
use support::counting::Counters;
use support::oneshot::{self, Sender};

/// Scales a size down in debug builds.
const fn scaled(release: usize, debug: usize) -> usize {
    if cfg!(debug_assertions) {
        debug
    } else {
        release
    }
}

/// Spawns `n` tasks in batches of `batch` and awaits each batch; returns the sum of the outputs.
/// Each task holds a drop guard of `counters`.
async fn spawn_in_batches(n: usize, batch: usize, counters: Counters) -> usize {
    let mut sum = 0;
    for start in (0..n).step_by(batch) {
        let tasks = (start..(start + batch).min(n)).map(|i| {
            let guard = counters.guard();
            create_task(async move {
                let _guard = guard;
                i
            })
        });
        for result in gather(tasks).await {
            sum += result.unwrap();
        }
    }
    sum
}

/// A request to a ponger: a number, and where to answer.
struct Ping {
    n: usize,
    reply: Sender<Pong>,
}

/// The answer: the number plus one, and where to send the next request.
struct Pong {
    n: usize,
    next: Sender<Ping>,
}

/// Answers pings until the pinger stops; each answer is sent from a freshly spawned task.
async fn ponger(first: oneshot::Receiver<Ping>, pings: Arc<AtomicUsize>, counters: Counters) {
    let mut requests = first;
    while let Ok(Ping { n, reply }) = requests.await {
        pings.fetch_add(1, Ordering::Relaxed);
        let (next, next_requests) = oneshot::channel();
        requests = next_requests;
        create_task(counters.track(async move {
            let _ = reply.send(Pong { n: n + 1, next });
        }))
        .detach();
    }
}

/// Plays `rounds` rounds against a ponger; returns the final number (2 per round).
async fn pinger(rounds: usize, pings: Arc<AtomicUsize>, counters: Counters) -> usize {
    let (mut to_ponger, first) = oneshot::channel();
    let ponger = create_task(counters.track(ponger(first, pings, counters.clone())));
    let mut n = 0;
    for round in 0..rounds {
        let (reply, answer) = oneshot::channel();
        assert!(
            to_ponger.send(Ping { n, reply }).is_ok(),
            "the ponger is gone"
        );
        let pong = answer.await.expect("the ponger answers");
        assert_eq!(pong.n, n + 1);
        n = pong.n + 1;
        to_ponger = pong.next;
        if round % 16 == 0 {
            yield_now().await;
        }
    }
    drop(to_ponger);
    ponger.await.unwrap();
    n
}

/// A binary tree of tasks `depth` levels deep; returns how many leaves it has.
fn spawn_tree(depth: u32, counters: Counters) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return 1;
        }
        let left = create_task(counters.track(spawn_tree(depth - 1, counters.clone())));
        let right = create_task(counters.track(spawn_tree(depth - 1, counters.clone())));
        left.await.unwrap() + right.await.unwrap()
    })
}

rt_test! {
    fn many_tasks_in_one_run(flavor: Flavor) {
        let n = scaled(1_000_000, 200_000);
        let counters = Counters::new();
        let sum = flavor.runtime().block_on(spawn_in_batches(n, 10_000, counters.clone()));
        assert_eq!(sum, n * (n - 1) / 2);
        assert_eq!(counters.created(), n);
        counters.assert_all_dropped_once();
    }

    fn ping_pong_across_workers(flavor: Flavor) {
        let rt = flavor.runtime();
        let pairs = 16;
        let rounds = scaled(5_000, 500);
        let pings = Arc::new(AtomicUsize::new(0));
        let counters = Counters::new();
        let finals = rt.block_on(async {
            let players = (0..pairs).map(|_| {
                create_task(counters.track(pinger(rounds, pings.clone(), counters.clone())))
            });
            gather(players).await
        });
        for result in finals {
            assert_eq!(result.unwrap(), 2 * rounds);
        }
        assert_eq!(pings.load(Ordering::Relaxed), pairs * rounds);
        drop(rt);
        // Pingers, pongers, and one answering task per ping.
        assert_eq!(counters.created(), 2 * pairs + pairs * rounds);
        counters.assert_all_dropped_once();
    }

    fn spawn_trees(flavor: Flavor) {
        let rt = flavor.runtime();
        let depth = if cfg!(debug_assertions) { 13 } else { 16 };
        let counters = Counters::new();
        let leaves = rt.block_on(async {
            let trees = (0..4).map(|_| create_task(spawn_tree(depth, counters.clone())));
            gather(trees).await.into_iter().map(Result::unwrap).sum::<usize>()
        });
        assert_eq!(leaves, 4 << depth);
        drop(rt);
        assert_eq!(counters.created(), 4 * ((2 << depth) - 2));
        counters.assert_all_dropped_once();
    }

    fn cancel_racing_wakes_from_another_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        let per_round = 200;
        let rounds = scaled(50, 10);
        let counters = Counters::new();
        let (mut values, mut cancelled) = (0, 0);
        rt.block_on(async {
            for _ in 0..rounds {
                let mut senders = Vec::with_capacity(per_round);
                let mut tasks = Vec::with_capacity(per_round);
                for i in 0..per_round {
                    let (tx, rx) = oneshot::channel::<usize>();
                    senders.push(tx);
                    tasks.push(create_task(counters.track(async move {
                        let value = rx.await.unwrap();
                        yield_now().await;
                        value + i
                    })));
                }
                // A thread wakes them all while this one cancels every other one.
                let waker = thread::spawn(move || {
                    for (i, tx) in senders.into_iter().enumerate() {
                        let _ = tx.send(i);
                    }
                });
                for task in tasks.iter().step_by(2) {
                    task.cancel();
                }
                waker.join().unwrap();
                for (i, task) in tasks.into_iter().enumerate() {
                    match task.await {
                        Ok(value) => {
                            assert_eq!(value, 2 * i);
                            values += 1;
                        }
                        Err(err) => {
                            assert!(err.is_cancelled() && i % 2 == 0, "task {i}: {err:?}");
                            cancelled += 1;
                        }
                    }
                }
            }
        });
        assert_eq!(values + cancelled, rounds * per_round);
        assert!(cancelled > 0);
        drop(rt);
        counters.assert_all_dropped_once();
    }

    fn wakes_from_outside_reach_sleeping_threads(flavor: Flavor) {
        let rt = flavor.runtime();
        let rounds = scaled(5_000, 1_000);
        // A thread outside the runtime answers each request after a varying delay, so the
        // wake lands at every point of the runtime's way to sleep.
        let (requests, inbox) = std::sync::mpsc::channel::<(Sender<usize>, usize)>();
        let answerer = thread::spawn(move || {
            for (tx, round) in inbox {
                for _ in 0..round % 64 {
                    std::hint::spin_loop();
                }
                if round % 7 == 0 {
                    thread::yield_now();
                }
                tx.send(round).unwrap();
            }
        });
        let sum = rt.block_on(async move {
            let mut sum = 0;
            for round in 0..rounds {
                let (tx, rx) = oneshot::channel();
                let task = create_task(async move { rx.await.unwrap() });
                requests.send((tx, round)).unwrap();
                sum += task.await.unwrap();
            }
            sum
        });
        answerer.join().unwrap();
        assert_eq!(sum, rounds * (rounds - 1) / 2);
    }

    fn handles_awaited_by_another_task_than_the_first_poller(flavor: Flavor) {
        let rt = flavor.runtime();
        let n = scaled(20_000, 2_000);
        let total = rt.block_on(async {
            let relays = (0..n).map(|i| {
                let task: Task<usize> = create_task(async move {
                    yield_now().await;
                    i
                });
                create_task(async move {
                    // Poll the handle once here (registering this task's waker)...
                    let mut task = task;
                    let first = std::future::poll_fn(|cx| {
                        Poll::Ready(Pin::new(&mut task).poll(cx))
                    })
                    .await;
                    match first {
                        Poll::Ready(result) => result.unwrap(),
                        // ...then hand it to another task, which must get the wake instead.
                        Poll::Pending => create_task(task).await.unwrap().unwrap(),
                    }
                })
            });
            gather(relays).await.into_iter().map(Result::unwrap).sum::<usize>()
        });
        assert_eq!(total, n * (n - 1) / 2);
    }
}

#[test]
fn a_million_tasks_spawned_by_every_worker() {
    let _watchdog = support::Watchdog::start("a_million_tasks", support::WATCHDOG);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let n = 1_000_000;
    let spawners = 4;
    let counters = Counters::new();
    let sum: usize = rt.block_on(async {
        // The spawners run on the workers: the million tasks go to the workers' own queues and
        // are stolen from there.
        let spawners = (0..spawners)
            .map(|_| create_task(spawn_in_batches(n / spawners, 10_000, counters.clone())));
        gather(spawners).await.into_iter().map(Result::unwrap).sum()
    });
    let per_spawner = n / spawners;
    assert_eq!(sum, spawners * per_spawner * (per_spawner - 1) / 2);
    assert_eq!(counters.created(), n);
    counters.assert_all_dropped_once();
}
