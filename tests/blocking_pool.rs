//! The blocking pool (asyncio's `to_thread` / `run_in_executor`): values and panics, the
//! runtime's handle inside a call, the thread cap, idle threads retiring, and shutdown that
//! waits for short calls, cancels queued ones, does not hang on a stuck one, and leaves the
//! runtime's handles without a pool; a keep-alive or shutdown timeout too long to add to an
//! instant (`Duration::MAX`) means "forever", without overflowing.

#[macro_use]
mod support;

use ringloop::{to_thread, Handle, Runtime, TaskError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};
use support::{block_on_thread, wait_until, PATIENCE};

fn runtime(max_threads: usize, keep_alive: Duration, shutdown_timeout: Duration) -> Runtime {
    Runtime::builder()
        .worker_threads(1)
        .max_blocking_threads(max_threads)
        .blocking_keep_alive(keep_alive)
        .blocking_shutdown_timeout(shutdown_timeout)
        .build()
        .unwrap()
}

/// Holds a pool thread inside a call until released.
fn blocker(
    rt: &Runtime,
) -> (
    mpsc::Sender<()>,
    Arc<AtomicBool>,
    ringloop::BlockingTask<()>,
) {
    let (release, wait) = mpsc::channel::<()>();
    let started = Arc::new(AtomicBool::new(false));
    let flag = started.clone();
    let task = rt.handle().run_in_executor(move || {
        flag.store(true, Ordering::SeqCst);
        let _ = wait.recv_timeout(PATIENCE);
    });
    wait_until("the blocking call starts", || {
        started.load(Ordering::SeqCst)
    });
    (release, started, task)
}

rt_test! {
    fn to_thread_gives_the_value_and_runs_off_the_runtime(flavor: Flavor) {
        let rt = flavor.runtime();
        let here = thread::current().id();
        let (value, thread, in_task) = rt
            .block_on(to_thread(move || {
                (6 * 7, thread::current().id(), ringloop::current_task().is_some())
            }))
            .unwrap();
        assert_eq!(value, 42);
        assert_ne!(thread, here);
        assert!(!in_task, "a blocking call is not a task");
    }

    fn the_runtime_is_current_inside_a_blocking_call(flavor: Flavor) {
        let rt = flavor.runtime();
        let driver = thread::current().id();
        // From inside the call: the handle, and a task spawned through it and through
        // `create_task`, both run by the runtime (on the single-threaded one, by this thread).
        let (spawned, created) = rt
            .block_on(to_thread(|| {
                let handle = Handle::current();
                let report =
                    || async { (thread::current().id(), ringloop::current_task().is_some()) };
                (handle.spawn(report()), ringloop::create_task(report()))
            }))
            .unwrap();
        let (spawned, created) =
            rt.block_on(async { (spawned.await.unwrap(), created.await.unwrap()) });
        for (thread, in_task) in [spawned, created] {
            assert!(in_task);
            if !flavor.is_multi_thread() {
                assert_eq!(thread, driver);
            }
        }
        // The handle is this runtime's: with one pool thread, a call made through it runs on
        // the thread of the call that made it.
        let mut builder = Runtime::builder();
        match flavor.workers() {
            0 => builder.single_threaded(),
            n => builder.worker_threads(n),
        };
        let cap = builder.max_blocking_threads(1).build().unwrap();
        let nested = cap
            .block_on(to_thread(|| Handle::current().run_in_executor(|| thread::current().id())))
            .unwrap();
        let first = cap.block_on(nested).unwrap();
        assert_eq!(cap.block_on(to_thread(|| thread::current().id())).unwrap(), first);
    }

    fn a_blocking_call_may_block_on_another_runtime(flavor: Flavor) {
        let rt = flavor.runtime();
        let (inner, still_current) = rt
            .block_on(to_thread(|| {
                let other = Runtime::builder().single_threaded().build().unwrap();
                let inner =
                    other.block_on(async { ringloop::create_task(async { 5 }).await.unwrap() });
                drop(other);
                // The pool's runtime is current again afterwards.
                (inner, ringloop::create_task(async { 6 }))
            }))
            .unwrap();
        assert_eq!(inner, 5);
        assert_eq!(rt.block_on(still_current).unwrap(), 6);
    }

    fn the_pool_is_not_a_task(flavor: Flavor) {
        let rt = flavor.runtime();
        let names = rt.block_on(async {
            to_thread(|| ()).await.unwrap();
            ringloop::all_tasks().into_iter().map(|info| info.name).collect::<Vec<_>>()
        });
        assert!(names.is_empty(), "tasks alive after the call: {names:?}");
    }

    fn a_panic_reaches_the_awaiting_task(flavor: Flavor) {
        let rt = flavor.runtime();
        let err = rt
            .block_on(async { ringloop::create_task(to_thread(|| panic!("blocking boom"))).await.unwrap() })
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.to_string(), "task panicked: blocking boom");
        // The pool still works.
        assert_eq!(rt.block_on(to_thread(|| 1)).unwrap(), 1);
    }

    fn many_calls_from_many_tasks(flavor: Flavor) {
        let rt = flavor.runtime();
        let total = rt.block_on(async {
            let tasks = (0..64u64).map(|i| ringloop::create_task(async move {
                to_thread(move || i * 2).await.unwrap()
            }));
            ringloop::gather(tasks).await.into_iter().map(Result::unwrap).sum::<u64>()
        });
        assert_eq!(total, (0..64).map(|i| i * 2).sum());
    }
}

#[test]
fn at_most_max_blocking_threads_calls_run_at_once() {
    let rt = runtime(2, Duration::from_secs(10), Duration::from_secs(10));
    let (running, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    rt.block_on(async {
        let calls = (0..8).map(|_| {
            let (running, peak) = (running.clone(), peak.clone());
            to_thread(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(10));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        });
        for out in ringloop::gather(calls).await {
            out.unwrap();
        }
    });
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=2).contains(&peak), "peak concurrency {peak}");
}

#[test]
fn an_idle_thread_is_reused_then_retires_after_keep_alive() {
    let rt = runtime(1, Duration::from_millis(30), Duration::from_secs(10));
    let id = || rt.block_on(to_thread(|| thread::current().id())).unwrap();
    // One thread at most: back-to-back calls use the same one.
    let first = id();
    assert_eq!(id(), first);
    // Once it has been idle for longer than keep_alive it exits, and the next call gets a
    // new thread (thread ids are never reused). Retry: on a loaded machine the retiring
    // thread may be late to notice its timeout.
    let deadline = Instant::now() + PATIENCE;
    let mut last: ThreadId = first;
    while last == first {
        assert!(
            Instant::now() < deadline,
            "the idle blocking thread never retired"
        );
        thread::sleep(Duration::from_millis(100));
        last = id();
    }
}

#[test]
fn a_keep_alive_of_duration_max_keeps_an_idle_thread_forever() {
    let rt = runtime(1, Duration::MAX, Duration::from_millis(100));
    let id = || {
        rt.block_on(ringloop::wait_for(
            to_thread(|| thread::current().id()),
            PATIENCE,
        ))
        .expect("a blocking call on an idle thread never ran")
        .unwrap()
    };
    let first = id();
    // Let the thread go idle (its keep-alive starts), then give it another call.
    thread::sleep(Duration::from_millis(50));
    assert_eq!(id(), first);
}

#[test]
fn a_shutdown_timeout_of_duration_max_waits_for_the_threads() {
    let rt = runtime(1, Duration::from_secs(10), Duration::MAX);
    rt.block_on(to_thread(|| ())).unwrap();
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    let call = rt.handle().run_in_executor(move || {
        thread::sleep(Duration::from_millis(50));
        flag.store(true, Ordering::SeqCst);
    });
    drop(rt);
    assert!(
        finished.load(Ordering::SeqCst),
        "drop did not wait for the call"
    );
    block_on_thread(call).unwrap();
}

#[test]
fn dropping_the_runtime_waits_for_short_calls() {
    let rt = runtime(4, Duration::from_secs(10), Duration::from_secs(30));
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    let started = Arc::new(AtomicBool::new(false));
    let start_flag = started.clone();
    let call = rt.handle().run_in_executor(move || {
        start_flag.store(true, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(100));
        flag.store(true, Ordering::SeqCst);
    });
    wait_until("the call starts", || started.load(Ordering::SeqCst));
    drop(rt);
    assert!(
        finished.load(Ordering::SeqCst),
        "drop did not wait for the running call"
    );
    // The awaiting side is told the call finished.
    block_on_thread(call).unwrap();
}

#[test]
fn dropping_the_runtime_does_not_hang_on_a_stuck_call_and_cancels_queued_ones() {
    let rt = runtime(1, Duration::from_secs(10), Duration::from_millis(100));
    let (release, _started, stuck) = blocker(&rt);
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let queued = rt
        .handle()
        .run_in_executor(move || flag.store(true, Ordering::SeqCst));
    let dropping = Instant::now();
    drop(rt);
    let took = dropping.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "drop waited {took:?} for a stuck call"
    );
    // The queued call never ran; its awaiter is told so.
    assert!(matches!(block_on_thread(queued), Err(TaskError::Cancelled)));
    assert!(!ran.load(Ordering::SeqCst));
    // The stuck call finishes on its own once released.
    release.send(()).unwrap();
    block_on_thread(stuck).unwrap();
}

#[test]
fn a_queued_call_whose_task_was_dropped_is_skipped() {
    let rt = runtime(1, Duration::from_secs(10), Duration::from_secs(10));
    let (release, _started, stuck) = blocker(&rt);
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    drop(
        rt.handle()
            .run_in_executor(move || flag.store(true, Ordering::SeqCst)),
    );
    let after = rt.handle().run_in_executor(|| 3);
    release.send(()).unwrap();
    // Calls run in order on the one thread: once `after` ran, the dropped one was skipped.
    assert_eq!(rt.block_on(after).unwrap(), 3);
    rt.block_on(stuck).unwrap();
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn a_handle_that_outlives_its_runtime_reaches_no_pool() {
    let rt = runtime(4, Duration::from_secs(10), Duration::from_secs(10));
    let handle = rt.handle().clone();
    assert_eq!(rt.block_on(handle.run_in_executor(|| 1)).unwrap(), 1);
    drop(rt);
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let late = handle.run_in_executor(move || flag.store(true, Ordering::SeqCst));
    assert!(matches!(block_on_thread(late), Err(TaskError::Cancelled)));
    assert!(!ran.load(Ordering::SeqCst));
}

#[test]
fn a_call_that_drops_its_own_runtime_does_not_wait_for_itself() {
    let rt = runtime(2, Duration::from_secs(10), Duration::from_secs(30));
    let handle = rt.handle().clone();
    let call = handle.run_in_executor(move || {
        let dropping = Instant::now();
        drop(rt);
        dropping.elapsed()
    });
    let took = block_on_thread(call).unwrap();
    assert!(
        took < Duration::from_secs(10),
        "the drop waited {took:?} for the call it ran in"
    );
}

#[test]
fn each_runtime_has_its_own_pool() {
    let narrow = runtime(1, Duration::from_secs(10), Duration::from_secs(10));
    let wide = runtime(4, Duration::from_secs(10), Duration::from_secs(10));
    // Fill the narrow pool; the wide one still runs calls.
    let (release, _started, stuck) = blocker(&narrow);
    assert_eq!(wide.block_on(to_thread(|| 5)).unwrap(), 5);
    release.send(()).unwrap();
    narrow.block_on(stuck).unwrap();
}

#[test]
fn a_zero_thread_cap_is_refused() {
    let err = Runtime::builder()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_blocking_threads"), "{err}");
}

#[test]
fn to_thread_starts_when_first_polled_and_only_inside_a_runtime() {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    let call = to_thread(move || flag.store(true, Ordering::SeqCst));
    thread::sleep(Duration::from_millis(20));
    assert!(
        !ran.load(Ordering::SeqCst),
        "the call started before it was polled"
    );
    drop(call);
    let message = support::expect_panic(|| block_on_thread(to_thread(|| ())));
    assert!(message.contains("inside a ringloop runtime"), "{message}");
}

#[test]
fn blocking_task_is_send_sync_and_unpin() {
    fn assert_all<T: Send + Sync + Unpin>() {}
    assert_all::<ringloop::BlockingTask<u32>>();
}
