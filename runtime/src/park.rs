//! Parking: how an idle thread of the runtime sleeps, and how another thread wakes it.
//!
//! The schedulers only see the [`Park`] trait and [`Unparker`] handles. Every runtime thread
//! parks in its io_uring driver ([`DriverParker`]): an idle worker sleeps inside
//! `io_uring_enter`. [`ThreadParker`] (a mutex and condition variable) is the fallback for a
//! `block_on` thread whose ring cannot be created, and what the loom models use.
//!
//! Both sides follow the token protocol of `std::thread::park`: an `unpark` that happens
//! before `park` makes that `park` return at once, so "check for work, then park" never
//! loses a wake-up as long as whoever adds work calls `unpark` after adding it.

use crate::loom::{AtomicUsize, Condvar, Mutex, Ordering};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// A thread's way of sleeping until there is work.
pub(crate) trait Park {
    /// Sleeps until [`Unparker::unpark`] is called (or was called since the last `park`), or
    /// until `timeout` passes. May return spuriously.
    fn park(&mut self, timeout: Option<Duration>);

    /// Makes progress on I/O without waiting: submits what was queued, reaps completions
    /// (waking their tasks) and fires due timers. Called every scheduler tick.
    fn poll(&mut self) {}

    /// Like [`poll`](Park::poll) without a syscall: dispatches completions already posted
    /// and due timers, submits nothing. Queued I/O waits for the next `poll` or `park`.
    fn reap(&mut self) {}

    /// The ring's counters, for metrics (`None` without a ring).
    fn stats(&self) -> Option<ringloop_io::DriverStats> {
        None
    }

    /// A handle other threads use to wake this one.
    fn unparker(&self) -> Unparker;
}

/// Wakes one parked thread. Cloneable and usable from any thread.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<dyn Unpark>,
}

/// The wake side of a [`Park`] implementation.
pub(crate) trait Unpark: Send + Sync + 'static {
    fn unpark(&self);
}

impl Unparker {
    pub(crate) fn new(inner: Arc<dyn Unpark>) -> Unparker {
        Unparker { inner }
    }

    pub(crate) fn unpark(&self) {
        self.inner.unpark();
    }
}

impl fmt::Debug for Unparker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Unparker")
    }
}

/// Parks on a condition variable.
pub(crate) struct ThreadParker {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
}

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

impl ThreadParker {
    pub(crate) fn new() -> ThreadParker {
        ThreadParker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                condvar: Condvar::new(),
            }),
        }
    }
}

impl Park for ThreadParker {
    fn park(&mut self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        // Fast path: a token is waiting.
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire)
            .is_ok()
        {
            return;
        }
        let mut guard = inner.lock.lock();
        match inner
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // Unparked between the fast path and taking the lock. Consume the token with
                // a read-modify-write, not a plain store: another `unpark` may have swapped
                // in NOTIFIED again since the failed exchange read it, and only an acquiring
                // RMW is sure to read that latest write and so see what its caller published
                // before unparking. A store would erase that token unseen, and this thread
                // could go back to its queues without the work that unpark announced and
                // park for good (the loom model `loom_idle` found it at 3 preemptions).
                inner.state.swap(EMPTY, Ordering::Acquire);
                return;
            }
            Err(actual) => unreachable!("only the owner parks; state was {actual}"),
        }
        loop {
            guard = match timeout {
                Some(timeout) => inner.condvar.wait_timeout(guard, timeout),
                None => inner.condvar.wait(guard),
            };
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
            if timeout.is_some() {
                // Timed out (or spurious): consume any token that raced in, and go back.
                inner.state.swap(EMPTY, Ordering::Acquire);
                return;
            }
        }
    }

    fn unparker(&self) -> Unparker {
        Unparker::new(self.inner.clone())
    }
}

impl Unpark for Inner {
    fn unpark(&self) {
        match self.state.swap(NOTIFIED, Ordering::Release) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Take the lock so the notification cannot fall between the parker's state
                // change and its wait.
                drop(self.lock.lock());
                self.condvar.notify_one();
            }
            actual => unreachable!("parker state is one of three values, was {actual}"),
        }
    }
}

impl fmt::Debug for ThreadParker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThreadParker")
    }
}

/// Parks inside the thread's io_uring driver: an idle thread waits in `io_uring_enter` for a
/// completion, a timer or an unpark (an eventfd read kept armed), and `poll` submits and
/// reaps without waiting. The driver stays current on this thread while the parker lives.
pub(crate) struct DriverParker {
    driver: std::rc::Rc<ringloop_io::Driver>,
    failed: bool,
}

impl DriverParker {
    pub(crate) fn new(driver: std::rc::Rc<ringloop_io::Driver>) -> DriverParker {
        DriverParker {
            driver,
            failed: false,
        }
    }

    /// Reports a failing `io_uring_enter` once, and keeps an idle thread from spinning on it.
    fn on_error(&mut self, err: io::Error, waiting: bool) {
        if !self.failed {
            self.failed = true;
            log::error!("ringloop: io_uring_enter failed, I/O on this worker may stall: {err}");
        }
        if waiting {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Park for DriverParker {
    fn park(&mut self, timeout: Option<Duration>) {
        if let Err(err) = self.driver.park(timeout) {
            self.on_error(err, true);
        }
    }

    fn poll(&mut self) {
        if let Err(err) = self.driver.poll() {
            self.on_error(err, false);
        }
    }

    fn reap(&mut self) {
        if let Err(err) = self.driver.reap() {
            self.on_error(err, false);
        }
    }

    fn stats(&self) -> Option<ringloop_io::DriverStats> {
        self.driver.stats().ok()
    }

    fn unparker(&self) -> Unparker {
        driver_unparker(&self.driver)
    }
}

/// An [`Unparker`] that wakes the thread parked in `driver`.
pub(crate) fn driver_unparker(driver: &ringloop_io::Driver) -> Unparker {
    Unparker::new(Arc::new(DriverUnpark(driver.unparker())))
}

struct DriverUnpark(ringloop_io::Unparker);

impl Unpark for DriverUnpark {
    fn unpark(&self) {
        self.0.unpark();
    }
}

impl fmt::Debug for DriverParker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DriverParker")
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    /// Several threads publish work and unpark one parker at once, round after round; the
    /// parker sleeps until it has seen every round's work. A lost token leaves the parker
    /// asleep until its timeout, and the test fails at that round. (The ordering bug of a
    /// token consumed by a plain store is out of reach of x86 hardware; the loom model
    /// `loom_idle` is what finds it. This test guards liveness on the real machine.)
    #[test]
    fn stress_racing_unparks_are_never_lost() {
        const PRODUCERS: usize = 3;
        const ROUNDS: usize = 2_000;
        const LOST_AFTER: Duration = Duration::from_secs(2);

        let mut parker = ThreadParker::new();
        let unparker = parker.unparker();
        let published = Arc::new(AtomicUsize::new(0));
        let round_seen = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|_| {
                let unparker = unparker.clone();
                let published = published.clone();
                let round_seen = round_seen.clone();
                std::thread::spawn(move || {
                    for round in 0..ROUNDS {
                        while round_seen.load(Ordering::Acquire) < round {
                            std::thread::yield_now();
                        }
                        published.fetch_add(1, Ordering::Release);
                        unparker.unpark();
                    }
                })
            })
            .collect();

        for round in 1..=ROUNDS {
            let target = round * PRODUCERS;
            while published.load(Ordering::Acquire) < target {
                let start = Instant::now();
                parker.park(Some(LOST_AFTER));
                assert!(
                    start.elapsed() < LOST_AFTER,
                    "round {round} of {ROUNDS}: the parker slept through its unparks"
                );
            }
            round_seen.store(round, Ordering::Release);
        }
        for producer in producers {
            producer.join().unwrap();
        }
    }
}
