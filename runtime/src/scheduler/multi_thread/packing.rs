//! Packing: keeping I/O work on as few workers as the load needs, and off contended CPUs.
//!
//! Every worker owns an io_uring ring, and an I/O task's next operation goes on the ring of the
//! worker that polls it. Left alone, stealing spreads connections over every worker, and each
//! worker then wakes for its own completions. When those workers do not each have a CPU to
//! themselves (the client of a benchmark, the rest of a server, other processes), the wake-ups
//! become context switches on busy CPUs and the CPU spent per message rises by a third (see
//! `DESIGN.md`, "Packing"). So the scheduler packs:
//!
//! - **Overloaded.** A worker is overloaded once it has been busy for [`HELP_AFTER`] without
//!   running dry (deque, ring, injector all empty), or its deque holds [`STEAL_ANYWAY_LEN`]
//!   tasks. Only then do its driver's wakes notify a sleeper. It stays *helpable* for
//!   [`CALM_AFTER`] after it last found itself overloaded, so that help, once it came, is not
//!   withdrawn at the first idle moment. A worker is *calm* when it is not helpable.
//! - **Stealing.** A searcher steals from a helpable sibling, or from any deque of at least
//!   [`STEAL_ANYWAY_LEN`] tasks (a burst of spawns spreads at once). A sibling busy for
//!   [`HELP_AFTER`] (perhaps stuck in one blocking poll) may always be stolen from, hand-over
//!   inbox included. A searcher that declines work sleeps with a timeout (doubling up to
//!   [`MAX_RECHECK`]) and looks again, in case its owner is stuck.
//! - **Hand-over.** A task woken by a worker's driver while a lower-numbered worker is calm
//!   and uncontended goes into that worker's inbox instead of the local deque, so its next
//!   operation lands on that worker's ring. Connections drift down to worker 0 while it has
//!   spare time, and spread again when it is overloaded.
//! - **Contention.** While busy, each worker reads its own thread's scheduler statistics
//!   (`/proc/thread-self/schedstat`) every [`SAMPLE_EVERY`]: the time it waited for a CPU, in
//!   percent of the time it ran. At [`CONTENDED_PERCENT`] or more it is *contended*: helping
//!   from that CPU takes time from whatever else runs there. A contended worker steals only
//!   a deque of [`CONTENDED_STEAL_LEN`] tasks or more (a backlog any CPU time helps with), or
//!   from a sibling that has run no task since it last looked (stuck, or itself off-CPU), and
//!   hands the tasks its driver wakes to the sibling that waits least for a CPU, if that one
//!   waits at least [`MARGIN_PERCENT`] less. The verdict lasts [`CONTENDED_FOR`]; a worker
//!   that has not measured since counts as uncontended (an idle worker's CPU had time to spare).
//!
//! Nothing here is needed for correctness: every rule only chooses *which* worker runs a task.
//! Tasks are never stranded: a worker's own deque and inbox are its work, and whatever a
//! stuck worker holds can be stolen.

use crate::loom::{AtomicU64, Ordering};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

// The `u64` durations below are nanoseconds, the unit of `now_ns`.

/// How long a worker may stay busy without running dry before it counts as overloaded (and,
/// seen from outside, perhaps stuck in one poll): 1 ms.
pub(super) const HELP_AFTER: u64 = 1_000_000;

/// How long after its last overload a worker still accepts help (and receives no hand-overs):
/// 10 ms.
const CALM_AFTER: u64 = 10_000_000;

/// A deque this long makes its owner overloaded, and may be stolen from at once.
pub(super) const STEAL_ANYWAY_LEN: usize = 64;

/// A deque this long may be stolen from even by a contended worker: a backlog that any CPU
/// time helps with (a burst of spawned work), longer than the ready connections of a
/// saturated server usually make.
pub(super) const CONTENDED_STEAL_LEN: usize = 256;

/// How long a contended CPU is remembered (1 s): after that, the worker may help again (and
/// measures again).
const CONTENDED_FOR: u64 = 1_000_000_000;

/// A worker whose thread waited for a CPU this many percent of the time it ran is contended.
/// It hands its work to a sibling that waits [`MARGIN_PERCENT`] less.
const CONTENDED_PERCENT: u64 = 50;

/// How much less a sibling must wait for a CPU to take a contended worker's work.
pub(super) const MARGIN_PERCENT: u64 = 20;

/// How often a busy worker reads its scheduler statistics: every 10 ms at most.
const SAMPLE_EVERY: u64 = 10_000_000;
/// The least run time a contention verdict is based on: 1 ms.
const MIN_SAMPLE_RUN: u64 = 1_000_000;

/// The first sleep of a searcher that declined work, before it looks again.
pub(super) const INITIAL_RECHECK: Duration = Duration::from_micros(500);

/// The longest a searcher that declined work sleeps before looking again.
pub(super) const MAX_RECHECK: Duration = Duration::from_millis(10);

/// How many tasks a worker runs between two looks at the clock while busy.
pub(super) const CHECK_EVERY: u32 = 16;

/// One worker's load, published for its siblings. Times are nanoseconds since the runtime's
/// epoch, plus one so that 0 can mean "never" / "not busy".
#[derive(Default)]
pub(super) struct WorkerLoad {
    /// When the current busy stretch started; 0 while the worker is dry or asleep.
    busy_since: AtomicU64,
    /// The last time the worker found itself overloaded; 0 if never.
    overloaded_at: AtomicU64,
    /// The last time the worker measured how long it waits for a CPU; 0 if never.
    measured_at: AtomicU64,
    /// That measure: time waited for a CPU, in percent of the time run.
    wait_percent: AtomicU64,
}

/// Nanoseconds since `epoch`, plus one (never 0).
pub(super) fn now_ns(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64 + 1
}

fn within(now: u64, at: u64, period: u64) -> bool {
    at != 0 && now.saturating_sub(at) < period
}

impl WorkerLoad {
    /// The owner starts running after being dry.
    pub(super) fn start_busy(&self, now: u64) {
        self.busy_since.store(now, Ordering::Relaxed);
    }

    /// When the current busy stretch started, if the worker is busy. Exact for the owner,
    /// the only writer.
    pub(super) fn busy_since(&self) -> Option<u64> {
        Some(self.busy_since.load(Ordering::Relaxed)).filter(|&since| since != 0)
    }

    /// The owner ran dry.
    pub(super) fn end_busy(&self) {
        self.busy_since.store(0, Ordering::Relaxed);
    }

    /// The owner found itself overloaded.
    pub(super) fn mark_overloaded(&self, now: u64) {
        self.overloaded_at.store(now, Ordering::Relaxed);
    }

    /// The owner measured how long it waits for a CPU, in percent of the time it ran.
    pub(super) fn set_wait_percent(&self, now: u64, percent: u64) {
        self.wait_percent.store(percent, Ordering::Relaxed);
        self.measured_at.store(now, Ordering::Relaxed);
    }

    /// The worker's recent wait for a CPU in percent of its run time; 0 if not measured
    /// lately (an idle worker does not measure: its CPU had time to spare).
    pub(super) fn wait_percent(&self, now: u64) -> u64 {
        if within(now, self.measured_at.load(Ordering::Relaxed), CONTENDED_FOR) {
            self.wait_percent.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// True if the worker has been busy for [`HELP_AFTER`] without running dry: overloaded,
    /// or stuck in one poll, or not given a CPU.
    pub(super) fn is_stuck(&self, now: u64) -> bool {
        self.busy_since()
            .is_some_and(|since| now.saturating_sub(since) >= HELP_AFTER)
    }

    /// True if siblings should help this worker: it was overloaded lately, or is stuck.
    pub(super) fn is_helpable(&self, now: u64) -> bool {
        within(now, self.overloaded_at.load(Ordering::Relaxed), CALM_AFTER) || self.is_stuck(now)
    }

    /// True if the worker found its CPU contended lately: work it runs waits for the CPU.
    pub(super) fn is_contended(&self, now: u64) -> bool {
        self.wait_percent(now) >= CONTENDED_PERCENT
    }
}

/// A worker thread's own scheduler statistics (`/proc/thread-self/schedstat`: time run, time
/// waited for a CPU), sampled while it is busy to tell whether its CPU is contended.
pub(super) struct CpuWait {
    file: Option<File>,
    /// When the statistics were last read.
    sampled_at: u64,
    /// The reading the next measure starts from, and when it was taken.
    ran: u64,
    waited: u64,
    since: u64,
}

impl CpuWait {
    /// Opens the calling thread's statistics; without them, the worker never counts as
    /// contended.
    pub(super) fn open() -> CpuWait {
        let mut this = CpuWait {
            file: File::open("/proc/thread-self/schedstat").ok(),
            sampled_at: 0,
            ran: 0,
            waited: 0,
            since: 0,
        };
        if let Some((ran, waited)) = this.read() {
            (this.ran, this.waited) = (ran, waited);
        }
        this
    }

    fn read(&self) -> Option<(u64, u64)> {
        let mut buf = [0u8; 96];
        let n = self.file.as_ref()?.read_at(&mut buf, 0).ok()?;
        let text = std::str::from_utf8(&buf[..n]).ok()?;
        let mut fields = text.split_ascii_whitespace().map(|f| f.parse::<u64>().ok());
        Some((fields.next()??, fields.next()??))
    }

    /// At most every [`SAMPLE_EVERY`]: how long the thread waited for a CPU since the last
    /// measure, in percent of the time it ran.
    ///
    /// A thread that ran less than a quarter of that time measures 0: it is mostly asleep,
    /// and its waits are mostly wake-up latency, not a CPU too busy to help on.
    pub(super) fn sample(&mut self, now: u64) -> Option<u64> {
        if self.file.is_none() || now.saturating_sub(self.sampled_at) < SAMPLE_EVERY {
            return None;
        }
        self.sampled_at = now;
        let (ran, waited) = self.read()?;
        let percent = wait_percent(
            ran.saturating_sub(self.ran),
            waited.saturating_sub(self.waited),
            now.saturating_sub(self.since),
        )?;
        (self.ran, self.waited, self.since) = (ran, waited, now);
        Some(percent)
    }
}

/// The verdict of one measure: a thread ran `ran` and waited `waited` for a CPU during `wall`
/// (all nanoseconds). `None` if it ran too little to tell yet.
fn wait_percent(ran: u64, waited: u64, wall: u64) -> Option<u64> {
    if ran.saturating_mul(4) < wall {
        // Mostly asleep: its waits are wake-up latency, not a busy CPU.
        Some(0)
    } else if ran >= MIN_SAMPLE_RUN {
        Some(waited.saturating_mul(100) / ran)
    } else {
        None
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_worker_is_calm() {
        let load = WorkerLoad::default();
        let now = 1_000_000_000;
        assert!(!load.is_helpable(now));
        assert!(!load.is_contended(now));
    }

    #[test]
    fn a_long_busy_stretch_makes_a_worker_helpable() {
        let load = WorkerLoad::default();
        let start = 1_000;
        load.start_busy(start);
        assert!(!load.is_helpable(start + HELP_AFTER - 1));
        assert!(load.is_helpable(start + HELP_AFTER));
        load.end_busy();
        assert!(!load.is_helpable(start + HELP_AFTER));
    }

    #[test]
    fn an_overload_is_remembered_for_the_calm_period() {
        let load = WorkerLoad::default();
        let at = 5_000;
        load.mark_overloaded(at);
        assert!(load.is_helpable(at + CALM_AFTER - 1));
        assert!(!load.is_helpable(at + CALM_AFTER));
    }

    #[test]
    fn contention_is_forgotten_after_a_while() {
        let load = WorkerLoad::default();
        let at = 5_000;
        load.set_wait_percent(at, 100);
        assert!(load.is_contended(at + CONTENDED_FOR - 1));
        assert!(!load.is_contended(at + CONTENDED_FOR));
    }

    #[test]
    fn the_wait_verdict_needs_enough_run_time_and_ignores_a_mostly_idle_thread() {
        let ms = 1_000_000;
        // Ran 8 of 10 ms and waited 8 ms: waits as long as it runs.
        assert_eq!(wait_percent(8 * ms, 8 * ms, 10 * ms), Some(100));
        // Ran 8 of 10 ms and waited 1 ms.
        assert_eq!(wait_percent(8 * ms, ms, 10 * ms), Some(12));
        // Ran 2 of 40 ms: mostly asleep, whatever its waits.
        assert_eq!(wait_percent(2 * ms, 30 * ms, 40 * ms), Some(0));
        // Ran 0.5 of 1 ms: busy, but too little run time to judge yet.
        assert_eq!(wait_percent(ms / 2, ms / 2, ms), None);
    }

    #[test]
    fn the_thread_statistics_are_readable_and_a_sample_needs_run_time() {
        let mut wait = CpuWait::open();
        assert!(
            wait.read().is_some(),
            "/proc/thread-self/schedstat unreadable"
        );
        // Too soon after opening: no verdict.
        assert_eq!(wait.sample(1), None);
    }
}
