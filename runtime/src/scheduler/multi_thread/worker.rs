//! One worker thread: its run loop, where it looks for work, and how it sleeps.
//!
//! The loop, per iteration: take the next task from this worker's deque, then from its
//! hand-over inbox (every [`FAIRNESS_INTERVAL`] ticks the injector and the local-task queue go
//! first); else reap posted completions; else search — steal a batch from a random victim the
//! packing rules allow (`packing.rs`), then from the injector; else park. The worker's own
//! [`Core`] is reachable through a thread-local pointer while the loop runs, so a task woken
//! or spawned on this thread goes into this worker's deque (or, woken by its driver, perhaps
//! into a calmer worker's inbox).

use super::packing::{self, CHECK_EVERY, INITIAL_RECHECK, MAX_RECHECK};
use super::rescue::STALL_CHECK_EVERY;
use super::{Shared, FAIRNESS_INTERVAL};
use crate::context;
use crate::loom::{fence, Ordering};
use crate::park::Park;
use crate::scheduler::local::LocalShared;
use crate::scheduler::Scheduler;
use crate::task::Runnable;
use crossbeam_deque::{Steal, Worker};
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything one worker owns. Lives on the worker thread's stack for the thread's life.
pub(crate) struct Core {
    index: usize,
    shared: Arc<Shared>,
    deque: Worker<Runnable>,
    parker: RefCell<Box<dyn Park>>,
    local: Arc<LocalShared>,
    tick: Cell<u32>,
    rng: Cell<u64>,
    is_searching: Cell<bool>,
    /// A task yielded: the next pick looks at the injector and the local-task queue first.
    yielded: Cell<bool>,
    /// The driver is reaping on this thread (not a task poll): see [`Core::push`].
    in_driver: Cell<bool>,
    /// Tasks run since the clock was last looked at.
    tasks_since_check: Cell<u32>,
    /// This thread's CPU statistics, to tell whether its CPU is contended.
    cpu_wait: RefCell<packing::CpuWait>,
    /// Per sibling: its poll count when this worker last saw it change, and when.
    seen_progress: RefCell<Vec<(u64, u64)>>,
    /// The current busy stretch has lasted [`packing::HELP_AFTER`].
    overloaded: Cell<bool>,
    /// The last search left work behind that the packing rules kept it from taking.
    declined: Cell<bool>,
    /// How long to sleep before looking again at declined work; doubles up to [`MAX_RECHECK`].
    recheck: Cell<Duration>,
    /// Until when this worker keeps watching its siblings (`rescue.rs`) even if none is busy
    /// when it parks: set when it was woken from an unwatched sleep, perhaps by a sibling
    /// starting a busy stretch, so that one sleeper is woken that way at most once per
    /// [`STALL_CHECK_EVERY`], however often the siblings' busy stretches start and end.
    watching_until: Cell<Option<Instant>>,
}

thread_local! {
    /// The worker running on this thread, if any.
    static CURRENT: Cell<*const Core> = const { Cell::new(std::ptr::null()) };
}

/// Pushes `task` onto this thread's worker deque if this thread is a worker of `shared`;
/// gives the task back otherwise.
pub(super) fn push_if_current(shared: &Arc<Shared>, task: Runnable) -> Result<(), Runnable> {
    push_with_current(shared, task, false)
}

/// Like [`push_if_current`], for a task that was woken during its own poll (`yield_now`, a
/// spent budget): the worker then looks at the injector and its local-task queue before its
/// deque, so that a task yielding in a loop does not keep those tasks waiting until the next
/// fairness tick.
pub(super) fn push_yielded_if_current(
    shared: &Arc<Shared>,
    task: Runnable,
) -> Result<(), Runnable> {
    push_with_current(shared, task, true)
}

fn push_with_current(shared: &Arc<Shared>, task: Runnable, yielded: bool) -> Result<(), Runnable> {
    let ptr = CURRENT.try_with(Cell::get).unwrap_or(std::ptr::null());
    if ptr.is_null() {
        return Err(task);
    }
    // SAFETY: CURRENT points at the `Core` on this thread's stack while `run` executes, and
    // `run` resets it before the core is dropped; we are on that thread.
    let core = unsafe { &*ptr };
    if !Arc::ptr_eq(&core.shared, shared) {
        return Err(task);
    }
    if yielded {
        core.yielded.set(true);
    }
    core.push(task);
    Ok(())
}

impl Core {
    pub(super) fn new(
        index: usize,
        shared: Arc<Shared>,
        deque: Worker<Runnable>,
        parker: Box<dyn Park>,
        local: Arc<LocalShared>,
    ) -> Core {
        let workers = shared.num_workers();
        Core {
            index,
            shared,
            deque,
            parker: RefCell::new(parker),
            local,
            tick: Cell::new(0),
            rng: Cell::new(
                0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F),
            ),
            is_searching: Cell::new(false),
            yielded: Cell::new(false),
            in_driver: Cell::new(false),
            tasks_since_check: Cell::new(0),
            cpu_wait: RefCell::new(packing::CpuWait::open()),
            seen_progress: RefCell::new(vec![(0, 0); workers]),
            overloaded: Cell::new(false),
            declined: Cell::new(false),
            recheck: Cell::new(INITIAL_RECHECK),
            watching_until: Cell::new(None),
        }
    }

    /// Queues a task spawned or woken on this worker, and wakes a sleeper to steal it if
    /// nobody is searching, except for tasks woken by this worker's own driver.
    ///
    /// Completions reaped by the driver (between polls, or while parking) wake their tasks
    /// here, and the worker runs them as soon as the reap returns. Waking another worker for
    /// them costs an eventfd write on this thread and a context switch on another CPU, and
    /// spreads connections over rings (see `packing.rs`), so the driver's wakes notify only
    /// when this worker is overloaded (and a sibling's CPU is not contended: such a sibling
    /// would only look and go back to sleep), and are handed over to a calm lower-numbered
    /// worker if there is one. A task spawned or woken *inside a poll* always notifies: that
    /// poll may never return (a blocking call), and the task must then be stolen.
    pub(super) fn push(&self, task: Runnable) {
        if !self.in_driver.get() {
            self.deque.push(task);
            self.shared.notify_parked();
            return;
        }
        let now = packing::now_ns(self.shared.epoch);
        if let Some(target) = self.shared.handover_target(self.index, now) {
            self.counters().hand_over();
            self.shared.hand_over(target, task);
            return;
        }
        self.deque.push(task);
        if self.overloaded.get() && self.shared.has_uncontended_sibling(self.index, now) {
            self.shared.notify_parked();
        }
    }

    fn next_task(&self) -> Option<Runnable> {
        let tick = self.tick.get();
        self.tick.set(tick.wrapping_add(1));
        if self.yielded.replace(false) {
            // Everything else that is runnable goes before a task that yielded (asyncio's
            // `sleep(0)`), not only what sits in this worker's deque.
            if let Some(task) = self.pop_injector().or_else(|| self.local.pop()) {
                return Some(task);
            }
        }
        match tick % FAIRNESS_INTERVAL {
            0 => {
                // Submit the I/O queued by the last ticks and reap completions: their wakers
                // queue tasks here (or on their owners). Then do the same for a sibling stuck
                // in a long poll (`rescue.rs`).
                self.poll_driver();
                self.rescue_stalled_siblings();
                if let Some(task) = self
                    .pop_injector()
                    .or_else(|| self.local.pop())
                    .or_else(|| self.pop_handed())
                {
                    return Some(task);
                }
            }
            n if n == FAIRNESS_INTERVAL / 2 => {
                if let Some(task) = self.local.pop() {
                    return Some(task);
                }
            }
            _ => {}
        }
        self.deque
            .pop()
            .or_else(|| self.pop_handed())
            .or_else(|| self.local.pop())
            .or_else(|| self.pop_injector())
    }

    /// Whether this worker may steal from `victim`'s deque, and from its hand-over inbox
    /// (see `packing.rs`).
    fn may_steal_from(&self, victim: usize, now: u64) -> (bool, bool) {
        if victim == self.index {
            return (false, false);
        }
        let queued = self.shared.stealers[victim].len();
        if self.load().is_contended(now) {
            // This CPU is contended: take only a long backlog, or from a sibling that makes
            // no progress.
            let stalled = self.is_stalled(victim, now);
            return (stalled || queued >= packing::CONTENDED_STEAL_LEN, stalled);
        }
        let long_deque = queued >= packing::STEAL_ANYWAY_LEN;
        let load = &self.shared.remotes[victim].load;
        if load.is_stuck(now) {
            return (true, true);
        }
        (load.is_helpable(now) || long_deque, false)
    }

    /// Looks at every queue once more before sleeping: true if one this worker may take from
    /// holds a task. Work the packing rules keep it from taking sets `declined`, so that the
    /// sleep has a timeout: that work's owner may be stuck, and nobody else may look.
    fn recheck_before_parking(&self) -> bool {
        if !self.shared.injector.is_empty() {
            return true;
        }
        let now = packing::now_ns(self.shared.epoch);
        let mut stealable = false;
        for victim in (0..self.shared.remotes.len()).filter(|&v| v != self.index) {
            for (queue, allowed) in self.victim_queues(victim, now) {
                if queue.is_empty() {
                    continue;
                }
                if allowed {
                    stealable = true;
                } else {
                    self.declined.set(true);
                }
            }
        }
        stealable
    }

    /// `victim`'s deque and hand-over inbox, each with whether this worker may steal from it.
    fn victim_queues(&self, victim: usize, now: u64) -> [(&dyn StealSource, bool); 2] {
        let (deque_allowed, handed_allowed) = self.may_steal_from(victim, now);
        [
            (&self.shared.stealers[victim], deque_allowed),
            (&self.shared.remotes[victim].handed, handed_allowed),
        ]
    }

    /// True if `victim` has run no task since this worker last looked, at least
    /// [`packing::HELP_AFTER`] ago: it is stuck in one poll, or not given a CPU.
    fn is_stalled(&self, victim: usize, now: u64) -> bool {
        let polls = self.shared.counters(victim).polls();
        let mut seen = self.seen_progress.borrow_mut();
        let (seen_polls, seen_at) = &mut seen[victim];
        if *seen_polls != polls || *seen_at == 0 {
            (*seen_polls, *seen_at) = (polls, now);
            return false;
        }
        now.saturating_sub(*seen_at) >= packing::HELP_AFTER
    }

    /// Takes tasks other workers handed over to this one.
    fn pop_handed(&self) -> Option<Runnable> {
        self.take_batch(&self.shared.remotes[self.index].handed)
    }

    /// Moves a batch from `queue` into this worker's deque and returns its first task,
    /// retrying while the queue is contended.
    fn take_batch(&self, queue: &dyn StealSource) -> Option<Runnable> {
        loop {
            match queue.steal_batch_and_pop(&self.deque) {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
    }

    fn pop_injector(&self) -> Option<Runnable> {
        let task = self.take_batch(&self.shared.injector)?;
        self.counters().injector_pull();
        Some(task)
    }

    fn next_random(&self, below: usize) -> usize {
        // xorshift64*: cheap, and good enough to spread victims.
        let mut x = self.rng.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize % below
    }

    /// Looks for work in other workers' deques and the injector, as a searcher, following the
    /// packing rules (see `packing.rs`): work they keep it from taking sets `declined`.
    fn steal_work(&self) -> Option<Runnable> {
        self.declined.set(false);
        if !self.is_searching.get() {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching.set(true);
        }
        let stealers = &self.shared.stealers;
        let n = stealers.len();
        let start = self.next_random(n);
        let now = packing::now_ns(self.shared.epoch);
        loop {
            let mut retry = false;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                for (queue, allowed) in self.victim_queues(victim, now) {
                    if !allowed {
                        if !queue.is_empty() {
                            self.declined.set(true);
                        }
                        continue;
                    }
                    match queue.steal_batch_and_pop(&self.deque) {
                        Steal::Success(task) => {
                            self.counters().steal();
                            return Some(task);
                        }
                        Steal::Retry => retry = true,
                        Steal::Empty => {}
                    }
                }
            }
            match self.shared.injector.steal_batch_and_pop(&self.deque) {
                Steal::Success(task) => {
                    self.counters().injector_pull();
                    return Some(task);
                }
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            if !retry {
                return None;
            }
        }
    }

    fn run_task(&self, task: Runnable) {
        if self.is_searching.replace(false) && self.shared.idle.transition_worker_from_searching() {
            // Step 2 of the protocol in `idle.rs`: the last searcher found work, so there may
            // be more; let another worker look.
            self.shared.notify_parked();
        }
        self.counters().poll();
        self.note_busy();
        self.shared.run_task(self.index, task);
    }

    fn load(&self) -> &packing::WorkerLoad {
        &self.shared.remotes[self.index].load
    }

    /// Counts a task of the current busy stretch. Once the stretch has lasted
    /// [`packing::HELP_AFTER`] (or the deque is long), says so to the siblings and wakes one
    /// to help (see `packing.rs`). Also samples this thread's CPU wait now and then.
    fn note_busy(&self) {
        let checks = self.tasks_since_check.get() + 1;
        let check_now = checks >= CHECK_EVERY;
        self.tasks_since_check
            .set(if check_now { 0 } else { checks });
        let Some(since) = self.load().busy_since() else {
            let now = packing::now_ns(self.shared.epoch);
            self.recheck.set(INITIAL_RECHECK);
            self.load().start_busy(now);
            // Step 3 of `rescue.rs`: a sibling sleeping unwatched must watch this stretch, in
            // case a poll of it never returns. Pairs with the fence in `park`.
            fence(Ordering::SeqCst);
            if let Some(sleeper) = self.shared.watchers.wake_one(self.index) {
                self.shared.remotes[sleeper].unparker.unpark();
            }
            return;
        };
        if !check_now {
            return;
        }
        let now = packing::now_ns(self.shared.epoch);
        if let Some(percent) = self.cpu_wait.borrow_mut().sample(now) {
            self.load().set_wait_percent(now, percent);
        }
        let long_stretch = now.saturating_sub(since) >= packing::HELP_AFTER;
        let long_queue = self.deque.len() >= packing::STEAL_ANYWAY_LEN;
        if !(long_stretch || long_queue) {
            return;
        }
        self.load().mark_overloaded(now);
        if !self.overloaded.replace(true) && self.shared.has_uncontended_sibling(self.index, now) {
            self.shared.notify_parked();
        }
    }

    /// This worker ran dry: its busy stretch is over.
    fn note_dry(&self) {
        if self.load().busy_since().is_some() {
            self.overloaded.set(false);
            self.load().end_busy();
        }
    }

    fn counters(&self) -> &crate::metrics::Counters {
        self.shared.counters(self.index)
    }

    /// Flushes the ring and records its counters.
    fn poll_driver(&self) {
        let mut parker = self.parker.borrow_mut();
        self.in_driver.set(true);
        parker.poll();
        self.in_driver.set(false);
        if let Some(stats) = parker.stats() {
            self.counters().ring(stats);
        }
    }

    /// Dispatches completions already posted, without a syscall.
    fn reap_driver(&self) {
        self.in_driver.set(true);
        self.parker.borrow_mut().reap();
        self.in_driver.set(false);
    }

    /// Whether a sibling is running tasks (and so might get stuck in one).
    fn any_sibling_busy(&self) -> bool {
        (0..self.shared.remotes.len())
            .any(|w| w != self.index && self.shared.remotes[w].load.busy_since().is_some())
    }

    /// Steps 1 and 2 of `rescue.rs`: drives the driver of every sibling stalled in one poll
    /// (its timers, completions, queued submissions and cancels); the tasks this wakes are
    /// queued here.
    fn rescue_stalled_siblings(&self) -> SiblingWatch {
        let mut watch = SiblingWatch::default();
        let mut now = None;
        for victim in (0..self.shared.remotes.len()).filter(|&v| v != self.index) {
            let remote = &self.shared.remotes[victim];
            if remote.load.busy_since().is_none() {
                continue;
            }
            watch.busy_sibling = true;
            let now = *now.get_or_insert_with(|| packing::now_ns(self.shared.epoch));
            if !self.is_stalled(victim, now) {
                continue;
            }
            if let Some(helped) = remote.driver.help() {
                watch.woken += helped.dispatched;
                watch.next_timer = match (watch.next_timer, helped.next_timer) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                self.counters().rescue(helped.dispatched);
            }
        }
        watch
    }

    /// How long to sleep, at most, to keep watching the siblings `watch` found busy, or to
    /// the end of the watch this worker keeps after an unwatched sleep.
    fn watch_timeout(&self, watch: &SiblingWatch) -> Option<Duration> {
        if !watch.busy_sibling {
            // No clock read for a worker that keeps no watch (most parks of an idle runtime);
            // an ended watch is forgotten, so it costs no clock read either.
            let until = self.watching_until.get()?;
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.watching_until.set(None);
                return None;
            }
            return Some(left);
        }
        let until_timer = watch
            .next_timer
            .map(|deadline| deadline.saturating_duration_since(Instant::now()));
        Some(until_timer.map_or(STALL_CHECK_EVERY, |t| t.min(STALL_CHECK_EVERY)))
    }

    /// Sleeps until woken for work (or shutdown).
    fn park(&self) {
        let watch = self.rescue_stalled_siblings();
        if watch.woken > 0 && !self.deque.is_empty() {
            // The rescue woke tasks onto this worker: run them.
            return;
        }
        let was_searching = self.is_searching.replace(false);
        let last_searcher = self
            .shared
            .idle
            .transition_worker_to_parked(self.index, was_searching);
        // Pairs with the fence in `Idle::should_wake_someone` (step 3 of the protocol).
        fence(Ordering::SeqCst);
        if self.recheck_before_parking() && last_searcher {
            self.shared.notify_parked();
        }
        self.counters().park();
        // Work the packing rules kept this worker from taking may belong to a worker stuck in
        // a long poll: look again later, less often each time nothing comes of it.
        let declined = self.declined.get().then(|| {
            let timeout = self.recheck.get();
            self.recheck.set((timeout * 2).min(MAX_RECHECK));
            timeout
        });
        // A busy sibling is watched (`rescue.rs`): look at it again soon.
        let mut timeout = match (declined, self.watch_timeout(&watch)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut unwatched = false;
        if timeout.is_none() {
            // Step 3 of `rescue.rs`: publish, then look once more (pairs with the fence in
            // `note_busy`).
            self.shared.watchers.sleep_unwatched(self.index);
            fence(Ordering::SeqCst);
            if self.any_sibling_busy() {
                self.shared.watchers.stop_unwatched(self.index);
                timeout = Some(STALL_CHECK_EVERY);
            } else {
                unwatched = true;
            }
        }
        self.sleep(timeout, unwatched);
        if unwatched {
            self.shared.watchers.stop_unwatched(self.index);
            self.watching_until
                .set(Some(Instant::now() + STALL_CHECK_EVERY));
        }
    }

    /// The sleep of [`park`](Core::park), then the bookkeeping of why it ended. Every
    /// wake-up goes back to the run loop, which looks for work and parks again if there is
    /// none (re-establishing the watch of `rescue.rs`): sleeping with a timeout, it was time
    /// to look at declined work or busy siblings; sleeping unwatched (`unwatched`), the
    /// wake-up may be a sibling's that started a busy stretch and cleared this worker's mark.
    fn sleep(&self, timeout: Option<Duration>, unwatched: bool) {
        debug_assert!(timeout.is_some() || unwatched);
        self.in_driver.set(true);
        self.parker.borrow_mut().park(timeout);
        self.in_driver.set(false);
        if self.shared.is_shutdown() {
            return;
        }
        if !self.shared.idle.is_parked(self.index) {
            // A notifier took us off the sleeper list: we are a searcher now.
            self.is_searching.set(true);
            return;
        }
        // Woken for a local task, by the park's own reaping (tasks on this worker's deque),
        // by the timeout, or by a sibling. If a notifier also picked us, we count as searching.
        self.is_searching
            .set(!self.shared.idle.unpark_worker_by_id(self.index));
    }
}

/// What a look at the siblings found (`rescue.rs`).
#[derive(Debug, Default)]
struct SiblingWatch {
    /// A sibling is running tasks: keep watching it.
    busy_sibling: bool,
    /// The earliest timer deadline of a stalled sibling that was helped.
    next_timer: Option<Instant>,
    /// Wakers the rescue woke (tasks now queued on this worker, most of them).
    woken: usize,
}

/// A queue a searcher takes a batch from: a sibling's deque or hand-over inbox.
trait StealSource {
    fn is_empty(&self) -> bool;
    fn steal_batch_and_pop(&self, dest: &Worker<Runnable>) -> Steal<Runnable>;
}

impl StealSource for crossbeam_deque::Stealer<Runnable> {
    fn is_empty(&self) -> bool {
        crossbeam_deque::Stealer::is_empty(self)
    }
    fn steal_batch_and_pop(&self, dest: &Worker<Runnable>) -> Steal<Runnable> {
        crossbeam_deque::Stealer::steal_batch_and_pop(self, dest)
    }
}

impl StealSource for crossbeam_deque::Injector<Runnable> {
    fn is_empty(&self) -> bool {
        crossbeam_deque::Injector::is_empty(self)
    }
    fn steal_batch_and_pop(&self, dest: &Worker<Runnable>) -> Steal<Runnable> {
        crossbeam_deque::Injector::steal_batch_and_pop(self, dest)
    }
}

/// The worker thread's body.
pub(super) fn run(core: Core) {
    let core = &core;
    let _enter = context::enter(Scheduler::Multi(core.shared.clone()), core.local.clone());
    CURRENT.with(|current| current.set(core));
    struct ResetCurrent;
    impl Drop for ResetCurrent {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|current| current.set(std::ptr::null()));
        }
    }
    let _reset = ResetCurrent;

    while !core.shared.is_shutdown() {
        if let Some(task) = core.next_task() {
            core.run_task(task);
            continue;
        }
        // Out of local work: dispatch the completions already posted (they may queue tasks
        // here) before looking elsewhere. No syscall: what this worker queued is submitted
        // by the park below, in the same `io_uring_enter` that waits, or by the next
        // fairness tick if work turns up.
        core.reap_driver();
        if let Some(task) = core.next_task() {
            core.run_task(task);
            continue;
        }
        core.note_dry();
        if let Some(task) = core.steal_work() {
            core.run_task(task);
        } else {
            core.park();
        }
    }

    // Cancel this worker's local tasks here, on their thread, then drop what is queued (the
    // shared owner list's shutdown cancels those tasks).
    core.local.shutdown();
    while let Some(task) = core.deque.pop().or_else(|| core.pop_handed()) {
        drop(task);
    }
}
