//! Threads meet at a `Barrier` for many rounds: one leader per round, and nobody passes a
//! round before everyone arrived. `Event` rounds ride along: one setter, many waiters.
#![cfg(not(loom))]

mod support;

use ringloop_sync::{Barrier, Event};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use support::{block_on, scaled};

#[test]
fn rounds_have_one_leader_and_no_early_leavers() {
    const THREADS: u64 = 4;
    let rounds = scaled(10_000) as u64;
    let barrier = Arc::new(Barrier::new(THREADS as usize));
    let arrivals = Arc::new(AtomicU64::new(0));
    let leaders = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (barrier, arrivals, leaders) = (barrier.clone(), arrivals.clone(), leaders.clone());
            thread::spawn(move || {
                for round in 0..rounds {
                    arrivals.fetch_add(1, Ordering::SeqCst);
                    if block_on(barrier.wait()).is_leader() {
                        leaders.fetch_add(1, Ordering::SeqCst);
                    }
                    // Everyone arrived for this round before anyone left it.
                    assert!(arrivals.load(Ordering::SeqCst) >= THREADS * (round + 1));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(leaders.load(Ordering::SeqCst), rounds);
    assert_eq!(barrier.n_waiting(), 0);
}

#[test]
fn event_rounds_release_every_waiter() {
    const WAITERS: u64 = 3;
    let rounds = scaled(5_000) as u64;
    let events: Arc<Vec<Event>> = Arc::new((0..rounds).map(|_| Event::new()).collect());
    let released = Arc::new(AtomicU64::new(0));
    let waiters: Vec<_> = (0..WAITERS)
        .map(|_| {
            let (events, released) = (events.clone(), released.clone());
            thread::spawn(move || {
                for ev in events.iter() {
                    block_on(ev.wait());
                    released.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for (i, ev) in events.iter().enumerate() {
        ev.set();
        if i % 2 == 0 {
            ev.clear(); // a waiter already registered must still be released
            ev.set();
        }
    }
    for w in waiters {
        w.join().unwrap();
    }
    assert_eq!(released.load(Ordering::SeqCst), WAITERS * rounds);
}
