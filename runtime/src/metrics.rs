//! Runtime metrics: per-thread counters of what the scheduler and the ring did, readable
//! while the runtime runs ([`Runtime::metrics`](crate::Runtime::metrics)).
//!
//! Each counter has one writer, the thread it describes, which adds with a relaxed load and
//! store (no locked instruction on the hot path); readers see a recent value.

use crate::loom::{AtomicU64, Ordering};
use ringloop_io::DriverStats;

/// The counters of one thread that runs tasks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    polls: AtomicU64,
    steals: AtomicU64,
    injector_pulls: AtomicU64,
    parks: AtomicU64,
    hand_overs: AtomicU64,
    rescues: AtomicU64,
    rescued_wakes: AtomicU64,
    ring_enters: AtomicU64,
    ring_submissions: AtomicU64,
    ring_completions: AtomicU64,
    ring_batched_waits: AtomicU64,
}

/// Adds `n` to a counter that only the calling thread writes.
fn add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn poll(&self) {
        add(&self.polls, 1);
    }
    /// Polls so far: a worker whose count stands still is stuck in one poll (or not running).
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }
    pub(crate) fn steal(&self) {
        add(&self.steals, 1);
    }
    pub(crate) fn injector_pull(&self) {
        add(&self.injector_pulls, 1);
    }
    pub(crate) fn park(&self) {
        add(&self.parks, 1);
    }
    pub(crate) fn hand_over(&self) {
        add(&self.hand_overs, 1);
    }
    /// This worker drove a stalled sibling's driver, which woke `woken` wakers.
    pub(crate) fn rescue(&self, woken: usize) {
        add(&self.rescues, 1);
        add(&self.rescued_wakes, woken as u64);
    }

    /// Records the ring's totals (they are cumulative already).
    pub(crate) fn ring(&self, stats: DriverStats) {
        self.ring_enters.store(stats.enters, Ordering::Relaxed);
        self.ring_submissions
            .store(stats.sqes_submitted, Ordering::Relaxed);
        self.ring_completions
            .store(stats.cqes_reaped, Ordering::Relaxed);
        self.ring_batched_waits
            .store(stats.batched_waits, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> WorkerMetrics {
        WorkerMetrics {
            polls: self.polls.load(Ordering::Relaxed),
            steals: self.steals.load(Ordering::Relaxed),
            injector_pulls: self.injector_pulls.load(Ordering::Relaxed),
            parks: self.parks.load(Ordering::Relaxed),
            hand_overs: self.hand_overs.load(Ordering::Relaxed),
            rescues: self.rescues.load(Ordering::Relaxed),
            rescued_wakes: self.rescued_wakes.load(Ordering::Relaxed),
            ring_enters: self.ring_enters.load(Ordering::Relaxed),
            ring_submissions: self.ring_submissions.load(Ordering::Relaxed),
            ring_completions: self.ring_completions.load(Ordering::Relaxed),
            ring_batched_waits: self.ring_batched_waits.load(Ordering::Relaxed),
        }
    }
}

/// What one worker (or the single-threaded runtime's thread) has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls (including polls that only dropped a cancelled task's future).
    pub polls: u64,
    /// Successful steals from another worker's queue (each takes a batch).
    pub steals: u64,
    /// Successful takes from the global injector (each takes a batch).
    pub injector_pulls: u64,
    /// Times the thread went to sleep for lack of work.
    pub parks: u64,
    /// Tasks woken by this worker's ring that it handed over to a less busy worker, so that
    /// their next I/O goes on that worker's ring (multi-threaded runtime only).
    pub hand_overs: u64,
    /// Times this worker drove the io driver of a sibling stuck in one long poll (its timers,
    /// completions and submissions), so that other tasks' I/O and timers were not held up
    /// (multi-threaded runtime only).
    pub rescues: u64,
    /// Wakers woken by those rescues: timers fired and completions dispatched for the stuck
    /// sibling's tasks.
    pub rescued_wakes: u64,
    /// `io_uring_enter` system calls of its ring.
    pub ring_enters: u64,
    /// Submission queue entries its ring submitted.
    pub ring_submissions: u64,
    /// Completions its ring reaped.
    pub ring_completions: u64,
    /// Parks that waited for a batch of completions
    /// ([`Builder::batch_wait`](crate::Builder::batch_wait)).
    pub ring_batched_waits: u64,
}

/// A snapshot of a runtime's metrics.
///
/// # Examples
/// ```
/// let rt = ringloop::Runtime::builder().worker_threads(2).build()?;
/// rt.block_on(async {
///     for i in 0..100 {
///         ringloop::create_task(async move { i }).await.unwrap();
///     }
/// });
/// let metrics = rt.metrics();
/// assert_eq!(metrics.workers.len(), 2);
/// assert!(metrics.workers.iter().map(|w| w.polls).sum::<u64>() >= 100);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// One entry per worker thread; for a single-threaded runtime, one entry for the thread
    /// that drives it.
    pub workers: Vec<WorkerMetrics>,
}
