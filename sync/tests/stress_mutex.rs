//! Many threads increment a plain counter under `Mutex` and `Lock`, some giving up their lock
//! attempts half-way; the count must be exact.
#![cfg(not(loom))]

mod support;

use ringloop_sync::{Lock, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use support::{block_on, poll_or_cancel, scaled, Rng};

const THREADS: u64 = 4;

#[test]
fn counter_under_mutex_is_exact() {
    let per_thread = scaled(20_000) as u64;
    let counter = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let counter = counter.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(t + 1);
                let mut done = 0;
                while done < per_thread {
                    let guard = if rng.one_in(4) {
                        // A lock attempt dropped if it cannot complete on its first poll.
                        match poll_or_cancel(counter.lock()) {
                            Some(g) => g,
                            None => continue,
                        }
                    } else {
                        block_on(counter.lock())
                    };
                    let mut guard = guard;
                    let before = *guard;
                    if rng.one_in(64) {
                        thread::yield_now(); // hold it a while
                    }
                    *guard = before + 1;
                    done += 1;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(*counter.try_lock().unwrap(), THREADS * per_thread);
    assert!(!counter.locked());
}

#[test]
fn lock_holders_never_overlap() {
    let per_thread = scaled(20_000);
    let lock = Arc::new(Lock::new());
    let inside = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (lock, inside) = (lock.clone(), inside.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(t + 100);
                for _ in 0..per_thread {
                    let guard = if rng.one_in(3) {
                        match poll_or_cancel(lock.acquire()) {
                            Some(g) => g,
                            None => continue,
                        }
                    } else {
                        block_on(lock.acquire())
                    };
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    inside.store(false, Ordering::SeqCst);
                    drop(guard);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(!lock.locked());
}
