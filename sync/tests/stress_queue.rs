//! Producers and consumers on several threads through a small bounded queue, with cancelled
//! puts and gets mixed in: every item arrives exactly once, in per-producer order, and
//! `join`/`shutdown` end the run.
#![cfg(not(loom))]

mod support;

use ringloop_sync::{LifoQueue, PriorityQueue, Queue, TryGetError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use support::{block_on, poll_or_cancel, scaled, Rng};

const PRODUCERS: u64 = 3;
const CONSUMERS: u64 = 3;

/// Item = producer * 1_000_000 + sequence number.
fn item(producer: u64, seq: u64) -> u64 {
    producer * 1_000_000 + seq
}

#[test]
fn fifo_items_arrive_exactly_once_in_producer_order() {
    let per_producer = scaled(30_000) as u64;
    let q = Arc::new(Queue::new(8));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(p + 1);
                for seq in 0..per_producer {
                    let value = item(p, seq);
                    loop {
                        if rng.one_in(4) {
                            // A put given up after one poll: the value was not queued; retry.
                            if let Some(result) = poll_or_cancel(q.put(value)) {
                                result.unwrap();
                                break;
                            }
                        } else if rng.one_in(4) {
                            if q.put_nowait(value).is_ok() {
                                break;
                            }
                        } else {
                            block_on(q.put(value)).unwrap();
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let q = q.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(c + 100);
                let mut got = Vec::new();
                loop {
                    let next = if rng.one_in(4) {
                        match poll_or_cancel(q.get()) {
                            Some(result) => result,
                            None => continue,
                        }
                    } else if rng.one_in(4) {
                        match q.get_nowait() {
                            Ok(v) => Ok(v),
                            Err(TryGetError::Empty) => continue,
                            Err(TryGetError::ShutDown) => break,
                        }
                    } else {
                        block_on(q.get())
                    };
                    match next {
                        Ok(v) => {
                            got.push(v);
                            q.task_done().unwrap();
                        }
                        Err(_) => break,
                    }
                }
                got
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    block_on(q.join()); // every item taken and marked done
    q.shutdown(false);
    let mut all = Vec::new();
    for c in consumers {
        let got = c.join().unwrap();
        // FIFO: each consumer sees each producer's items in increasing order.
        for p in 0..PRODUCERS {
            let mine: Vec<_> = got.iter().filter(|v| **v / 1_000_000 == p).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {p} reordered"
            );
        }
        all.extend(got);
    }
    all.sort_unstable();
    let mut want: Vec<u64> = (0..PRODUCERS)
        .flat_map(|p| (0..per_producer).map(move |s| item(p, s)))
        .collect();
    want.sort_unstable();
    assert_eq!(all.len(), want.len(), "items lost or duplicated");
    assert_eq!(all, want);
    assert!(q.empty());
    assert!(q.task_done().is_err());
}

/// An item that counts its drops.
struct Tracked(u64, Arc<AtomicU64>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn immediate_shutdown_mid_stream_accounts_for_every_item() {
    let per_producer = scaled(20_000) as u64;
    let q = Arc::new(Queue::new(4));
    let drops = Arc::new(AtomicU64::new(0));
    let accepted_so_far = Arc::new(AtomicU64::new(0));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (q, drops, accepted_so_far) = (q.clone(), drops.clone(), accepted_so_far.clone());
            thread::spawn(move || {
                let mut created = 0u64;
                for seq in 0..per_producer {
                    created += 1;
                    match block_on(q.put(Tracked(item(p, seq), drops.clone()))) {
                        Ok(()) => {
                            accepted_so_far.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(refused) => {
                            assert_eq!(refused.into_inner().0, item(p, seq), "item given back");
                            break;
                        }
                    }
                }
                created
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || {
                while let Ok(item) = block_on(q.get()) {
                    drop(item);
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    // Let half of the traffic through (a count, not a time), then shut down abruptly.
    let half = PRODUCERS * per_producer / 2;
    while accepted_so_far.load(Ordering::SeqCst) < half {
        thread::yield_now();
    }
    q.shutdown(true);
    let created: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
    for c in consumers {
        c.join().unwrap();
    }
    // Every item was dropped exactly once: taken by a consumer, dropped by the shutdown, or
    // handed back to its producer.
    assert_eq!(drops.load(Ordering::SeqCst), created);
    assert!(q.empty());
    // Every accepted item was either marked done or dropped by the shutdown: join is free and
    // the count is exactly zero.
    block_on(q.join());
    assert!(q.task_done().is_err());
}

#[test]
fn priority_and_lifo_queues_conserve_items() {
    let per_producer = scaled(10_000) as u64;
    let pq = Arc::new(PriorityQueue::new(16));
    let lq = Arc::new(LifoQueue::new(16));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (pq, lq) = (pq.clone(), lq.clone());
            thread::spawn(move || {
                for seq in 0..per_producer {
                    block_on(pq.put(item(p, seq))).unwrap();
                    block_on(lq.put(item(p, seq))).unwrap();
                }
            })
        })
        .collect();
    let total = PRODUCERS * per_producer;
    let consumer = {
        let (pq, lq) = (pq.clone(), lq.clone());
        thread::spawn(move || {
            let mut rng = Rng::new(5);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            while (a.len() as u64) < total || (b.len() as u64) < total {
                if (a.len() as u64) < total {
                    if rng.one_in(3) {
                        if let Some(v) = poll_or_cancel(pq.get()) {
                            a.push(v.unwrap());
                        }
                    } else {
                        a.push(block_on(pq.get()).unwrap());
                    }
                }
                if (b.len() as u64) < total {
                    b.push(block_on(lq.get()).unwrap());
                }
            }
            (a, b)
        })
    };
    for p in producers {
        p.join().unwrap();
    }
    let (mut a, mut b) = consumer.join().unwrap();
    a.sort_unstable();
    b.sort_unstable();
    let mut want: Vec<u64> = (0..PRODUCERS)
        .flat_map(|p| (0..per_producer).map(move |s| item(p, s)))
        .collect();
    want.sort_unstable();
    assert_eq!(a, want);
    assert_eq!(b, want);
}
