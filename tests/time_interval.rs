//! `interval` through the runtime, on every flavour: ticks at exact multiples of the period
//! from the start (the first at once), never before their instant; a consumer that stalls
//! gets one late tick and then the next one still ahead, without a burst of missed ones; and
//! `interval_at` waits for its start.

#[macro_use]
mod support;

use ringloop::create_task;
use ringloop::time::{interval, interval_at};
use std::time::{Duration, Instant};

const PERIOD: Duration = Duration::from_millis(10);

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
                assert_eq!(tick, first + PERIOD * k as u32, "tick {k} is on the grid");
                assert!(
                    observed >= tick,
                    "tick {k} came {:?} early",
                    tick - observed
                );
            }
            let lateness: Vec<_> = seen.iter().map(|&(tick, seen)| seen - tick).collect();
            eprintln!("time_interval {flavor:?}: tick lateness {lateness:?}");
        });
    }

    fn a_stalled_consumer_gets_one_late_tick_then_skips_the_missed_ones(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let stalled = create_task(async {
                let start = Instant::now();
                let mut ticks = interval_at(start, PERIOD);
                assert_eq!(ticks.tick().await.unwrap(), start);
                assert_eq!(ticks.tick().await.unwrap(), start + PERIOD);
                // Miss three ticks or more: block the thread, as a long computation would.
                std::thread::sleep(PERIOD * 3 + PERIOD / 2);
                let stall_end = Instant::now();
                // The overdue tick comes at once ...
                let overdue = ticks.tick().await.unwrap();
                let after_overdue = Instant::now();
                assert_eq!(overdue, start + PERIOD * 2);
                // ... and the next is the first one still ahead when the overdue one was
                // taken: the missed ticks are skipped, not delivered in a burst.
                let next = ticks.tick().await.unwrap();
                let taken = Instant::now();
                (start, stall_end, after_overdue, next, taken)
            });
            let (start, stall_end, after_overdue, next, taken) =
                stalled.await.expect("the ticking task failed");
            let k = (next - start).as_nanos() / PERIOD.as_nanos();
            assert_eq!(
                next,
                start + PERIOD * k as u32,
                "the next tick is on the grid"
            );
            assert!(next > stall_end, "the next tick is after the stall");
            assert!(
                next - PERIOD <= after_overdue,
                "it is the first tick still ahead"
            );
            assert!(taken >= next, "and it does not come early");
            assert!(k >= 5, "ticks 3 and 4 were skipped (next is tick {k})");
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
}
