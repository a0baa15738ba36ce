//! Packing on the multi-threaded runtime (`runtime/src/scheduler/multi_thread/packing.rs`):
//! light I/O load drifts onto one worker, and a burst of CPU work still spreads.

#[allow(unused_macros)]
mod support;

use ringloop::{create_task, gather, sleep, Runtime, WorkerMetrics};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The two tests measure where tasks run: they must not share the CPUs with each other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn polls(workers: &[WorkerMetrics]) -> Vec<u64> {
    workers.iter().map(|w| w.polls).collect()
}

#[test]
fn light_timer_load_gathers_on_one_worker() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _watchdog = support::Watchdog::start("light_timer_load", support::WATCHDOG);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    // Each task first spins for 2 ms, so that the second worker steals some of them (the
    // first is busy for over a millisecond): both workers start with timer tasks. Then each
    // wakes from its worker's timer wheel (the driver) every millisecond: far too little work
    // to overload anyone.
    let started_on = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let started_on = started_on.clone();
            rt.spawn(async move {
                let thread = std::thread::current().name().unwrap_or("").to_owned();
                started_on.lock().unwrap().push(thread);
                let spin_end = Instant::now() + Duration::from_millis(2);
                while Instant::now() < spin_end {
                    std::hint::spin_loop();
                }
                let end = Instant::now() + Duration::from_millis(600);
                while Instant::now() < end {
                    sleep(Duration::from_millis(1)).await.unwrap();
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let before = polls(&rt.metrics().workers);
    std::thread::sleep(Duration::from_millis(250));
    let after = rt.metrics();
    rt.block_on(async {
        for task in tasks {
            task.await.unwrap();
        }
    });
    let window: Vec<u64> = polls(&after.workers)
        .iter()
        .zip(&before)
        .map(|(a, b)| a - b)
        .collect();
    let total: u64 = window.iter().sum();
    let busiest = *window.iter().max().unwrap();
    let hand_overs: u64 = after.workers.iter().map(|w| w.hand_overs).sum();
    let started_on = started_on.lock().unwrap();
    assert!(
        started_on.iter().any(|t| t != &started_on[0]),
        "every task started on {}: nothing to gather",
        started_on[0]
    );
    assert!(total > 1000, "the timers hardly ran: {window:?}");
    assert!(hand_overs > 0, "no task was handed over: {after:?}");
    // Without hand-overs the tasks stay split between the workers (about half each).
    assert!(
        busiest * 100 >= total * 75,
        "polls per worker after 300 ms: {window:?}; expected one worker to run most of them"
    );
}

#[test]
fn a_burst_of_cpu_work_spreads_over_both_workers() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _watchdog = support::Watchdog::start("burst_spreads", support::WATCHDOG);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let start = rt.metrics();
    rt.block_on(async {
        create_task(async {
            let tasks = (0..200).map(|_| {
                create_task(async {
                    let end = Instant::now() + Duration::from_micros(500);
                    while Instant::now() < end {
                        std::hint::spin_loop();
                    }
                })
            });
            for result in gather(tasks).await {
                result.unwrap();
            }
        })
        .await
        .unwrap();
    });
    let end = rt.metrics();
    let ran: Vec<u64> = polls(&end.workers)
        .iter()
        .zip(polls(&start.workers))
        .map(|(a, b)| a - b)
        .collect();
    assert!(
        ran.iter().all(|&n| n >= 10),
        "polls per worker: {ran:?}; 200 tasks of 0.5 ms spawned at once must be shared"
    );
}
