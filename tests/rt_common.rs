//! The basics of every runtime flavour: spawning (from tasks, from the runtime, from handles on
//! other threads), awaiting, many tasks, `yield_now` interleaving, `block_on` values, and the
//! panics that guard against misuse (nested `block_on`, `create_task` outside a runtime).

#[macro_use]
mod support;

use ringloop::{create_local_task, create_task, yield_now, Handle, Runtime, TaskBuilder};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use support::{block_on_thread, expect_panic, oneshot, yield_until};

/// Tasks per test for the "many tasks" tests (smaller in debug builds).
const MANY: usize = if cfg!(debug_assertions) {
    10_000
} else {
    100_000
};

/// The message `block_on` panics with when the thread already runs a runtime.
const NESTED: &str = "cannot start a ringloop runtime from within a runtime";

/// A log entry of the interleaving test: which task, which iteration.
type Entry = (char, usize);

/// Runs two tasks that each log and yield `rounds` times; returns the log.
async fn two_yielding_tasks(rounds: usize) -> Vec<Entry> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let task = |name: char| {
        let log = log.clone();
        create_task(async move {
            for i in 0..rounds {
                log.lock().unwrap().push((name, i));
                yield_now().await;
            }
        })
    };
    let (a, b) = (task('a'), task('b'));
    a.await.unwrap();
    b.await.unwrap();
    let log = log.lock().unwrap().clone();
    log
}

/// Asserts the log alternates strictly between the two tasks (after the first entry).
#[track_caller]
fn assert_alternates(log: &[Entry], rounds: usize) {
    assert_eq!(log.len(), 2 * rounds);
    let longest_run = log
        .chunk_by(|x, y| x.0 == y.0)
        .map(<[Entry]>::len)
        .max()
        .unwrap();
    assert!(
        longest_run <= 1,
        "tasks did not alternate at each yield_now: {log:?}"
    );
}

rt_test! {
    fn spawn_and_await(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(async { create_task(async { 40 + 2 }).await });
        assert_eq!(out.unwrap(), 42);
    }

    fn spawn_from_a_task_and_await_there(flavor: Flavor) {
        let rt = flavor.runtime();
        let out = rt.block_on(async {
            let outer = create_task(async {
                let inner = create_task(async { create_task(async { "deep" }).await.unwrap() });
                inner.await.unwrap().len()
            });
            outer.await
        });
        assert_eq!(out.unwrap(), 4);
    }

    fn block_on_returns_values_and_borrows(flavor: Flavor) {
        let rt = flavor.runtime();
        let mut local = vec![1, 2, 3];
        // `block_on` needs neither `Send` nor `'static`: it may borrow from the caller.
        let sum: i32 = rt.block_on(async {
            local.push(4);
            local.iter().sum()
        });
        assert_eq!(sum, 10);
        assert_eq!(rt.block_on(async { "second" }), "second");
        let rc = std::rc::Rc::new(5);
        assert_eq!(rt.block_on(async { *rc + 1 }), 6);
        assert_eq!(local, [1, 2, 3, 4]);
    }

    fn runtime_spawn_from_outside(flavor: Flavor) {
        let rt = flavor.runtime();
        // Spawned before anything drives the runtime.
        let tasks: Vec<_> = (0..10u64).map(|i| rt.spawn(async move { i * 2 })).collect();
        let sum = rt.block_on(async {
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 90);
        // And after a block_on, from outside again.
        let task = rt.spawn(async { create_task(async { 7 }).await.unwrap() });
        assert_eq!(rt.block_on(task).unwrap(), 7);
    }

    fn handle_spawn_from_another_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        let handle = rt.handle().clone();
        let (tx, rx) = oneshot::channel();
        let out = rt.block_on(async move {
            // Another OS thread spawns through the handle, awaits one task there (with a plain
            // thread-parking executor) and sends the other handles back.
            let thread = thread::spawn(move || {
                let tasks: Vec<_> = (0..10u32).map(|i| handle.spawn(async move { i + 1 })).collect();
                let direct = block_on_thread(handle.spawn(async { yield_now().await; 100 }));
                tx.send((tasks, direct.unwrap())).ok().unwrap();
            });
            let (tasks, direct) = rx.await.unwrap();
            let mut sum = direct;
            for task in tasks {
                sum += task.await.unwrap();
            }
            thread.join().unwrap();
            sum
        });
        assert_eq!(out, 155);
    }

    fn handle_current_inside_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let from_block_on = Handle::current().spawn(async { 1 });
            let from_task = create_task(async { Handle::current().spawn(async { 2 }).await.unwrap() });
            assert_eq!(from_block_on.await.unwrap() + from_task.await.unwrap(), 3);
            assert!(Handle::try_current().is_some());
        });
        assert!(Handle::try_current().is_none());
    }

    fn many_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let sum = rt.block_on(async {
            let tasks: Vec<_> = (0..MANY).map(|i| create_task(async move { i })).collect();
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, MANY * (MANY - 1) / 2);
    }

    fn many_tasks_spawned_by_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let done = Arc::new(AtomicUsize::new(0));
        let spawners = 10;
        let per_spawner = MANY / spawners;
        rt.block_on({
            let done = done.clone();
            async move {
                let spawners: Vec<_> = (0..spawners)
                    .map(|_| {
                        let done = done.clone();
                        create_task(async move {
                            let tasks: Vec<_> = (0..per_spawner)
                                .map(|_| {
                                    let done = done.clone();
                                    create_task(async move {
                                        yield_now().await;
                                        done.fetch_add(1, Ordering::Relaxed);
                                    })
                                })
                                .collect();
                            for task in tasks {
                                task.await.unwrap();
                            }
                        })
                    })
                    .collect();
                for spawner in spawners {
                    spawner.await.unwrap();
                }
            }
        });
        assert_eq!(done.load(Ordering::Relaxed), spawners * per_spawner);
    }

    fn yield_now_interleaves_two_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let rounds = 50;
        // Both tasks spawned from one task: they start in the same run queue.
        let log = rt.block_on(async move { create_task(two_yielding_tasks(rounds)).await.unwrap() });
        if flavor.workers() <= 1 {
            // One thread runs both: each yield_now must let the other task run.
            assert_alternates(&log, rounds);
        } else {
            // Two workers run them in parallel; only completeness is deterministic.
            assert_eq!(log.len(), 2 * rounds);
        }
    }

    fn yield_now_lets_a_task_spawned_from_outside_run(flavor: Flavor) {
        let rt = flavor.runtime();
        // A task spins on yield_now until a task spawned later (from the block_on future: on a
        // multi-threaded runtime it goes through the injector, not the worker's queue) runs.
        let b_ran = Arc::new(AtomicBool::new(false));
        let b_spawned = Arc::new(AtomicBool::new(false));
        let a_started = Arc::new(AtomicBool::new(false));
        let polls_after_spawn = rt.block_on(async {
            let a = create_task({
                let (b_ran, b_spawned) = (b_ran.clone(), b_spawned.clone());
                let a_started = a_started.clone();
                async move {
                    a_started.store(true, Ordering::SeqCst);
                    let mut polls_after_spawn = 0;
                    while !b_ran.load(Ordering::SeqCst) {
                        if b_spawned.load(Ordering::SeqCst) {
                            polls_after_spawn += 1;
                        }
                        yield_now().await;
                    }
                    polls_after_spawn
                }
            });
            yield_until("a is running", || a_started.load(Ordering::SeqCst)).await;
            let b = create_task({
                let b_ran = b_ran.clone();
                async move { b_ran.store(true, Ordering::SeqCst) }
            });
            b_spawned.store(true, Ordering::SeqCst);
            b.await.unwrap();
            a.await.unwrap()
        });
        if flavor.workers() <= 1 {
            // Every runnable task runs once before a yielding task runs again (asyncio's
            // sleep(0)): `a` may yield once or twice more, not dozens of times.
            assert!(
                polls_after_spawn <= 2,
                "a yielding task ran {polls_after_spawn} more times before the task spawned next \
                 to it ran"
            );
        }
    }

    fn nested_block_on_panics_with_a_clear_message(flavor: Flavor) {
        let rt = Arc::new(flavor.runtime());
        let other = Arc::new(flavor.runtime());
        // In the block_on future itself.
        let message = rt.block_on(async {
            expect_panic(|| other.block_on(async { 1 }))
        });
        assert!(message.contains(NESTED), "{message}");
        let message = rt.block_on(async { expect_panic(|| rt.block_on(async { 1 })) });
        assert!(message.contains(NESTED), "{message}");
        // In a task, on the same runtime and on another one, and through `run`.
        let (rt2, other2) = (rt.clone(), other.clone());
        let messages = rt.block_on(async move {
            create_task(async move {
                [
                    expect_panic(|| rt2.block_on(async { 1 })),
                    expect_panic(|| other2.block_on(async { 1 })),
                    expect_panic(|| ringloop::run(async { 1 })),
                ]
            })
            .await
            .unwrap()
        });
        for message in messages {
            assert!(message.contains(NESTED), "{message}");
        }
        // Without catch_unwind, the task fails with that panic and the runtime goes on.
        let rt2 = rt.clone();
        let err = rt.block_on(async move {
            create_task(async move { rt2.block_on(async {}) }).await.unwrap_err()
        });
        assert!(err.is_panic());
        assert!(err.to_string().contains(NESTED), "{err}");
        assert_eq!(rt.block_on(async { create_task(async { 3 }).await.unwrap() }), 3);
        assert_eq!(other.block_on(async { create_task(async { 4 }).await.unwrap() }), 4);
    }

    fn a_panicking_block_on_leaves_the_thread_usable(flavor: Flavor) {
        let rt = flavor.runtime();
        let message = expect_panic(|| rt.block_on(async { panic!("block_on future failed") }));
        assert_eq!(message, "block_on future failed");
        // The thread left the runtime: outside-runtime calls panic again, and the runtime works.
        assert!(Handle::try_current().is_none());
        assert!(expect_panic(|| create_task(async {})).contains("inside a ringloop runtime"));
        assert_eq!(rt.block_on(async { create_task(async { 5 }).await.unwrap() }), 5);
    }

    fn runtime_is_reusable_and_tasks_outlive_block_on(flavor: Flavor) {
        let rt = flavor.runtime();
        // A task spawned in one block_on and not awaited there is still alive in the next one
        // (on the single-threaded runtime it waits for it; on workers it may finish meanwhile).
        #[allow(clippy::async_yields_async)] // the handle is the point: the next block_on awaits it
        let task = rt.block_on(async {
            create_task(async {
                yield_now().await;
                "survived"
            })
        });
        assert_eq!(rt.block_on(task).unwrap(), "survived");
    }

    fn worker_count_is_reported(flavor: Flavor) {
        assert_eq!(flavor.runtime().worker_threads(), flavor.workers());
    }
}

#[test]
fn create_task_outside_a_runtime_panics_with_a_message_saying_so() {
    let message = expect_panic(|| create_task(async {}));
    assert!(message.contains("create_task"), "{message}");
    assert!(message.contains("inside a ringloop runtime"), "{message}");

    let message = expect_panic(|| create_local_task(async {}));
    assert!(message.contains("create_local_task"), "{message}");
    assert!(message.contains("inside a ringloop runtime"), "{message}");

    let message = expect_panic(|| TaskBuilder::new().name("x").spawn(async {}));
    assert!(message.contains("inside a ringloop runtime"), "{message}");

    let message = expect_panic(Handle::current);
    assert!(message.contains("inside a ringloop runtime"), "{message}");
    assert!(Handle::try_current().is_none());

    // On a thread a runtime's block_on has left, too.
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(async {});
    let message = expect_panic(|| create_task(async {}));
    assert!(message.contains("inside a ringloop runtime"), "{message}");
}

#[test]
fn run_returns_the_value() {
    let out = ringloop::run(async { create_task(async { 6 * 7 }).await.unwrap() });
    assert_eq!(out, 42);
    assert_eq!(ringloop::try_run(async { "ok" }).unwrap(), "ok");
}

#[test]
fn multi_thread_block_on_from_several_threads_at_once() {
    let _watchdog = support::Watchdog::start("block_on_from_several_threads", support::WATCHDOG);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let sums: Vec<usize> = thread::scope(|scope| {
        let threads: Vec<_> = (0..3usize)
            .map(|t| {
                let rt = &rt;
                scope.spawn(move || {
                    rt.block_on(async move {
                        let tasks: Vec<_> = (0..100)
                            .map(|i| create_task(async move { i * t }))
                            .collect();
                        let local = create_local_task(async move { t });
                        let mut sum = local.await.unwrap();
                        for task in tasks {
                            sum += task.await.unwrap();
                        }
                        sum
                    })
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(sums, [0, 1 + 4950, 2 + 9900]);
}

#[test]
fn single_threaded_block_on_from_another_thread_panics() {
    let rt = Runtime::builder().single_threaded().build().unwrap();
    assert_eq!(rt.block_on(async { 1 }), 1);
    let message = thread::scope(|scope| {
        scope
            .spawn(|| expect_panic(|| rt.block_on(async { 2 })))
            .join()
            .unwrap()
    });
    assert!(
        message.contains("thread that first called `block_on`"),
        "{message}"
    );
    assert_eq!(rt.block_on(async { 3 }), 3);
}

#[test]
fn a_failed_nested_block_on_leaves_a_single_threaded_runtime_unbound() {
    let _watchdog = support::Watchdog::start("failed_nested_block_on", support::WATCHDOG);
    let rt = Arc::new(Runtime::builder().single_threaded().build().unwrap());
    let outer = Runtime::builder().worker_threads(1).build().unwrap();
    // The first `block_on` of `rt` is nested, in a task on `outer`'s worker: it fails.
    let nested = rt.clone();
    let message = outer.block_on(async move {
        create_task(async move { expect_panic(|| nested.block_on(async { 1 })) })
            .await
            .unwrap()
    });
    assert!(message.contains(NESTED), "{message}");
    // And in the `block_on` future of another thread.
    let message = thread::scope(|scope| {
        scope
            .spawn(|| outer.block_on(async { expect_panic(|| rt.block_on(async { 2 })) }))
            .join()
            .unwrap()
    });
    assert!(message.contains(NESTED), "{message}");
    // The failed calls left no trace: the creating thread can still drive `rt`.
    assert_eq!(
        rt.block_on(async { create_task(async { 3 }).await.unwrap() }),
        3
    );
}

#[test]
fn a_task_queued_behind_a_busy_one_is_stolen() {
    let _watchdog = support::Watchdog::start("queued_behind_a_busy_task", support::WATCHDOG);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    for _ in 0..100 {
        // Spawned by a task that then never yields: it sits in that worker's queue, and only
        // the other worker can run it.
        let spawned = rt.block_on(async {
            create_task(async {
                let flag = Arc::new(AtomicBool::new(false));
                let setter = flag.clone();
                create_task(async move { setter.store(true, Ordering::SeqCst) }).detach();
                support::spin_until(|| flag.load(Ordering::SeqCst))
            })
            .await
            .unwrap()
        });
        assert!(spawned, "a task spawned behind a busy task never ran");
        // Woken by a task that then never yields.
        let woken = rt.block_on(async {
            let flag = Arc::new(AtomicBool::new(false));
            let (tx, rx) = oneshot::channel::<()>();
            let setter = flag.clone();
            let waiter = create_task(async move {
                rx.await.unwrap();
                setter.store(true, Ordering::SeqCst);
            });
            yield_until("the waiter waits", || {
                waiter.info().state == ringloop::TaskState::Idle
            })
            .await;
            create_task(async move {
                tx.send(()).unwrap();
                support::spin_until(|| flag.load(Ordering::SeqCst))
            })
            .await
            .unwrap()
        });
        assert!(woken, "a task woken behind a busy task never ran");
    }
}
