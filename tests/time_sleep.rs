//! `sleep` through the runtime, on every flavour: 1,000 sleeps of random length started
//! together complete in deadline order, never early, and late by little (the figures are
//! printed; only a generous bound is asserted, as the test machine is shared and loaded);
//! a `block_on` future that polls a sleep between `yield_now`s sees it fire; and a sleep whose
//! deadline has passed (`sleep(Duration::ZERO)`) yields once, like asyncio's `sleep(0)`.

#[macro_use]
mod support;

use ringloop::{create_task, gather, sleep, sleep_until, yield_now};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// Concurrent sleeps.
const SLEEPS: usize = 1_000;

/// The sleeps end 1 to 50 ms after their common start.
const SHORTEST: Duration = Duration::from_millis(1);
const LONGEST: Duration = Duration::from_millis(50);

/// Time given to spawning the tasks and registering their timers before the common start,
/// so that every sleep is registered before the first deadline and "started together".
const LEAD: Duration = Duration::from_millis(50);

/// The timer wheel's resolution: deadlines closer than this may fire in either order.
const RESOLUTION: Duration = Duration::from_millis(1);

/// What one sleeping task saw.
#[derive(Clone, Copy, Debug)]
struct Record {
    deadline: Instant,
    /// When the task first polled its sleep (registered its timer).
    registered: Instant,
    /// When the task resumed after the sleep.
    woke: Instant,
    /// The rank of its wake-up among all tasks.
    rank: usize,
}

/// Deterministic pseudo-random durations in `[SHORTEST, LONGEST]`.
fn durations(n: usize) -> Vec<Duration> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let span = (LONGEST - SHORTEST).as_micros() as u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            SHORTEST + Duration::from_micros(x % (span + 1))
        })
        .collect()
}

/// The `q` quantile of sorted durations.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

rt_test! {
    fn a_thousand_sleeps_complete_in_deadline_order(flavor: Flavor) {
        let rt = flavor.runtime();
        let records: Vec<Record> = rt.block_on(async {
            let start = Instant::now() + LEAD;
            let ranks = Arc::new(AtomicUsize::new(0));
            let tasks = durations(SLEEPS).into_iter().map(|duration| {
                let ranks = ranks.clone();
                create_task(async move {
                    let deadline = start + duration;
                    let registered = Instant::now();
                    sleep_until(deadline).await.expect("sleep");
                    let woke = Instant::now();
                    let rank = ranks.fetch_add(1, Ordering::SeqCst);
                    Record {
                        deadline,
                        registered,
                        woke,
                        rank,
                    }
                })
            });
            gather(tasks)
                .await
                .into_iter()
                .map(|r| r.expect("a sleeping task failed"))
                .collect()
        });

        for r in &records {
            assert!(
                r.woke >= r.deadline,
                "a sleep completed {:?} early",
                r.deadline - r.woke
            );
        }
        let mut lateness: Vec<Duration> = records.iter().map(|r| r.woke - r.deadline).collect();
        lateness.sort();
        let (p50, p99, max) = (
            quantile(&lateness, 0.5),
            quantile(&lateness, 0.99),
            lateness[SLEEPS - 1],
        );

        // Deadline order: going through the wake-ups in order, a sleep is out of order if one
        // that woke before it had a deadline later than its own by more than the resolution.
        // Sleeps first polled after their deadline (the machine stalled during the lead)
        // complete without a timer, after one yield, and are left out.
        let mut by_rank = records.clone();
        by_rank.sort_by_key(|r| r.rank);
        let late_registrations = records
            .iter()
            .filter(|r| r.registered >= r.deadline)
            .count();
        let mut latest: Option<Instant> = None;
        let (mut out_of_order, mut worst_inversion) = (0, Duration::ZERO);
        for r in by_rank.iter().filter(|r| r.registered < r.deadline) {
            if let Some(latest) = latest {
                if latest > r.deadline + RESOLUTION {
                    out_of_order += 1;
                    worst_inversion = worst_inversion.max(latest - r.deadline);
                }
            }
            latest = Some(latest.map_or(r.deadline, |l| l.max(r.deadline)));
        }
        eprintln!(
            "time_sleep {flavor:?}: {SLEEPS} sleeps of 1-50 ms, lateness p50 {p50:?} \
             p99 {p99:?} max {max:?}; {out_of_order} woke out of deadline order (worst by \
             {worst_inversion:?}); {late_registrations} registered after their deadline"
        );

        // Generous bounds. Deadline order within the resolution follows from "never early,
        // never late by more than the resolution"; on a loaded machine a worker is
        // descheduled for milliseconds at a time, its timers then fire late in one batch while
        // the other worker's fire on time, and sleeps are passed by others whose deadline is
        // later by at most their own lateness. Quiet runs show a median of tens of
        // microseconds and nothing out of order; a wheel that ignored deadlines would put
        // about half out of order, and one that fired a 64 ms slot late would be tens of
        // milliseconds late.
        assert!(p50 < Duration::from_millis(25), "median lateness {p50:?}");
        assert!(
            p99 < Duration::from_millis(250),
            "99th percentile lateness {p99:?}"
        );
        assert!(max < Duration::from_millis(500), "worst lateness {max:?}");
        assert!(
            out_of_order < SLEEPS / 2,
            "{out_of_order} of {SLEEPS} sleeps woke out of deadline order"
        );
    }

    // Regression: `block_on` neither polled nor parked its thread's ring while its future kept
    // waking itself and no task ran (fixed by "runtime: block_on polls its ring on every busy
    // pass").
    fn a_block_on_future_that_yields_in_a_loop_lets_its_sleep_fire(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let mut sleep = sleep(Duration::from_millis(5));
            let start = Instant::now();
            loop {
                let polled =
                    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut sleep).poll(cx))).await;
                if let Poll::Ready(done) = polled {
                    done.expect("sleep");
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(2),
                    "a 5 ms sleep did not fire in 2 s"
                );
                yield_now().await;
            }
        });
    }
}

/// Counts its wakes.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_sleep_already_due_wakes_itself_once_then_completes() {
    let past = Instant::now() - Duration::from_millis(1);
    for (what, sleep) in [
        ("sleep(ZERO)", sleep(Duration::ZERO)),
        ("sleep_until(the past)", sleep_until(past)),
    ] {
        // A plain thread: no driver is needed, as no timer is registered.
        let wakes = Arc::new(CountingWaker::default());
        let waker = Waker::from(wakes.clone());
        let mut cx = Context::from_waker(&waker);
        let mut sleep = pin!(sleep);
        assert!(
            sleep.as_mut().poll(&mut cx).is_pending(),
            "{what}: first poll"
        );
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "{what}: woke itself");
        assert!(!sleep.is_elapsed(), "{what}: not complete after the yield");
        assert!(
            matches!(sleep.as_mut().poll(&mut cx), Poll::Ready(Ok(()))),
            "{what}: second poll"
        );
        assert!(sleep.is_elapsed());
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "{what}: no other wake");
    }
}

/// Runs on a single-threaded runtime: `#[ringloop::test]`'s default flavour.
#[ringloop::test]
async fn sleep_zero_lets_the_other_ready_tasks_run_like_asyncio_sleep_0() {
    let past = Instant::now() - Duration::from_millis(1);
    let log = Arc::new(Mutex::new(Vec::new()));
    let record = |log: &Arc<Mutex<Vec<&'static str>>>, event| log.lock().unwrap().push(event);
    let sleeper = create_task({
        let log = log.clone();
        async move {
            record(&log, "sleeper starts");
            sleep(Duration::ZERO).await.unwrap();
            record(&log, "sleeper after sleep(0)");
            sleep_until(past).await.unwrap();
            record(&log, "sleeper after sleep_until(past)");
        }
    });
    let other = create_task({
        let log = log.clone();
        async move {
            record(&log, "other runs");
            yield_now().await;
            record(&log, "other runs again");
        }
    });
    sleeper.await.unwrap();
    other.await.unwrap();
    let order = log.lock().unwrap().clone();
    // One run queue, first in first out: each yield puts the task behind the other one.
    assert_eq!(
        order,
        [
            "sleeper starts",
            "other runs",
            "sleeper after sleep(0)",
            "other runs again",
            "sleeper after sleep_until(past)",
        ]
    );
}
