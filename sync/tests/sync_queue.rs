//! Queue, LifoQueue, PriorityQueue: ordering, bounds, fairness, cancel safety, task_done/join
//! and Python 3.13 shutdown.
#![cfg(not(loom))]

mod support;

use ringloop_sync::{LifoQueue, PriorityQueue, Queue, QueueShutDown, TryGetError, TryPutError};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use support::Task;

/// An item that counts its drops, so a lost or doubly dropped item shows.
#[derive(Debug)]
struct Item(u32, Arc<AtomicUsize>);

impl Drop for Item {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

fn drops(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Ordering::SeqCst)
}

#[test]
fn orders_of_the_three_kinds() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for x in [3, 1, 2] {
        fifo.put_nowait(x).unwrap();
        lifo.put_nowait(x).unwrap();
        prio.put_nowait(x).unwrap();
    }
    let drain = |f: &dyn Fn() -> Result<i32, TryGetError>| -> Vec<i32> {
        std::iter::from_fn(|| f().ok()).collect()
    };
    assert_eq!(drain(&|| fifo.get_nowait()), [3, 1, 2]);
    assert_eq!(drain(&|| lifo.get_nowait()), [2, 1, 3]);
    assert_eq!(drain(&|| prio.get_nowait()), [1, 2, 3]);
}

#[test]
fn sizes_and_bounds() {
    let q = Queue::new(2);
    assert!(q.empty() && !q.full());
    assert_eq!(q.maxsize(), 2);
    q.put_nowait('a').unwrap();
    q.put_nowait('b').unwrap();
    assert!(q.full());
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.put_nowait('c'), Err(TryPutError::Full('c')));
    let unbounded = Queue::new(0);
    for i in 0..1000 {
        unbounded.put_nowait(i).unwrap();
    }
    assert!(!unbounded.full());
}

#[test]
fn get_waits_for_put_and_getters_are_served_in_order() {
    let q = Queue::new(0);
    let mut a = Task::new(q.get());
    let mut b = Task::new(q.get());
    a.pending();
    b.pending();
    q.put_nowait(1).unwrap();
    assert!(a.woken() && !b.woken());
    // The item is promised to `a`: a newcomer cannot take it.
    assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    assert_eq!(q.qsize(), 1);
    q.put_nowait(2).unwrap();
    assert!(b.woken());
    // A reservation is for "an item", not a particular one: whoever of the woken getters
    // runs first takes the oldest item.
    assert_eq!(b.ready(), Ok(1));
    assert_eq!(a.ready(), Ok(2));
}

#[test]
fn put_waits_while_full_and_putters_are_served_in_order() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = Task::new(q.put(1));
    let mut b = Task::new(q.put(2));
    a.pending();
    b.pending();
    assert_eq!(q.get_nowait(), Ok(0));
    assert!(a.woken() && !b.woken());
    // The place is promised to `a`.
    assert_eq!(q.put_nowait(9), Err(TryPutError::Full(9)));
    a.ready().unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
    b.ready().unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn dropped_notified_getter_passes_its_item_to_the_next_getter() {
    let counter = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    let mut a = Task::new(q.get());
    let mut b = Task::new(q.get());
    a.pending();
    b.pending();
    q.put_nowait(Item(1, counter.clone())).unwrap();
    assert!(a.woken());
    drop(a);
    assert_eq!(
        drops(&counter),
        0,
        "the item was not dropped with the getter"
    );
    assert!(b.woken());
    let item = b.ready().unwrap();
    assert_eq!(item.0, 1);
}

#[test]
fn dropped_notified_getter_leaves_its_item_in_the_queue() {
    let q = Queue::new(0);
    let mut a = Task::new(q.get());
    a.pending();
    q.put_nowait(1).unwrap();
    drop(a);
    assert_eq!(q.get_nowait(), Ok(1));
}

#[test]
fn dropped_queued_or_unpolled_getters_take_nothing() {
    let q = Queue::new(0);
    drop(q.get());
    let mut a = Task::new(q.get());
    let mut b = Task::new(q.get());
    a.pending();
    b.pending();
    drop(a);
    q.put_nowait(1).unwrap();
    assert!(b.woken());
    assert_eq!(b.ready(), Ok(1));
}

#[test]
fn dropped_notified_putter_passes_its_place_on() {
    let counter = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(1);
    q.put_nowait(Item(0, counter.clone())).unwrap();
    let mut a = Task::new(q.put(Item(1, counter.clone())));
    let mut b = Task::new(q.put(Item(2, counter.clone())));
    a.pending();
    b.pending();
    drop(q.get_nowait().unwrap());
    assert!(a.woken());
    drop(a); // its item was never in the queue: dropped with it
    assert_eq!(drops(&counter), 2);
    assert!(b.woken());
    b.ready().unwrap();
    assert_eq!(q.get_nowait().unwrap().0, 2);
    assert_eq!(drops(&counter), 3);
}

#[test]
fn dropping_an_unpolled_put_drops_only_its_own_item() {
    let counter = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(1);
    drop(q.put(Item(1, counter.clone())));
    assert_eq!(drops(&counter), 1);
    assert!(q.empty());
}

#[test]
fn task_done_and_join() {
    let q = Queue::new(0);
    Task::new(q.join()).ready(); // nothing put yet
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let mut j = Task::new(q.join());
    let mut dropped = Task::new(q.join());
    j.pending();
    dropped.pending();
    drop(dropped);
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert!(!j.woken());
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert!(j.woken());
    j.ready();
    assert!(q.task_done().is_err(), "too many task_done calls");
}

#[test]
fn shutdown_fails_puts_and_drains_gets() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let mut blocked_put = Task::new(q.put(2));
    blocked_put.pending();
    q.shutdown(false);
    assert!(q.is_shut_down());
    assert!(blocked_put.woken());
    assert_eq!(
        blocked_put.ready(),
        Err(QueueShutDown(2)),
        "item given back"
    );
    assert_eq!(Task::new(q.put(3)).ready(), Err(QueueShutDown(3)));
    assert!(q.put_nowait(4).unwrap_err().is_shut_down());
    assert_eq!(Task::new(q.get()).ready(), Ok(1), "remaining items drain");
    assert_eq!(Task::new(q.get()).ready(), Err(QueueShutDown(())));
    assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
}

#[test]
fn shutdown_wakes_blocked_getters() {
    let q: Queue<u8> = Queue::new(0);
    let mut a = Task::new(q.get());
    let mut b = Task::new(q.get());
    a.pending();
    b.pending();
    q.shutdown(false);
    assert!(a.woken() && b.woken());
    assert!(a.ready().is_err());
    assert!(b.ready().is_err());
}

#[test]
fn immediate_shutdown_drops_items_and_releases_join() {
    let counter = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    for i in 0..3 {
        q.put_nowait(Item(i, counter.clone())).unwrap();
    }
    let mut j = Task::new(q.join());
    j.pending();
    q.shutdown(true);
    assert_eq!(drops(&counter), 3);
    assert!(j.woken());
    j.ready();
    assert_eq!(q.qsize(), 0);
    assert!(Task::new(q.get()).ready().is_err());
}

#[test]
fn immediate_shutdown_voids_reservations_of_woken_getters() {
    let q = Queue::new(0);
    let mut a = Task::new(q.get());
    let mut b = Task::new(q.get());
    a.pending();
    b.pending();
    q.put_nowait(1).unwrap(); // reserved for `a`
    q.shutdown(true);
    assert_eq!(a.ready(), Err(QueueShutDown(())));
    assert_eq!(b.ready(), Err(QueueShutDown(())));
    // A dropped getter whose reservation was voided must not corrupt the counts.
    let q = Queue::new(0);
    let mut c = Task::new(q.get());
    c.pending();
    q.put_nowait(1).unwrap();
    q.shutdown(true);
    drop(c);
    assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
}

#[test]
fn graceful_shutdown_with_items_promised_to_woken_getters() {
    let q = Queue::new(0);
    let mut a = Task::new(q.get());
    a.pending();
    q.put_nowait(1).unwrap(); // promised to `a`
    q.shutdown(false);
    // A newcomer must wait: the only item is promised, but `a` may still drop it.
    let mut b = Task::new(q.get());
    b.pending();
    drop(a);
    assert!(b.woken());
    assert_eq!(b.ready(), Ok(1));
    assert_eq!(Task::new(q.get()).ready(), Err(QueueShutDown(())));

    // And when the promised getter takes its item, the waiting newcomer is told to fail.
    let q = Queue::new(0);
    let mut a = Task::new(q.get());
    a.pending();
    q.put_nowait(1).unwrap();
    q.shutdown(false);
    let mut b = Task::new(q.get());
    b.pending();
    assert_eq!(a.ready(), Ok(1));
    assert!(b.woken());
    assert_eq!(b.ready(), Err(QueueShutDown(())));
}

#[test]
fn priority_and_lifo_share_the_waiting_behaviour() {
    let pq = PriorityQueue::new(2);
    let mut g = Task::new(pq.get());
    g.pending();
    pq.put_nowait(5).unwrap();
    assert_eq!(g.ready(), Ok(5));
    pq.put_nowait(3).unwrap();
    pq.put_nowait(1).unwrap();
    let mut p = Task::new(pq.put(2));
    p.pending();
    assert_eq!(pq.get_nowait(), Ok(1));
    p.ready().unwrap();
    assert_eq!(pq.get_nowait(), Ok(2));
    pq.shutdown(true);
    assert!(pq.empty());

    let lq = LifoQueue::new(1);
    lq.put_nowait('x').unwrap();
    let mut p = Task::new(lq.put('y'));
    p.pending();
    assert_eq!(lq.get_nowait(), Ok('x'));
    p.ready().unwrap();
    assert_eq!(Task::new(lq.get()).ready(), Ok('y'));
}

#[test]
fn shared_behind_arc_across_threads() {
    let q = Arc::new(Queue::new(4));
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                support::block_on(async {
                    for i in 0..100 {
                        q.put(p * 1000 + i).await.unwrap();
                    }
                })
            })
        })
        .collect();
    let mut got: Vec<u32> = support::block_on(async {
        let mut v = Vec::new();
        for _ in 0..300 {
            v.push(q.get().await.unwrap());
        }
        v
    });
    for p in producers {
        p.join().unwrap();
    }
    got.sort_unstable();
    let mut want: Vec<u32> = (0..3)
        .flat_map(|p| (0..100).map(move |i| p * 1000 + i))
        .collect();
    want.sort_unstable();
    assert_eq!(got, want);
}
