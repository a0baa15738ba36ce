//! loom models of `Event`: no lost wake-up between a waiter registering and `set`, and `clear`
//! racing with woken waiters.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=4 cargo test -p ringloop-sync --release
//! --test loom_event`
#![cfg(loom)]

use loom::future::block_on;
use loom::thread;
use ringloop_sync::Event;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Waker};

#[test]
fn set_wakes_every_waiter() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let ev = ev.clone();
                thread::spawn(move || block_on(ev.wait()))
            })
            .collect();
        ev.set();
        for w in waiters {
            w.join().unwrap();
        }
        assert!(ev.is_set());
    });
}

#[test]
fn clear_after_set_does_not_strand_a_registered_waiter() {
    loom::model(|| {
        let ev = Arc::new(Event::new());
        // Registered before the set: it must complete even if `clear` follows at once.
        let mut registered = Box::pin(ev.wait());
        let poll = registered
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(poll.is_pending());
        let setter = {
            let ev = ev.clone();
            thread::spawn(move || {
                ev.set();
                ev.clear();
            })
        };
        let canceller = {
            let ev = ev.clone();
            thread::spawn(move || {
                let mut wait = pin!(ev.wait());
                let _ = wait.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            })
        };
        block_on(registered);
        setter.join().unwrap();
        canceller.join().unwrap();
        assert!(!ev.is_set());
    });
}
