//! Loom model of the wake-up protocol as the driver runs it: the state machine of
//! `src/driver/wake.rs` and its park sequence (`wake::park`, `wake::read_completed`,
//! `wake::ensure_armed`), compiled here as they are, over a modelled ring and eventfd.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p ringloop-io --release --test loom_wake`.
//!
//! The model ([`Ring`]) keeps what the kernel keeps: the eventfd's counter (under a mutex and
//! condvar, shared with the unparkers), whether the eventfd read is queued, in the kernel, or
//! completed. A submit moves a queued read into the kernel; the kernel completes a read in
//! the kernel once the counter is non-zero, consuming it. A wait without a timeout blocks on
//! the condvar until a completion is there; a wait with one returns at once (time is not
//! modelled; the caller loops). So if a wake-up can be lost (the read not armed while the
//! parker blocks, an unpark that writes nothing while the parker is parked), loom finds the
//! interleaving in which the parker blocks forever and reports a deadlock. `Core` implements
//! the same `WakeRing` over io_uring; its `park` and `reap` call these functions in this
//! order.
#![cfg(loom)]

#[allow(dead_code)]
mod loom {
    pub(crate) use ::loom::sync::atomic::{AtomicU8, Ordering};
}

#[allow(dead_code)]
#[path = "../src/driver/wake.rs"]
mod wake;

use std::io;
use std::time::Duration;

use ::loom::sync::atomic::{AtomicUsize, Ordering};
use ::loom::sync::{Arc, Condvar, Mutex};
use ::loom::thread;

use wake::{Unpark, WakeRing, WakeState};

/// The eventfd: its counter, and the condvar a blocked `io_uring_enter` waits on.
struct EventFd {
    count: Mutex<u64>,
    written: Condvar,
}

/// What other threads share with the driver: the wake state and the eventfd.
struct Shared {
    wake: WakeState,
    eventfd: EventFd,
}

impl Shared {
    /// `Shared::unpark` of `src/driver/shared.rs`.
    fn unpark(&self) {
        if self.wake.unpark() == Unpark::Signal {
            *self.eventfd.count.lock().unwrap() += 1;
            self.eventfd.written.notify_one();
        }
    }
}

/// Where the eventfd read is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Read {
    /// Not armed (never armed, or its completion was reaped).
    None,
    /// Armed: queued in the submission queue.
    Queued,
    /// Submitted: waiting in the kernel for the counter.
    InKernel,
    /// Completed: its completion waits to be reaped.
    Completed,
}

/// The driver's ring, as far as the wake-up protocol sees it (the parker's thread only).
struct Ring {
    shared: Arc<Shared>,
    read: Read,
    /// The next arms of the read that fail (a full queue, an `io_uring_enter` error).
    failing_arms: u32,
}

impl Ring {
    /// The kernel side of a submit: queued entries go in; a read in the kernel completes if
    /// the counter is non-zero. Called with the counter locked.
    fn kernel_step(&mut self, count: &mut u64) {
        if self.read == Read::Queued {
            self.read = Read::InKernel;
        }
        if self.read == Read::InKernel && *count > 0 {
            *count = 0;
            self.read = Read::Completed;
        }
    }

    /// `Core::reap` for the read's completion.
    fn reap(&mut self) {
        if self.read == Read::Completed {
            wake::read_completed(self, true);
        }
    }
}

impl WakeRing for Ring {
    fn wake_armed(&self) -> bool {
        self.read != Read::None
    }

    fn arm_wake(&mut self) -> io::Result<()> {
        if self.failing_arms > 0 {
            self.failing_arms -= 1;
            return Err(io::Error::other("modelled failure to queue the read"));
        }
        self.read = Read::Queued;
        Ok(())
    }

    fn disarm_wake(&mut self) {
        self.read = Read::None;
    }

    fn submit(&mut self) -> io::Result<()> {
        let shared = self.shared.clone();
        let mut count = shared.eventfd.count.lock().unwrap();
        self.kernel_step(&mut count);
        Ok(())
    }

    fn submit_and_wait(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let shared = self.shared.clone();
        let mut count = shared.eventfd.count.lock().unwrap();
        loop {
            self.kernel_step(&mut count);
            if self.read == Read::Completed {
                return Ok(());
            }
            if timeout.is_some() {
                // The timeout expires (time is not modelled): return, the caller loops.
                drop(count);
                thread::yield_now();
                return Ok(());
            }
            count = shared.eventfd.written.wait(count).unwrap();
        }
    }

    fn report_unarmed(&self, _error: &io::Error) {}
}

fn new_ring(failing_arms: u32) -> Ring {
    let shared = Arc::new(Shared {
        wake: WakeState::new(),
        eventfd: EventFd {
            count: Mutex::new(0),
            written: Condvar::new(),
        },
    });
    let mut ring = Ring {
        shared,
        read: Read::None,
        failing_arms: 0,
    };
    // `Core::new` arms the read and submits it.
    assert!(wake::ensure_armed(&mut ring));
    ring.submit().unwrap();
    ring.failing_arms = failing_arms;
    ring
}

/// The driver's thread: parks (and reaps) until it has seen `target` units of work.
fn park_until(ring: &mut Ring, work: &AtomicUsize, target: usize) {
    while work.load(Ordering::Acquire) < target {
        let shared = ring.shared.clone();
        wake::park(&shared.wake, ring, None).unwrap();
        ring.reap();
    }
}

/// Two threads publish work and unpark; the parker parks until it has seen both.
#[test]
fn two_unparkers_never_lose_a_wake_up() {
    ::loom::model(|| {
        let mut ring = new_ring(0);
        let work = Arc::new(AtomicUsize::new(0));
        let unparkers: Vec<_> = (0..2)
            .map(|_| {
                let (shared, work) = (ring.shared.clone(), work.clone());
                thread::spawn(move || {
                    work.fetch_add(1, Ordering::Release);
                    shared.unpark();
                })
            })
            .collect();
        park_until(&mut ring, &work, 2);
        for u in unparkers {
            u.join().unwrap();
        }
    });
}

/// One unparker, two rounds: the read is re-armed between them; a stale eventfd write from
/// round one only makes the parker return early later, and round two is still seen.
#[test]
fn repeated_rounds_never_lose_a_wake_up() {
    ::loom::model(|| {
        let mut ring = new_ring(0);
        let work = Arc::new(AtomicUsize::new(0));
        let unparker = {
            let (shared, work) = (ring.shared.clone(), work.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    work.fetch_add(1, Ordering::Release);
                    shared.unpark();
                }
            })
        };
        park_until(&mut ring, &work, 2);
        unparker.join().unwrap();
    });
}

/// As above, but re-arming the read fails once (right after its first completion): the next
/// park arms it again before blocking. Without that retry (a re-arm only at completion), the
/// parker blocks with no read in the kernel and loom reports the deadlock.
#[test]
fn a_failed_re_arm_loses_no_wake_up() {
    ::loom::model(|| {
        let mut ring = new_ring(1);
        let work = Arc::new(AtomicUsize::new(0));
        let unparker = {
            let (shared, work) = (ring.shared.clone(), work.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    work.fetch_add(1, Ordering::Release);
                    shared.unpark();
                }
            })
        };
        park_until(&mut ring, &work, 2);
        unparker.join().unwrap();
    });
}
