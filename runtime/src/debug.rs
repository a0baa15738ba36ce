//! Debug mode (asyncio's debug mode): polls that hold their thread too long are reported
//! through the `log` facade (on standard error when no logger is installed, see
//! `crate::report`) with the task's id, name and duration, which is how a blocking call
//! inside a task shows up. Panics nobody retrieved are reported in every mode.
//!
//! On a multi-threaded runtime a watchdog thread also reports a poll that is *still* running
//! past the threshold, so a task stuck in a blocking call shows up while it is stuck.
//!
//! Enabled by `Runtime::builder().debug(true)` or the environment variable
//! `RINGLOOP_DEBUG=1`; it costs two clock reads, two reference-count updates and two relaxed
//! stores per poll, and nothing when off.

use crate::task::Runnable;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The default [`slow_poll_threshold`](crate::Builder::slow_poll_threshold).
pub(crate) const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(100);

/// How a runtime's threads run tasks: plainly, or timing each poll.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DebugConfig {
    /// `Some(threshold)` in debug mode.
    slow_poll: Option<Duration>,
}

impl DebugConfig {
    /// Debug mode if `enabled` is `Some(true)`, or if it is `None` and `RINGLOOP_DEBUG` is
    /// set to `1` or `true`.
    pub(crate) fn new(enabled: Option<bool>, threshold: Duration) -> DebugConfig {
        let enabled = enabled.unwrap_or_else(|| {
            std::env::var("RINGLOOP_DEBUG")
                .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
        });
        DebugConfig {
            slow_poll: enabled.then_some(threshold),
        }
    }

    /// Runs `task`, reporting the poll if it was slow in debug mode.
    pub(crate) fn run(&self, task: Runnable) {
        match self.slow_poll {
            None => task.run(),
            Some(threshold) => task.run_reporting_slow(threshold),
        }
    }
}

/// What a worker is polling right now, published for the [`Watchdog`] in debug mode.
#[derive(Debug, Default)]
pub(crate) struct PollClock {
    /// Nanoseconds since the watchdog's epoch when the current poll started; 0 when idle.
    started: AtomicU64,
    /// The id of the task being polled.
    task: AtomicU64,
}

impl DebugConfig {
    /// Like [`run`](Self::run), and in debug mode also publishes the poll on `clock` so the
    /// watchdog can see a poll that does not return.
    pub(crate) fn run_watched(&self, task: Runnable, clock: &PollClock, epoch: Instant) {
        if self.slow_poll.is_none() {
            return task.run();
        }
        let since_epoch = epoch.elapsed().as_nanos() as u64;
        clock.task.store(task.id().as_u64(), Ordering::Relaxed);
        clock.started.store(since_epoch.max(1), Ordering::Release);
        self.run(task);
        clock.started.store(0, Ordering::Release);
    }

    pub(crate) fn threshold(&self) -> Option<Duration> {
        self.slow_poll
    }
}

/// In debug mode, a thread that looks at every worker's [`PollClock`] once per threshold and
/// reports a poll that has run longer than the threshold *while it is still running*, so a
/// task stuck in a blocking call is visible before (or without) it returning.
pub(crate) struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `clocks` (one per worker); `None` outside debug mode.
    pub(crate) fn start(
        debug: DebugConfig,
        epoch: Instant,
        clocks: Vec<Arc<PollClock>>,
    ) -> Option<Watchdog> {
        let threshold = debug.threshold()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ringloop-watchdog".into())
            .spawn(move || watch(threshold, epoch, &clocks, &stopped))
            .map_err(|err| log::warn!("ringloop debug mode: no watchdog thread: {err}"))
            .ok()?;
        Some(Watchdog {
            stop,
            thread: Some(thread),
        })
    }
}

fn watch(threshold: Duration, epoch: Instant, clocks: &[Arc<PollClock>], stop: &AtomicBool) {
    // The (start, task) of the last poll reported per worker, so each is reported once.
    let mut reported = vec![(0u64, 0u64); clocks.len()];
    while !stop.load(Ordering::Acquire) {
        std::thread::park_timeout(threshold);
        let now = epoch.elapsed().as_nanos() as u64;
        for (worker, clock) in clocks.iter().enumerate() {
            let started = clock.started.load(Ordering::Acquire);
            let task = clock.task.load(Ordering::Relaxed);
            if started == 0 || reported[worker] == (started, task) {
                continue;
            }
            let running = Duration::from_nanos(now.saturating_sub(started));
            if running >= threshold {
                reported[worker] = (started, task);
                crate::report::report!(
                    Warn,
                    "worker {worker} has been polling task Task-{task} for {running:?} and is \
                     still in that poll: a blocking call is holding the worker"
                );
            }
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watchdog")
    }
}
