//! Shutdown: `run` and dropping a `Runtime` cancel every task left — idle, queued, local on
//! workers, spawned during the shutdown itself — and drop each future exactly once, on a
//! thread where it may be dropped.

#[macro_use]
mod support;

use ringloop::{create_local_task, create_task, yield_now, Handle, Runtime, Task, TaskState};
use std::collections::HashMap;
use std::future::pending;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;
use support::counting::{Counters, DropGuard};
use support::{assert_cancelled, block_on_thread, yield_until};

/// A task body that waits forever, after recording that it was polled.
async fn park_forever(guard: DropGuard, started: Arc<AtomicUsize>) {
    let _guard = guard;
    started.fetch_add(1, Ordering::SeqCst);
    pending::<()>().await;
}

/// Spawns, when dropped, a task (through `handle`) that does the same `depth - 1` more times.
struct SpawnOnDrop {
    handle: Handle,
    counters: Counters,
    depth: usize,
    _guard: DropGuard,
}

impl SpawnOnDrop {
    fn new(handle: Handle, counters: Counters, depth: usize) -> SpawnOnDrop {
        let _guard = counters.guard();
        SpawnOnDrop {
            handle,
            counters,
            depth,
            _guard,
        }
    }
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        if self.depth == 0 {
            return;
        }
        let next = SpawnOnDrop::new(self.handle.clone(), self.counters.clone(), self.depth - 1);
        self.handle
            .spawn(async move {
                let _next = next;
                pending::<()>().await;
            })
            .detach();
    }
}

/// Spawns with `create_task` (the thread's current runtime) when dropped.
struct CreateTaskOnDrop {
    counters: Counters,
    /// How many `create_task` calls returned.
    spawned: Arc<AtomicUsize>,
    _guard: DropGuard,
}

impl CreateTaskOnDrop {
    fn new(counters: &Counters, spawned: &Arc<AtomicUsize>) -> CreateTaskOnDrop {
        CreateTaskOnDrop {
            counters: counters.clone(),
            spawned: spawned.clone(),
            _guard: counters.guard(),
        }
    }
}

impl Drop for CreateTaskOnDrop {
    fn drop(&mut self) {
        let guard = self.counters.guard();
        create_task(async move {
            let _guard = guard;
            pending::<()>().await;
        })
        .detach();
        self.spawned.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn run_cancels_leftover_tasks_before_returning() {
    let _watchdog = support::Watchdog::start("run_cancels_leftover_tasks", support::WATCHDOG);
    let counters = Counters::new();
    let started = Arc::new(AtomicUsize::new(0));
    let handles: Vec<Task<()>> = ringloop::run(async {
        let mut handles = Vec::new();
        for _ in 0..50 {
            handles.push(create_task(park_forever(counters.guard(), started.clone())));
        }
        for _ in 0..5 {
            handles.push(create_local_task(park_forever(
                counters.guard(),
                started.clone(),
            )));
        }
        // Tasks that spawn more tasks, and ones that never get a first poll.
        for _ in 0..10 {
            let (guard, inner, started) = (counters.guard(), counters.guard(), started.clone());
            create_task(async move {
                let _guard = guard;
                create_task(park_forever(inner, started)).detach();
                pending::<()>().await;
            })
            .detach();
        }
        yield_until("the tasks started", || started.load(Ordering::SeqCst) == 65).await;
        for _ in 0..50 {
            handles.push(create_task(park_forever(counters.guard(), started.clone())));
        }
        handles
    });
    // Every future is gone by the time run returns.
    counters.assert_all_dropped_once();
    assert_eq!(counters.created(), 125);
    for handle in handles {
        assert!(handle.is_cancelled());
        assert_eq!(handle.info().state, TaskState::Cancelled);
        assert_cancelled(block_on_thread(handle));
    }
}

#[test]
fn run_local_runs_on_this_thread_and_cancels_leftover_tasks() {
    let _watchdog = support::Watchdog::start("run_local_cancels_leftovers", support::WATCHDOG);
    let counters = Counters::new();
    let started = Arc::new(AtomicUsize::new(0));
    let caller = std::thread::current().id();
    let handles: Vec<Task<()>> = ringloop::run_local(async {
        let mut handles = Vec::new();
        for _ in 0..20 {
            handles.push(create_local_task(park_forever(
                counters.guard(),
                started.clone(),
            )));
            handles.push(create_task(park_forever(counters.guard(), started.clone())));
        }
        let here = create_task(async { std::thread::current().id() })
            .await
            .unwrap();
        assert_eq!(here, caller, "a task of run_local ran on another thread");
        yield_until("the tasks started", || started.load(Ordering::SeqCst) == 40).await;
        handles
    });
    counters.assert_all_dropped_once();
    assert_eq!(counters.created(), 40);
    for handle in handles {
        assert!(handle.is_cancelled());
    }
}

rt_test! {
    fn dropping_a_runtime_cancels_idle_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let started = Arc::new(AtomicUsize::new(0));
        let handles = rt.block_on(async {
            let handles: Vec<_> = (0..100)
                .map(|_| create_task(park_forever(counters.guard(), started.clone())))
                .collect();
            yield_until("every task waits", || {
                handles.iter().all(|h| h.info().state == TaskState::Idle)
            })
            .await;
            handles
        });
        assert_eq!(started.load(Ordering::SeqCst), 100);
        assert_eq!(counters.dropped(), 0);
        drop(rt);
        counters.assert_all_dropped_once();
        for handle in handles {
            assert_cancelled(block_on_thread(handle));
        }
    }

    fn dropping_a_runtime_cancels_queued_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        // Busy workers, so the tasks below stay queued (on the injector); the
        // single-threaded runtime runs nothing outside block_on anyway.
        let occupied = support::occupy_workers(&rt);
        let handles: Vec<_> = (0..100).map(|_| rt.spawn(counters.track(async {}))).collect();
        let more = rt.block_on(async {
            // Spawned and left behind by a block_on that returns at once.
            (0..100).map(|_| create_task(counters.track(async {}))).collect::<Vec<_>>()
        });
        if !flavor.is_multi_thread() {
            assert_eq!(counters.polls(), 0);
        }
        let releaser = occupied.release_after(Duration::from_millis(50));
        drop(rt);
        releaser.join().unwrap();
        if !flavor.is_multi_thread() {
            assert_eq!(counters.polls(), 0, "tasks ran during shutdown");
        }
        counters.assert_all_dropped_once();
        for handle in handles.into_iter().chain(more) {
            // Those that the block_on thread did not get to before the drop are cancelled.
            let outcome = block_on_thread(handle);
            assert!(outcome.is_ok() || outcome.unwrap_err().is_cancelled());
        }
    }

    fn dropping_a_runtime_cancels_local_tasks_on_their_threads(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::recording_threads();
        let poll_threads = Arc::new(Mutex::new(Vec::<ThreadId>::new()));
        rt.block_on(async {
            // Send tasks that each leave local tasks behind, on whatever thread they run.
            let spawners: Vec<_> = (0..4)
                .map(|_| {
                    let (counters, poll_threads) = (counters.clone(), poll_threads.clone());
                    create_task(async move {
                        for _ in 0..5 {
                            let guard = counters.guard();
                            let poll_threads = poll_threads.clone();
                            create_local_task(async move {
                                let _guard = guard;
                                poll_threads.lock().unwrap().push(thread::current().id());
                                pending::<()>().await;
                            })
                            .detach();
                        }
                    })
                })
                .collect();
            for spawner in spawners {
                spawner.await.unwrap();
            }
            yield_until("the local tasks ran", || poll_threads.lock().unwrap().len() == 20).await;
        });
        assert_eq!(counters.dropped(), 0);
        drop(rt);
        counters.assert_all_dropped_once();
        // Each local task was dropped on the thread that polled it (compared as multisets).
        let tally = |threads: Vec<ThreadId>| {
            let mut tally = HashMap::new();
            for thread in threads {
                *tally.entry(thread).or_insert(0) += 1;
            }
            tally
        };
        let polled = tally(poll_threads.lock().unwrap().clone());
        assert_eq!(polled, tally(counters.drop_threads()), "local tasks dropped off their threads");
        if flavor.is_multi_thread() {
            assert!(!polled.contains_key(&thread::current().id()));
        }
    }

    fn tasks_spawned_from_a_drop_during_shutdown_are_cancelled(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let handle = rt.handle().clone();
        rt.block_on(async {
            // Each of these spawns a chain of 3 more tasks as its future is dropped.
            for _ in 0..10 {
                let chain = SpawnOnDrop::new(handle.clone(), counters.clone(), 3);
                create_task(async move {
                    let _chain = chain;
                    pending::<()>().await;
                })
                .detach();
            }
            yield_now().await;
        });
        drop(rt);
        assert_eq!(counters.created(), 40);
        counters.assert_all_dropped_once();
        // The runtime is gone: a late spawn through the handle is cancelled on the spot.
        let late = Counters::new();
        let task = handle.spawn(late.track(async { 1 }));
        late.assert_all_dropped_once();
        assert_cancelled(block_on_thread(task));
    }

    fn create_task_from_a_drop_during_shutdown(flavor: Flavor) {
        let rt = flavor.runtime();
        let (counters, local_counters) = (Counters::new(), Counters::new());
        let spawned = Arc::new(AtomicUsize::new(0));
        let local_spawned = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            for _ in 0..5 {
                let spawner = CreateTaskOnDrop::new(&counters, &spawned);
                create_task(async move {
                    let _spawner = spawner;
                    pending::<()>().await;
                })
                .detach();
                // And from local tasks (on workers, for a multi-threaded runtime).
                let spawner = CreateTaskOnDrop::new(&local_counters, &local_spawned);
                create_task(async move {
                    create_local_task(async move {
                        let _spawner = spawner;
                        pending::<()>().await;
                    })
                    .detach();
                })
                .await
                .unwrap();
            }
            yield_now().await;
        });
        drop(rt);
        local_counters.assert_all_dropped_once();
        assert_eq!(local_spawned.load(Ordering::SeqCst), 5, "create_task in a local task's Drop");
        counters.assert_all_dropped_once();
        assert_eq!(spawned.load(Ordering::SeqCst), 5, "create_task in a Drop during shutdown");
    }

    fn every_future_and_output_is_dropped_exactly_once(flavor: Flavor) {
        let rt = flavor.runtime();
        let futures = Counters::new();
        let outputs = Counters::new();
        let (waker_tx, waker_rx) = std::sync::mpsc::channel::<std::task::Waker>();
        let (finished, running) = rt.block_on(async {
            // Finished, with outputs their handles still hold.
            let finished: Vec<_> = (0..20)
                .map(|_| {
                    let output = outputs.guard();
                    create_task(futures.track(async move { output }))
                })
                .collect();
            // Waiting on a waker held by another thread.
            let wakers_sent = Arc::new(AtomicUsize::new(0));
            for _ in 0..20 {
                let (waker_tx, wakers_sent) = (waker_tx.clone(), wakers_sent.clone());
                let mut sent = false;
                create_task(futures.track(std::future::poll_fn(move |cx| {
                    if !sent {
                        waker_tx.send(cx.waker().clone()).unwrap();
                        wakers_sent.fetch_add(1, Ordering::SeqCst);
                        sent = true;
                    }
                    std::task::Poll::<()>::Pending
                })))
                .detach();
            }
            // Always ready again.
            let running: Vec<_> = (0..20)
                .map(|_| create_task(futures.track(async { loop { yield_now().await } })))
                .collect();
            // Detached, with outputs never read.
            for _ in 0..20 {
                let output = outputs.guard();
                create_task(futures.track(async move {
                    yield_now().await;
                    output
                }))
                .detach();
            }
            yield_until("the tasks got going", || {
                finished.iter().all(Task::is_done) && wakers_sent.load(Ordering::SeqCst) == 20
            })
            .await;
            (finished, running)
        });
        let wakers: Vec<_> = waker_rx.iter().take(20).collect();
        drop(rt);
        // Every future is gone; outputs held by live handles are not.
        futures.assert_all_dropped_once();
        assert_eq!(outputs.live(), 20);
        for task in running {
            assert!(task.is_cancelled());
        }
        // Wakes after shutdown are harmless; the last references free the tasks.
        let waker_thread = thread::spawn(move || {
            for waker in wakers {
                waker.wake_by_ref();
                waker.wake();
            }
        });
        waker_thread.join().unwrap();
        drop(finished);
        outputs.assert_all_dropped_once();
    }
}

#[test]
fn run_cancels_leftover_tasks_when_its_future_panics() {
    let _watchdog = support::Watchdog::start("run_panics", support::WATCHDOG);
    let counters = Counters::new();
    let started = Arc::new(AtomicUsize::new(0));
    let message = support::expect_panic(|| {
        ringloop::run(async {
            for _ in 0..20 {
                create_task(park_forever(counters.guard(), started.clone())).detach();
                create_local_task(park_forever(counters.guard(), started.clone())).detach();
            }
            yield_until("the tasks started", || started.load(Ordering::SeqCst) == 40).await;
            panic!("the main future failed");
        })
    });
    assert_eq!(message, "the main future failed");
    counters.assert_all_dropped_once();
}

/// Panics when dropped (but not while unwinding).
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("PanicOnDrop dropped during shutdown");
        }
    }
}

#[test]
fn a_future_that_panics_when_dropped_does_not_stop_the_shutdown() {
    let _watchdog = support::Watchdog::start("panic_during_shutdown", support::WATCHDOG);
    for flavor in [
        support::Flavor::SingleThreaded,
        support::Flavor::MultiThread { workers: 1 },
        support::Flavor::MultiThread { workers: 2 },
    ] {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let started = Arc::new(AtomicUsize::new(0));
        let (bombs, others) = rt.block_on(async {
            let bombs: Vec<_> = (0..5)
                .map(|_| {
                    let (guard, started) = (counters.guard(), started.clone());
                    create_task(async move {
                        let _bomb = PanicOnDrop;
                        park_forever(guard, started).await;
                    })
                })
                .collect();
            let others: Vec<_> = (0..20)
                .map(|_| create_task(park_forever(counters.guard(), started.clone())))
                .collect();
            yield_until("all started", || started.load(Ordering::SeqCst) == 25).await;
            (bombs, others)
        });
        drop(rt);
        counters.assert_all_dropped_once();
        for bomb in bombs {
            let err = block_on_thread(bomb).unwrap_err();
            assert!(err.is_panic(), "{flavor:?}: {err:?}");
            assert!(
                err.to_string()
                    .contains("PanicOnDrop dropped during shutdown"),
                "{err}"
            );
        }
        for task in others {
            assert_cancelled(block_on_thread(task));
        }
    }
}

#[test]
fn multi_thread_block_on_cancels_its_local_tasks_when_it_returns() {
    let _watchdog = support::Watchdog::start("block_on_cancels_local_tasks", support::WATCHDOG);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let locals = Counters::new();
    let sends = Counters::new();
    let started = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        for _ in 0..10 {
            create_local_task(park_forever(locals.guard(), started.clone())).detach();
            create_task(park_forever(sends.guard(), started.clone())).detach();
        }
        yield_until("all started", || started.load(Ordering::SeqCst) == 20).await;
    });
    // The block_on thread's local tasks cannot outlive it; the workers' tasks live on.
    locals.assert_all_dropped_once();
    assert_eq!(sends.dropped(), 0);
    drop(rt);
    sends.assert_all_dropped_once();
}

#[test]
fn the_single_threaded_runtime_keeps_its_tasks_between_block_ons() {
    let rt = Runtime::builder().single_threaded().build().unwrap();
    let counters = Counters::new();
    let started = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        create_local_task(park_forever(counters.guard(), started.clone())).detach();
        create_task(park_forever(counters.guard(), started.clone())).detach();
        yield_until("both started", || started.load(Ordering::SeqCst) == 2).await;
    });
    assert_eq!(counters.dropped(), 0);
    rt.block_on(async {});
    assert_eq!(counters.dropped(), 0);
    drop(rt);
    counters.assert_all_dropped_once();
}

#[test]
fn a_handle_outliving_its_runtime_spawns_cancelled_tasks() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let handle = rt.handle().clone();
    drop(rt);
    let counters = Counters::new();
    let task = handle.spawn(counters.track(async { 5 }));
    assert!(task.is_cancelled());
    counters.assert_all_dropped_once();
    assert_cancelled(block_on_thread(task));
}
