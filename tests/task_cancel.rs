//! `Task::cancel`: before the first poll, while idle, while running on another thread, after
//! completion, by the task itself, and of local tasks from other threads. Every test checks
//! that the future was dropped exactly once, and where.

#[macro_use]
mod support;

use ringloop::{create_local_task, create_task, yield_now, Task, TaskState};
use std::future::pending;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use support::counting::{Counters, DropGuard};
use support::{assert_cancelled, oneshot, spin_until, wait_until, yield_until};

/// What a task under test reports about itself.
#[derive(Default)]
struct Probe {
    /// Set when the task is inside its first poll.
    polling: AtomicBool,
    /// The task spins inside that poll until this is set.
    release: AtomicBool,
    /// Set if the task got past the scheduling point after which it should have been dropped.
    past_cancel_point: AtomicBool,
    poll_thread: Mutex<Option<ThreadId>>,
}

impl Probe {
    fn poll_thread(&self) -> ThreadId {
        self.poll_thread
            .lock()
            .unwrap()
            .expect("the task was polled")
    }
}

/// A task that, in its first poll, records its thread, says it is polling, spins until
/// released, and then yields: the yield is the scheduling point where a cancellation
/// requested meanwhile must take effect.
async fn spinner(probe: Arc<Probe>, guard: DropGuard) {
    let _guard = guard;
    *probe.poll_thread.lock().unwrap() = Some(thread::current().id());
    probe.polling.store(true, Ordering::SeqCst);
    assert!(
        spin_until(|| probe.release.load(Ordering::SeqCst)),
        "never released"
    );
    yield_now().await;
    probe.past_cancel_point.store(true, Ordering::SeqCst);
    pending::<()>().await;
}

/// A task that records its thread and waits forever.
async fn parked(probe: Arc<Probe>, guard: DropGuard) {
    let _guard = guard;
    *probe.poll_thread.lock().unwrap() = Some(thread::current().id());
    probe.polling.store(true, Ordering::SeqCst);
    pending::<()>().await;
    probe.past_cancel_point.store(true, Ordering::SeqCst);
}

/// Cancels `task` while it is inside a poll on another thread than the caller's, then checks
/// that the future was dropped at its next scheduling point, on the thread polling it.
async fn cancel_while_running(task: Task<()>, probe: Arc<Probe>, counters: Counters) {
    yield_until("the task is polled", || {
        probe.polling.load(Ordering::SeqCst)
    })
    .await;
    assert!(task.cancel(), "cancel of a running task returns true");
    // It is inside its poll: nothing may drop its future now.
    assert_eq!(
        counters.dropped(),
        0,
        "the future was dropped while being polled"
    );
    assert!(!task.is_done());
    assert_eq!(task.info().state, TaskState::Running);
    probe.release.store(true, Ordering::SeqCst);
    assert_cancelled(task.await);
    assert!(
        !probe.past_cancel_point.load(Ordering::SeqCst),
        "the task ran past its yield"
    );
    counters.assert_all_dropped_once();
    assert_eq!(
        counters.drop_threads(),
        [probe.poll_thread()],
        "dropped on another thread"
    );
}

rt_test! {
    fn cancel_before_first_poll(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        // Busy workers: the task stays queued until cancelled.
        let occupied = support::occupy_workers(&rt);
        rt.block_on(async {
            let task = create_task(counters.track(async { 1 }));
            assert!(task.cancel());
            // On the runtime's thread, a task that is not running is cancelled on the spot.
            assert_eq!(counters.dropped(), 1);
            assert!(task.is_done());
            assert!(task.is_cancelled());
            assert_eq!(task.info().state, TaskState::Cancelled);
            assert!(!task.cancel(), "a second cancel has no effect");
            assert_cancelled(task.await);
        });
        occupied.release();
        assert_eq!(counters.polls(), 0);
        counters.assert_all_dropped_once();
    }

    fn cancel_before_first_poll_from_outside_the_runtime(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        // Busy workers: the task stays queued until cancelled.
        let occupied = support::occupy_workers(&rt);
        let task = rt.spawn(counters.track(async { 1 }));
        assert!(task.cancel());
        if flavor.is_multi_thread() {
            // A `Send` task of the multi-threaded runtime may be dropped here and now.
            assert_eq!(counters.dropped(), 1);
            assert!(task.is_cancelled());
        }
        occupied.release();
        assert_cancelled(rt.block_on(task));
        assert_eq!(counters.polls(), 0);
        counters.assert_all_dropped_once();
    }

    fn cancel_idle_task_parked_forever(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::recording_threads();
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let polled = Arc::new(AtomicBool::new(false));
            let task = create_task({
                let guard = counters.guard();
                let polled = polled.clone();
                async move {
                    let _guard = guard;
                    polled.store(true, Ordering::SeqCst);
                    rx.await.unwrap()
                }
            });
            yield_until("the task is idle", || {
                polled.load(Ordering::SeqCst) && task.info().state == TaskState::Idle
            })
            .await;
            assert!(task.cancel());
            // Idle, and cancelled from a thread that may drop it: on the spot.
            assert!(task.is_cancelled());
            assert_eq!(counters.dropped(), 1);
            assert_eq!(counters.drop_threads(), [thread::current().id()]);
            assert!(!task.cancel());
            // The receiver went with the future; a late wake of the dead task is harmless.
            assert!(tx.is_closed());
            assert_eq!(tx.send(5), Err(5));
            assert_cancelled(task.await);
        });
        counters.assert_all_dropped_once();
    }

    fn cancel_idle_task_whose_waker_is_held_elsewhere(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            // The task stores its waker with a thread that wakes it after the cancel.
            let (waker_tx, waker_rx) = std::sync::mpsc::channel();
            let task = create_task(counters.track(std::future::poll_fn(move |cx| {
                waker_tx.send(cx.waker().clone()).unwrap();
                std::task::Poll::<()>::Pending
            })));
            let mut waker = None;
            yield_until("the task gave its waker away", || {
                waker = waker.take().or_else(|| waker_rx.try_recv().ok());
                waker.is_some()
            })
            .await;
            let waker: std::task::Waker = waker.unwrap();
            yield_until("the task is idle", || task.info().state == TaskState::Idle).await;
            assert!(task.cancel());
            assert_cancelled(task.await);
            // Waking and dropping the last waker of a completed, joined task frees it once.
            thread::spawn(move || {
                waker.wake_by_ref();
                waker.wake();
            })
            .join()
            .unwrap();
        });
        assert_eq!(counters.polls(), 1);
        counters.assert_all_dropped_once();
    }

    fn cancel_while_running_on_another_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::recording_threads();
        let probe = Arc::new(Probe::default());
        if flavor.is_multi_thread() {
            // The task runs on a worker; the block_on thread cancels it.
            rt.block_on(async {
                let task = create_task(spinner(probe.clone(), counters.guard()));
                cancel_while_running(task, probe.clone(), counters.clone()).await;
            });
            assert_ne!(probe.poll_thread(), thread::current().id());
        } else {
            // The task runs on the block_on thread; another thread cancels it meanwhile.
            rt.block_on(async {
                let task = create_task(spinner(probe.clone(), counters.guard()));
                let canceller = thread::spawn({
                    let (probe, counters) = (probe.clone(), counters.clone());
                    move || support::block_on_thread(cancel_while_running(task, probe, counters))
                });
                yield_until("the canceller is done", || canceller.is_finished()).await;
                canceller.join().unwrap();
            });
            assert_eq!(probe.poll_thread(), thread::current().id());
        }
    }

    fn cancel_while_queued_after_a_yield(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            // A task that is always ready again: cancel it at any point of its loop.
            let spins = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let task = create_task(counters.track({
                let spins = spins.clone();
                async move {
                    loop {
                        spins.fetch_add(1, Ordering::SeqCst);
                        yield_now().await;
                    }
                }
            }));
            yield_until("the task spins", || spins.load(Ordering::SeqCst) > 100).await;
            assert!(task.cancel());
            assert_cancelled(task.await);
            let after = spins.load(Ordering::SeqCst);
            yield_now().await;
            assert_eq!(spins.load(Ordering::SeqCst), after, "still running after Cancelled");
        });
        counters.assert_all_dropped_once();
    }

    fn cancel_of_a_finished_task(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let task = create_task(counters.track(async { 5 }));
            yield_until("the task is done", || task.is_done()).await;
            assert!(!task.cancel(), "cancel of a finished task returns false");
            assert!(!task.is_cancelled());
            assert_eq!(task.info().state, TaskState::Complete);
            assert_eq!(task.await.unwrap(), 5);
        });
        counters.assert_all_dropped_once();
    }

    fn a_task_cancels_itself(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let probe = Arc::new(Probe::default());
        rt.block_on(async {
            let (handle_tx, handle_rx) = oneshot::channel::<Task<()>>();
            let (back_tx, back_rx) = oneshot::channel::<(Task<()>, bool, bool)>();
            let task = create_task({
                let guard = counters.guard();
                let probe = probe.clone();
                async move {
                    let _guard = guard;
                    let me = handle_rx.await.unwrap();
                    let requested = me.cancel();
                    // The poll goes on until the next scheduling point.
                    let done_inside = me.is_done();
                    back_tx.send((me, requested, done_inside)).ok().unwrap();
                    yield_now().await;
                    probe.past_cancel_point.store(true, Ordering::SeqCst);
                }
            });
            handle_tx.send(task).ok().unwrap();
            let (task, requested, done_inside) = back_rx.await.unwrap();
            assert!(requested, "a running task's cancel of itself returns true");
            assert!(!done_inside);
            assert_cancelled(task.await);
        });
        assert!(!probe.past_cancel_point.load(Ordering::SeqCst));
        counters.assert_all_dropped_once();
    }

    fn cancel_local_task_from_another_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::recording_threads();
        let probe = Arc::new(Probe::default());
        rt.block_on(async {
            let task = create_local_task(parked(probe.clone(), counters.guard()));
            yield_until("the local task is idle", || {
                probe.polling.load(Ordering::SeqCst) && task.info().state == TaskState::Idle
            })
            .await;
            // Another thread cancels it while this (its owner) thread is blocked.
            let cancelled = thread::scope(|scope| scope.spawn(|| task.cancel()).join().unwrap());
            assert!(cancelled);
            assert_eq!(counters.dropped(), 0, "a local task's future was dropped off its thread");
            assert!(!task.is_done());
            assert_cancelled(task.await);
        });
        assert!(!probe.past_cancel_point.load(Ordering::SeqCst));
        counters.assert_all_dropped_once();
        assert_eq!(counters.drop_threads(), [thread::current().id()]);
    }

    fn cancel_local_task_on_a_worker_from_the_block_on_thread(flavor: Flavor) {
        if !flavor.is_multi_thread() {
            return; // No workers: covered by cancel_local_task_from_another_thread.
        }
        let rt = flavor.runtime();
        let counters = Counters::recording_threads();
        let probe = Arc::new(Probe::default());
        rt.block_on(async {
            let (probe2, guard) = (probe.clone(), counters.guard());
            let task = support::local_task_on_a_worker(move || parked(probe2, guard)).await;
            yield_until("the local task is idle", || {
                probe.polling.load(Ordering::SeqCst) && task.info().state == TaskState::Idle
            })
            .await;
            assert!(task.cancel());
            assert_cancelled(task.await);
        });
        assert!(!probe.past_cancel_point.load(Ordering::SeqCst));
        counters.assert_all_dropped_once();
        assert_eq!(counters.drop_threads(), [probe.poll_thread()]);
        assert_ne!(probe.poll_thread(), thread::current().id());
    }

    fn cancel_running_local_task_on_a_worker(flavor: Flavor) {
        if !flavor.is_multi_thread() {
            return; // No workers: covered by cancel_while_running_on_another_thread.
        }
        let rt = flavor.runtime();
        let counters = Counters::recording_threads();
        let probe = Arc::new(Probe::default());
        rt.block_on(async {
            let (probe2, guard) = (probe.clone(), counters.guard());
            let task = support::local_task_on_a_worker(move || spinner(probe2, guard)).await;
            cancel_while_running(task, probe.clone(), counters.clone()).await;
        });
    }

    fn cancelling_a_task_detaches_the_tasks_it_awaits(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<u32>();
            let (done_tx, done_rx) = oneshot::channel::<u32>();
            let inner = create_task(async move {
                let value = rx.await.unwrap();
                done_tx.send(value).unwrap();
            });
            let outer = create_task(async move { inner.await.unwrap() });
            yield_until("the outer task waits", || outer.info().state == TaskState::Idle).await;
            assert!(outer.cancel());
            assert_cancelled(outer.await);
            // The inner task lost its handle but not its life.
            tx.send(9).unwrap();
            assert_eq!(done_rx.await.unwrap(), 9);
        });
    }

    fn cancel_racing_completion(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let rounds = if cfg!(debug_assertions) { 2_000 } else { 20_000 };
        let (mut values, mut cancels) = (0, 0);
        rt.block_on(async {
            for i in 0..rounds {
                let task = create_task(counters.track(async move {
                    if i % 2 == 0 {
                        yield_now().await;
                    }
                    i
                }));
                if i % 3 == 0 {
                    yield_now().await;
                }
                let requested = task.cancel();
                match task.await {
                    Ok(value) => {
                        assert_eq!(value, i);
                        values += 1;
                    }
                    Err(err) => {
                        assert!(err.is_cancelled(), "{err:?}");
                        assert!(requested, "Cancelled although cancel() returned false");
                        cancels += 1;
                    }
                }
            }
        });
        assert_eq!(values + cancels, rounds);
        assert!(cancels > 0);
        counters.assert_all_dropped_once();
    }
}

#[test]
fn a_send_task_is_cancelled_on_the_spot_from_any_thread() {
    let _watchdog = support::Watchdog::start("cancel_on_the_spot", support::WATCHDOG);
    let rt = ringloop::Runtime::builder()
        .worker_threads(1)
        .build()
        .unwrap();
    let counters = Counters::recording_threads();
    let probe = Arc::new(Probe::default());
    let task = rt.spawn(parked(probe.clone(), counters.guard()));
    wait_until("the task is idle", || {
        probe.polling.load(Ordering::SeqCst) && task.info().state == TaskState::Idle
    });
    // From a thread that is not part of the runtime at all.
    thread::scope(|scope| {
        scope.spawn(|| {
            assert!(task.cancel());
            assert!(task.is_cancelled());
            assert_eq!(counters.drop_threads(), [thread::current().id()]);
        });
    });
    assert_cancelled(support::block_on_thread(task));
    counters.assert_all_dropped_once();
}

#[test]
fn a_send_task_of_a_single_threaded_runtime_is_cancelled_on_the_spot_from_any_thread() {
    let _watchdog = support::Watchdog::start("single_threaded_cancel", support::WATCHDOG);
    let rt = ringloop::Runtime::builder()
        .single_threaded()
        .build()
        .unwrap();
    let counters = Counters::recording_threads();
    let probe = Arc::new(Probe::default());
    let task = rt.spawn(parked(probe.clone(), counters.guard()));
    rt.block_on(yield_until("the task is idle", || {
        probe.polling.load(Ordering::SeqCst) && task.info().state == TaskState::Idle
    }));
    // Nobody drives the runtime now; another thread cancels the task.
    thread::scope(|scope| {
        scope.spawn(|| {
            assert!(task.cancel());
            assert!(
                task.is_cancelled(),
                "the idle Send task was not cancelled on the spot"
            );
            assert_eq!(counters.drop_threads(), [thread::current().id()]);
        });
    });
    assert_cancelled(support::block_on_thread(task));
    counters.assert_all_dropped_once();
}
