//! Producers add tokens under a `Condition` and `notify(1)`; consumers `wait_for` a token, some
//! abandoning their waits half-way. No token is lost and no consumer sleeps through the end.
#![cfg(not(loom))]

mod support;

use ringloop_sync::Condition;
use std::sync::Arc;
use std::thread;
use support::{block_on, poll_or_cancel, scaled, Rng};

struct Tokens {
    available: u64,
    to_consume: u64,
}

#[test]
fn every_token_is_consumed_once_despite_cancelled_waits() {
    const PRODUCERS: u64 = 2;
    const CONSUMERS: u64 = 3;
    let per_producer = scaled(20_000) as u64;
    let cond = Arc::new(Condition::new(Tokens {
        available: 0,
        to_consume: PRODUCERS * per_producer,
    }));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            let cond = cond.clone();
            thread::spawn(move || {
                for _ in 0..per_producer {
                    block_on(cond.lock()).available += 1;
                    cond.notify(1);
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|c| {
            let cond = cond.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(c + 9);
                let mut consumed = 0u64;
                loop {
                    let guard = block_on(cond.lock());
                    let ready = |t: &mut Tokens| t.available > 0 || t.to_consume == 0;
                    let mut guard = if rng.one_in(3) {
                        // Give up after one poll: a notification it took must pass on.
                        match poll_or_cancel(cond.wait_for(guard, ready)) {
                            Some(guard) => guard,
                            None => continue,
                        }
                    } else {
                        block_on(cond.wait_for(guard, ready))
                    };
                    if guard.to_consume == 0 {
                        break;
                    }
                    guard.available -= 1;
                    guard.to_consume -= 1;
                    consumed += 1;
                    if guard.to_consume == 0 {
                        drop(guard);
                        cond.notify_all();
                        break;
                    }
                }
                consumed
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let consumed: u64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(consumed, PRODUCERS * per_producer);
    let tokens = cond.try_lock().unwrap();
    assert_eq!((tokens.available, tokens.to_consume), (0, 0));
}
