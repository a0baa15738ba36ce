//! Stress test of the wake-up protocol: several threads unpark one parking driver many
//! times, each waiting for the driver to acknowledge before its next unpark. A lost wake-up
//! leaves the driver parked with no timeout, which the watchdog reports.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use ringloop_io::{Driver, DriverConfig};

const UNPARKERS: usize = 3;
const ROUNDS: u64 = if cfg!(debug_assertions) {
    3_000
} else {
    20_000
};

#[test]
fn no_lost_wake_ups() {
    let requests: Arc<Vec<AtomicU64>> =
        Arc::new((0..UNPARKERS).map(|_| AtomicU64::new(0)).collect());
    let acks: Arc<Vec<AtomicU64>> = Arc::new((0..UNPARKERS).map(|_| AtomicU64::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));
    let (unparker_tx, unparker_rx) = std::sync::mpsc::channel();

    let parker = thread::spawn({
        let (requests, acks, done) = (requests.clone(), acks.clone(), done.clone());
        move || {
            let driver = Driver::new(&DriverConfig::new()).unwrap();
            unparker_tx.send(driver.unparker()).unwrap();
            let mut parks = 0u64;
            while !done.load(Ordering::SeqCst) {
                // No timeout: only an unpark can end this park.
                driver.park(None).unwrap();
                parks += 1;
                for (request, ack) in requests.iter().zip(acks.iter()) {
                    ack.store(request.load(Ordering::SeqCst), Ordering::SeqCst);
                }
            }
            parks
        }
    });
    let unparker = unparker_rx.recv().unwrap();

    let workers: Vec<_> = (0..UNPARKERS)
        .map(|i| {
            let (requests, acks, unparker) = (requests.clone(), acks.clone(), unparker.clone());
            thread::spawn(move || {
                for round in 1..=ROUNDS {
                    requests[i].store(round, Ordering::SeqCst);
                    unparker.unpark();
                    let start = Instant::now();
                    while acks[i].load(Ordering::SeqCst) < round {
                        assert!(
                            start.elapsed() < Duration::from_secs(10),
                            "lost wake-up: unparker {i} round {round} never acknowledged"
                        );
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    unparker.unpark();
    let parks = parker.join().unwrap();
    assert!(
        parks >= ROUNDS,
        "every round needed a park to return: {parks}"
    );
}

#[test]
fn unpark_of_a_running_driver_costs_no_syscall_and_is_not_lost() {
    // A running driver (never parked) absorbs any number of unparks into one notification.
    let driver = Driver::new(&DriverConfig::new()).unwrap();
    let unparker = driver.unparker();
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    unparker.unpark();
                }
            });
        }
    });
    let start = Instant::now();
    driver.park(None).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
}
