//! loom models of the queues: items conserved between producers and consumers, and a getter or
//! putter dropped while the item or place it was promised is in flight.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 cargo test -p ringloop-sync --release
//! --test loom_queue`
#![cfg(loom)]

use loom::future::block_on;
use loom::thread;
use ringloop_sync::{Queue, QueueShutDown, TryGetError};
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

fn noop_cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

#[test]
fn bounded_queue_hands_every_item_over_in_order() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                block_on(async {
                    q.put(1).await.unwrap();
                    q.put(2).await.unwrap();
                })
            })
        };
        let got = block_on(async { (q.get().await.unwrap(), q.get().await.unwrap()) });
        producer.join().unwrap();
        assert_eq!(got, (1, 2));
        assert!(q.empty());
    });
}

#[test]
fn dropped_getter_loses_no_item() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let quitter = {
            let q = q.clone();
            thread::spawn(move || {
                let mut get = pin!(q.get());
                match get.as_mut().poll(&mut noop_cx()) {
                    Poll::Ready(item) => Some(item.unwrap()),
                    Poll::Pending => None,
                }
            })
        };
        let getter = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()).unwrap())
        };
        q.put_nowait(1).unwrap();
        q.put_nowait(2).unwrap();
        let mut seen = vec![getter.join().unwrap()];
        seen.extend(quitter.join().unwrap());
        seen.extend(q.get_nowait().ok());
        seen.sort_unstable();
        assert_eq!(seen, [1, 2], "each item taken exactly once");
    });
}

#[test]
fn dropped_putter_passes_its_place_on() {
    loom::model(|| {
        let q = Arc::new(Queue::new(1));
        q.put_nowait(0).unwrap();
        let quitter = {
            let q = q.clone();
            thread::spawn(move || {
                let mut put = pin!(q.put(1));
                put.as_mut().poll(&mut noop_cx()).is_ready()
            })
        };
        let putter = {
            let q = q.clone();
            thread::spawn(move || block_on(q.put(2)).unwrap())
        };
        assert_eq!(block_on(q.get()), Ok(0));
        let quitter_put = quitter.join().unwrap();
        if quitter_put {
            // Its item took the free place; make room for the other putter.
            assert_eq!(block_on(q.get()), Ok(1));
        }
        putter.join().unwrap();
        assert_eq!(q.get_nowait(), Ok(2));
        assert_eq!(q.get_nowait(), Err(TryGetError::Empty));
    });
}

#[test]
fn shutdown_races_with_a_waiting_getter_and_a_put() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        let getter = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()))
        };
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(7).is_ok())
        };
        q.shutdown(false);
        let put_ok = putter.join().unwrap();
        let got = getter.join().unwrap();
        // If the item got in before the shutdown, the getter drains it; otherwise it fails.
        match got {
            Ok(item) => assert!(put_ok && item == 7),
            Err(QueueShutDown(())) => assert_eq!(q.get_nowait().is_ok(), put_ok),
        }
    });
}

#[test]
fn immediate_shutdown_races_with_task_done_and_releases_join() {
    loom::model(|| {
        let q = Arc::new(Queue::new(0));
        q.put_nowait(1).unwrap();
        q.put_nowait(2).unwrap();
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                if q.get_nowait().is_ok() {
                    q.task_done().unwrap();
                }
            })
        };
        let stopper = {
            let q = q.clone();
            thread::spawn(move || q.shutdown(true))
        };
        // Both items end up done or dropped, so join must return.
        block_on(q.join());
        worker.join().unwrap();
        stopper.join().unwrap();
        assert!(q.task_done().is_err());
        assert_eq!(q.get_nowait(), Err(TryGetError::ShutDown));
    });
}
