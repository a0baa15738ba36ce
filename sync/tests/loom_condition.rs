//! loom models of `Condition`: no lost wake-up between waiting and notifying, and a notified
//! waiter that is dropped passes its notification to the next one.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 cargo test -p ringloop-sync --release
//! --test loom_condition`
#![cfg(loom)]

use loom::future::block_on;
use loom::thread;
use ringloop_sync::Condition;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

#[test]
fn wait_for_sees_a_change_made_under_the_lock() {
    loom::model(|| {
        let cond = Arc::new(Condition::new(false));
        let waiter = {
            let cond = cond.clone();
            thread::spawn(move || {
                block_on(async {
                    let guard = cond.lock().await;
                    let guard = cond.wait_for(guard, |ready| *ready).await;
                    assert!(*guard);
                })
            })
        };
        *block_on(cond.lock()) = true;
        cond.notify(1);
        waiter.join().unwrap();
        assert!(!cond.locked());
    });
}

#[test]
fn notification_handed_to_a_dropped_waiter_is_passed_on() {
    loom::model(|| {
        let cond = Arc::new(Condition::new(0));
        // A waiter that gives up after one poll (while queued, or after being notified).
        let quitter = {
            let cond = cond.clone();
            thread::spawn(move || {
                let Some(guard) = cond.try_lock().ok() else {
                    return;
                };
                let mut wait = pin!(cond.wait_for(guard, |n| *n > 0));
                let mut cx = Context::from_waker(Waker::noop());
                if let Poll::Ready(guard) = wait.as_mut().poll(&mut cx) {
                    drop(guard);
                }
            })
        };
        let stayer = {
            let cond = cond.clone();
            thread::spawn(move || {
                block_on(async {
                    let guard = cond.lock().await;
                    drop(cond.wait_for(guard, |n| *n > 0).await);
                })
            })
        };
        *block_on(cond.lock()) = 1;
        // One notification only: if it reaches the quitter, the quitter must pass it on.
        cond.notify(1);
        quitter.join().unwrap();
        stayer.join().unwrap();
        assert!(!cond.locked());
    });
}
