//! Threads acquire random numbers of permits, some cancelling half-way; the permits in use
//! never exceed the total and all come back.
#![cfg(not(loom))]

mod support;

use ringloop_sync::{BoundedSemaphore, Semaphore};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use support::{block_on, poll_or_cancel, scaled, Rng};

const PERMITS: u64 = 5;
const THREADS: u64 = 4;

#[test]
fn permits_are_conserved_under_contention_and_cancellation() {
    let iterations = scaled(20_000);
    let sem = Arc::new(Semaphore::new(PERMITS as usize));
    let in_use = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (sem, in_use) = (sem.clone(), in_use.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(t + 7);
                for _ in 0..iterations {
                    let n = rng.between_1_and(PERMITS);
                    let permit = if rng.one_in(4) {
                        match poll_or_cancel(sem.acquire_many(n as usize)) {
                            Some(p) => p,
                            None => continue,
                        }
                    } else {
                        block_on(sem.acquire_many(n as usize))
                    };
                    let now = in_use.fetch_add(n, Ordering::SeqCst) + n;
                    assert!(now <= PERMITS, "{now} permits in use");
                    in_use.fetch_sub(n, Ordering::SeqCst);
                    drop(permit);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.available_permits(), PERMITS as usize);
}

#[test]
fn owned_permits_forgotten_and_released_respect_the_bound() {
    let iterations = scaled(20_000);
    let sem = Arc::new(BoundedSemaphore::new(PERMITS as usize));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let sem = sem.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(t + 31);
                for _ in 0..iterations {
                    let permit = block_on(sem.clone().acquire_owned());
                    if rng.one_in(2) {
                        // asyncio style: acquire, then release by hand.
                        permit.forget();
                        sem.release(1).unwrap();
                    } else {
                        drop(permit);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(sem.available_permits(), PERMITS as usize);
    assert!(sem.release(1).is_err());
}
