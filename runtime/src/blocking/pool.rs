//! [`Pool`]: the threads that run blocking calls.
//!
//! # State (one mutex, two condition variables)
//! - `queue`: jobs not started yet;
//! - `threads`: live pool threads; `idle`: threads waiting for work that no one has claimed;
//!   `notified`: claims not yet taken by a waiting thread;
//! - `shutdown`: set once; no job is accepted after it.
//!
//! # Protocol
//! 1. `spawn` queues the job, then: if a thread is idle, claims it (`idle -= 1`,
//!    `notified += 1`, notify one); else if `threads < max_threads`, starts a thread; else the
//!    job waits for the next thread that finishes one.
//! 2. A thread runs queued jobs until the queue is empty, then waits (`idle += 1`) for up to
//!    `keep_alive`. Woken, it first takes a claim if there is one (any waiting thread may
//!    take any claim: one of them is woken per claim), and goes back to the queue; otherwise
//!    on shutdown, or once `keep_alive` has passed without work, it un-counts itself as idle
//!    and exits (`threads -= 1`, and the last one tells `shutdown`).
//! 3. `shutdown` sets the flag, drops the queued jobs (their awaiters see `Cancelled`),
//!    wakes every waiting thread, and waits until `threads == 0` or its timeout passes;
//!    threads still inside a job then finish it and exit on their own. Called from inside a
//!    job of this pool (a call that drops its own runtime), it waits for the *other* threads
//!    (`threads == 1`): its own cannot exit before the job returns.
//!
//! Each thread has its runtime's handle current for its whole life (`context::enter_blocking`),
//! so a job can call `Handle::current()` and `create_task`; it drives no tasks itself.
//!
//! Jobs run without the lock. Under `cfg(loom)` a timed wait is an untimed one, so the pool
//! is only exercised by the integration tests (`tests/blocking_*.rs`), not by a model.

use crate::context;
use crate::loom::{Condvar, Mutex};
use crate::scheduler::Scheduler;
use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A blocking call to run, wrapped so that it reports its own outcome (and its own
/// cancellation, when dropped without running).
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// How a runtime's blocking pool is sized and stopped (set with the `Builder`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockingConfig {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) shutdown_timeout: Duration,
}

impl BlockingConfig {
    /// tokio's thread cap; idle threads retire after 10 s; shutdown waits up to 10 s.
    pub(crate) const DEFAULT: BlockingConfig = BlockingConfig {
        max_threads: 512,
        keep_alive: Duration::from_secs(10),
        shutdown_timeout: Duration::from_secs(10),
    };
}

impl Default for BlockingConfig {
    fn default() -> BlockingConfig {
        BlockingConfig::DEFAULT
    }
}

thread_local! {
    /// The pool this thread belongs to (null on other threads), so that `shutdown` called
    /// from one of its own jobs does not wait for itself.
    static CURRENT_POOL: Cell<*const Inner> = const { Cell::new(std::ptr::null()) };
}

/// A runtime's blocking thread pool.
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Waiting threads sleep here.
    work: Condvar,
    /// `shutdown` sleeps here until the last thread exits.
    exited: Condvar,
    config: BlockingConfig,
    /// The runtime the jobs belong to: current on every pool thread.
    scheduler: Scheduler,
}

struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    notified: usize,
    shutdown: bool,
    /// Threads ever started, for their names.
    started: usize,
}

impl Pool {
    /// A pool for the runtime of `scheduler`; no thread starts before the first job.
    pub(crate) fn new(config: BlockingConfig, scheduler: Scheduler) -> Pool {
        Pool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                    started: 0,
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                config,
                scheduler,
            }),
        }
    }

    /// Queues `job`; gives it back if the pool has shut down.
    pub(crate) fn spawn(&self, job: Job) -> Result<(), Job> {
        let mut state = self.inner.state.lock();
        if state.shutdown {
            return Err(job);
        }
        state.queue.push_back(job);
        if state.idle > 0 {
            state.idle -= 1;
            state.notified += 1;
            self.inner.work.notify_one();
            return Ok(());
        }
        if state.threads == self.inner.config.max_threads {
            return Ok(());
        }
        state.threads += 1;
        let number = state.started;
        state.started += 1;
        drop(state);
        let inner = self.inner.clone();
        let started = std::thread::Builder::new()
            .name(format!("ringloop-blocking-{number}"))
            .spawn(move || inner.run());
        if let Err(err) = started {
            log::error!("ringloop: could not start a blocking thread: {err}");
            let mut state = self.inner.state.lock();
            state.threads -= 1;
            // With no thread at all, nothing would ever run the queue: cancel it.
            let orphans = if state.threads == 0 {
                std::mem::take(&mut state.queue)
            } else {
                VecDeque::new()
            };
            drop(state);
            drop(orphans);
        }
        Ok(())
    }

    /// Stops the pool: cancels queued jobs and waits up to `timeout` for the threads to exit
    /// (all but the calling one, if it is one of them). Returns true if they all did.
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = deadline_after(timeout);
        let own = Arc::as_ptr(&self.inner);
        let myself = usize::from(CURRENT_POOL.with(|current| std::ptr::eq(current.get(), own)));
        let mut state = self.inner.state.lock();
        state.shutdown = true;
        let queued = std::mem::take(&mut state.queue);
        for _ in 0..state.threads {
            self.inner.work.notify_one();
        }
        drop(state);
        // The jobs' completers run user-visible wakes: not under the lock.
        drop(queued);
        let mut state = self.inner.state.lock();
        while state.threads > myself {
            let left = time_left(deadline, timeout);
            if left.is_zero() {
                log::warn!(
                    "ringloop: {} blocking thread(s) still busy after the {timeout:?} shutdown \
                     timeout; leaving them behind",
                    state.threads - myself
                );
                return false;
            }
            state = self.inner.exited.wait_timeout(state, left);
        }
        true
    }
}

impl Inner {
    /// A pool thread's life.
    fn run(&self) {
        CURRENT_POOL.with(|current| current.set(self));
        let _enter = context::enter_blocking(self.scheduler.clone());
        let mut state = self.state.lock();
        'work: loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                // Jobs catch their own panics; this only keeps the count right if one leaks.
                let _ = catch_unwind(AssertUnwindSafe(job));
                state = self.state.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let keep_alive = self.config.keep_alive;
            let deadline = deadline_after(keep_alive);
            loop {
                state = self
                    .work
                    .wait_timeout(state, time_left(deadline, keep_alive));
                if state.notified > 0 {
                    state.notified -= 1;
                    continue 'work;
                }
                if state.shutdown || time_left(deadline, keep_alive).is_zero() {
                    state.idle -= 1;
                    break 'work;
                }
                // A spurious wake-up: wait again.
            }
        }
        state.threads -= 1;
        // `shutdown` may be waiting for 0, or for 1 (called from a job of this pool).
        if state.threads <= 1 {
            self.exited.notify_one();
        }
    }
}

/// The instant `timeout` from now; `None` (never) if that is too far ahead to represent,
/// as it is for `Duration::MAX`.
fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// How long is left until `deadline`, made by [`deadline_after`]`(timeout)`: zero once it
/// passed, and `timeout` itself (a wait without end) if there is no deadline.
fn time_left(deadline: Option<Instant>, timeout: Duration) -> Duration {
    deadline.map_or(timeout, |deadline| {
        deadline.saturating_duration_since(Instant::now())
    })
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("Pool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .field("shutdown", &state.shutdown)
            .finish()
    }
}
