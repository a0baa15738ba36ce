//! `timeout` through the runtime, on every flavour: at the deadline the inner future is
//! dropped, exactly once, before the `Timeout` itself is; an inner future that finishes first
//! gives its output; a future ready at once wins over a zero timeout; nested timeouts end at
//! the earlier deadline; a timed-out `Task` handle only detaches its task; and durations or
//! deadlines too far ahead to add to an instant mean "never", without overflowing.

#[macro_use]
mod support;

use ringloop::time::{sleep_until, timeout_at};
use ringloop::{create_task, sleep, timeout};
use std::future::pending;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::counting::Counters;
use support::oneshot;

const DEADLINE: Duration = Duration::from_millis(20);

rt_test! {
    fn the_inner_future_is_dropped_once_at_the_deadline(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        let task = {
            let counters = counters.clone();
            rt.spawn(async move {
                let mut timed = pin!(timeout(DEADLINE, counters.track(pending::<()>())));
                let start = Instant::now();
                let elapsed = timed
                    .as_mut()
                    .await
                    .expect_err("the inner future never ends");
                assert!(
                    start.elapsed() >= DEADLINE,
                    "elapsed early: {:?}",
                    start.elapsed()
                );
                assert!(elapsed.cause().is_none(), "a real timeout: {elapsed}");
                // Dropped by the poll that saw the deadline, not later with the `Timeout`.
                assert_eq!(
                    counters.dropped(),
                    1,
                    "the inner future is dropped at the deadline"
                );
                assert!(counters.polls() >= 1);
            })
        };
        rt.block_on(task).expect("the timing-out task failed");
        counters.assert_all_dropped_once();
    }

    fn an_inner_future_that_finishes_first_gives_its_output(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let inner = counters.track(async {
                sleep(Duration::from_millis(5)).await.unwrap();
                42
            });
            let out = timeout(Duration::from_secs(30), inner).await;
            assert_eq!(out.expect("finished first"), 42);
            assert!(start.elapsed() < Duration::from_secs(10));
            // A future ready at its first poll wins even over a zero timeout; one that is not
            // loses at once.
            assert_eq!(timeout(Duration::ZERO, async { 7 }).await.unwrap(), 7);
            let start = Instant::now();
            assert!(timeout(Duration::ZERO, pending::<()>()).await.is_err());
            assert!(start.elapsed() < Duration::from_secs(10));
        });
        counters.assert_all_dropped_once();
    }

    fn nested_timeouts_end_at_the_earlier_deadline(flavor: Flavor) {
        let rt = flavor.runtime();
        let counters = Counters::new();
        rt.block_on(async {
            let start = Instant::now();
            let inner = timeout(DEADLINE, counters.track(pending::<()>()));
            let outer = timeout(Duration::from_secs(30), inner).await;
            let inner = outer.expect("the outer timeout has the later deadline");
            assert!(inner.is_err(), "the inner timeout elapsed");
            assert!(start.elapsed() >= DEADLINE);
            assert!(start.elapsed() < Duration::from_secs(10));
        });
        counters.assert_all_dropped_once();
    }

    fn a_timed_out_task_handle_detaches_its_task(flavor: Flavor) {
        let rt = flavor.runtime();
        let finished = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            let (release, released) = oneshot::channel::<()>();
            let task = create_task({
                let finished = finished.clone();
                async move {
                    released.await.unwrap();
                    finished.store(true, Ordering::SeqCst);
                }
            });
            let id = task.id();
            // Dropping a `Task` handle detaches the task (asyncio's `wait_for` would cancel it;
            // here cancelling is explicit, with `Task::cancel`).
            assert!(timeout(DEADLINE, task).await.is_err());
            assert!(
                ringloop::all_tasks().iter().any(|t| t.id == id),
                "still alive"
            );
            release.send(()).unwrap();
            io_wait(|| finished.load(Ordering::SeqCst)).await;
        });
    }

    fn timeouts_of_duration_max_never_fire(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            // The inner future still gives its output.
            assert_eq!(timeout(Duration::MAX, async { 7 }).await.unwrap(), 7);
            // Neither the far timer nor the near one around it overflows; the near one fires.
            let forever = timeout(Duration::MAX, pending::<()>());
            assert!(timeout(Duration::from_millis(50), forever).await.is_err());
            let far = Instant::now() + Duration::from_secs(1000 * 365 * 86_400);
            let far_deadline = timeout_at(far, sleep_until(far));
            assert!(timeout(Duration::from_millis(50), far_deadline).await.is_err());
            assert!(timeout(Duration::from_millis(50), sleep(Duration::MAX)).await.is_err());
        });
    }
}

/// Waits (sleeping, so that the thread's ring keeps turning) until `condition` holds.
async fn io_wait(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + support::PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting");
        sleep(Duration::from_millis(1)).await.unwrap();
    }
}
