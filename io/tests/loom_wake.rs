//! Loom model of the park/unpark protocol (`src/driver/wake.rs`, compiled here as is).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ringloop-io --release --test loom_wake`.
//! The eventfd is modelled by a counter under a mutex and condvar: `write` adds one and
//! notifies, and the parker's blocking `io_uring_enter` waits until the counter is non-zero
//! (the armed read completing) and consumes it. If a wake-up could be lost, loom finds the
//! interleaving in which the parker blocks forever and reports a deadlock.
#![cfg(loom)]

#[allow(dead_code)]
mod loom {
    pub(crate) use ::loom::sync::atomic::{AtomicU8, Ordering};
}

#[allow(dead_code)]
#[path = "../src/driver/wake.rs"]
mod wake;

use ::loom::sync::atomic::{AtomicUsize, Ordering};
use ::loom::sync::{Arc, Condvar, Mutex};
use ::loom::thread;

use wake::{Park, Unpark, WakeState};

/// The eventfd and its armed read.
struct EventFd {
    count: Mutex<u64>,
    readable: Condvar,
}

impl EventFd {
    fn new() -> EventFd {
        EventFd {
            count: Mutex::new(0),
            readable: Condvar::new(),
        }
    }

    fn write(&self) {
        *self.count.lock().unwrap() += 1;
        self.readable.notify_one();
    }

    /// The parker blocked in io_uring_enter until the eventfd read completes.
    fn wait_readable(&self) {
        let mut count = self.count.lock().unwrap();
        while *count == 0 {
            count = self.readable.wait(count).unwrap();
        }
        *count = 0;
    }
}

struct Driver {
    wake: WakeState,
    eventfd: EventFd,
}

impl Driver {
    fn unpark(&self) {
        if self.wake.unpark() == Unpark::Signal {
            self.eventfd.write();
        }
    }

    fn park(&self) {
        match self.wake.begin_park() {
            Park::Skip => {}
            Park::Block => {
                self.eventfd.wait_readable();
                self.wake.end_park();
            }
        }
    }
}

fn new_driver() -> Arc<Driver> {
    Arc::new(Driver {
        wake: WakeState::new(),
        eventfd: EventFd::new(),
    })
}

/// Two threads publish work and unpark; the parker parks until it has seen both.
#[test]
fn two_unparkers_never_lose_a_wake_up() {
    ::loom::model(|| {
        let driver = new_driver();
        let work = Arc::new(AtomicUsize::new(0));
        let unparkers: Vec<_> = (0..2)
            .map(|_| {
                let (driver, work) = (driver.clone(), work.clone());
                thread::spawn(move || {
                    work.fetch_add(1, Ordering::Release);
                    driver.unpark();
                })
            })
            .collect();
        while work.load(Ordering::Acquire) < 2 {
            driver.park();
        }
        for u in unparkers {
            u.join().unwrap();
        }
    });
}

/// One unparker, two rounds: a stale eventfd write from round one only makes the parker
/// return early later (spurious), and round two is still seen.
#[test]
fn repeated_rounds_never_lose_a_wake_up() {
    ::loom::model(|| {
        let driver = new_driver();
        let work = Arc::new(AtomicUsize::new(0));
        let unparker = {
            let (driver, work) = (driver.clone(), work.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    work.fetch_add(1, Ordering::Release);
                    driver.unpark();
                }
            })
        };
        let mut seen = 0;
        while seen < 2 {
            let now = work.load(Ordering::Acquire);
            if now > seen {
                seen = now;
                continue;
            }
            driver.park();
        }
        unparker.join().unwrap();
    });
}
