//! `interval` through the runtime, on every flavour: ticks at exact multiples of the period
//! from the start (the first at once), never before their instant; a consumer that stalls
//! gets one late tick and then the next one still ahead, without a burst of missed ones; and
//! `interval_at` waits for its start; a period too long to add to an instant
//! (`Duration::MAX`) ticks once and then never, instead of overflowing.

#[macro_use]
mod support;

use ringloop::time::{interval, interval_at};
use ringloop::{create_task, timeout};
use std::time::{Duration, Instant};

const PERIOD: Duration = Duration::from_millis(10);

/// Whether `tick` is `first` plus a whole number of periods.
fn on_the_grid(first: Instant, tick: Instant) -> bool {
    tick >= first && (tick - first).as_nanos() % PERIOD.as_nanos() == 0
}

/// Checks two consecutive ticks `a` (taken at `a_taken`) and `b`: `b` is the next instant of
/// the grid, unless the consumer was a period or more behind when it took `a`; then `b` is
/// the first instant still ahead at that time (ticks are skipped, never bunched up).
#[track_caller]
fn assert_next_tick(first: Instant, a: Instant, a_taken: Instant, b: Instant) {
    assert!(
        on_the_grid(first, b),
        "tick {b:?} is off the grid of {first:?}"
    );
    assert!(b > a, "ticks go forward");
    if b != a + PERIOD {
        assert!(
            b - PERIOD <= a_taken,
            "ticks were skipped though the consumer was not behind: {:?} after the previous",
            b - a
        );
    }
}

rt_test! {
    fn ticks_come_at_multiples_of_the_period(flavor: Flavor) {
        const TICKS: u32 = 6;
        let rt = flavor.runtime();
        rt.block_on(async {
            let ticking = create_task(async {
                let before = Instant::now();
                let mut ticks = interval(PERIOD);
                assert_eq!(ticks.period(), PERIOD);
                let mut seen = Vec::new();
                for _ in 0..TICKS {
                    let tick = ticks.tick().await.expect("tick");
                    seen.push((tick, Instant::now()));
                }
                (before, seen)
            });
            let (before, seen) = ticking.await.expect("the ticking task failed");
            let first = seen[0].0;
            assert!(first >= before, "the first tick is the interval's creation");
            assert!(
                seen[0].1 - before < Duration::from_millis(250),
                "the first tick is at once"
            );
            for (k, &(tick, observed)) in seen.iter().enumerate() {
                assert!(
                    observed >= tick,
                    "tick {k} came {:?} early",
                    tick - observed
                );
            }
            for pair in seen.windows(2) {
                assert_next_tick(first, pair[0].0, pair[0].1, pair[1].0);
            }
            let skipped = (seen[seen.len() - 1].0 - first).as_nanos() / PERIOD.as_nanos()
                - (seen.len() as u128 - 1);
            let lateness: Vec<_> = seen.iter().map(|&(tick, seen)| seen - tick).collect();
            eprintln!(
                "time_interval {flavor:?}: tick lateness {lateness:?}; {skipped} ticks skipped"
            );
        });
    }

    fn a_stalled_consumer_gets_one_late_tick_then_skips_the_missed_ones(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let stalled = create_task(async {
                let start = Instant::now();
                let mut ticks = interval_at(start, PERIOD);
                assert_eq!(ticks.tick().await.unwrap(), start);
                let before = ticks.tick().await.unwrap();
                let before_taken = Instant::now();
                // Miss three ticks or more: block the thread, as a long computation would.
                std::thread::sleep(PERIOD * 3 + PERIOD / 2);
                let stall_end = Instant::now();
                // The tick that came due during the stall is delivered ...
                let overdue = ticks.tick().await.unwrap();
                let overdue_taken = Instant::now();
                // ... and the next is the first one still ahead when the overdue one was
                // taken: the missed ticks are skipped, not delivered in a burst.
                let next = ticks.tick().await.unwrap();
                let next_taken = Instant::now();

                assert_next_tick(start, before, before_taken, overdue);
                assert!(
                    overdue < stall_end,
                    "the overdue tick was due during the stall"
                );
                assert_next_tick(start, overdue, overdue_taken, next);
                assert!(next > stall_end, "one tick from the stall, not a burst");
                assert!(
                    next - overdue >= PERIOD * 3,
                    "the ticks missed during the stall were skipped"
                );
                assert!(next_taken >= next, "and the next does not come early");
            });
            stalled.await.expect("the ticking task failed");
        });
    }

    fn interval_at_waits_for_its_start(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let waiting = create_task(async {
                let start = Instant::now() + Duration::from_millis(30);
                let mut ticks = interval_at(start, PERIOD);
                let first = ticks.tick().await.unwrap();
                (start, first, Instant::now())
            });
            let (start, first, observed) = waiting.await.expect("the ticking task failed");
            assert_eq!(first, start);
            assert!(
                observed >= start,
                "the first tick came {:?} early",
                start - observed
            );
        });
    }

    fn an_interval_of_duration_max_ticks_once_then_never(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let start = Instant::now();
            for mut ticks in [interval(Duration::MAX), interval_at(start, Duration::MAX)] {
                // The first tick is at once ...
                let first = timeout(Duration::from_secs(5), ticks.tick()).await;
                assert!(first.expect("the first tick is at once").unwrap() >= start);
                // ... and the next is too far ahead to come (the instant saturates).
                let second = timeout(Duration::from_millis(50), ticks.tick()).await;
                assert!(second.is_err(), "a second tick came: {second:?}");
                assert_eq!(ticks.period(), Duration::MAX);
            }
        });
    }
}
