//! One worker thread: its run loop, where it looks for work, and how it sleeps.
//!
//! The loop, per iteration: take the next task from this worker's deque (every
//! [`FAIRNESS_INTERVAL`] ticks the injector and the local-task queue go first); else search —
//! steal a batch from a random victim, then from the injector; else park. The worker's own
//! [`Core`] is reachable through a thread-local pointer while the loop runs, so a task woken
//! or spawned on this thread goes straight into this worker's deque.

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
        }
    }

    /// Queues a task spawned or woken on this worker, and wakes a sleeper to steal it if
    /// nobody is searching, except for a lone task woken by this worker's own driver.
    ///
    /// Completions reaped by the driver (between polls, or while parking) wake their tasks
    /// here, and the worker runs them as soon as the reap returns. Waking another worker for
    /// the first such task costs an eventfd write on this thread and a context switch on
    /// another CPU, only for the sleeper to find the deque empty again (on `tcp_latency`,
    /// every message paid for it). So a second task is needed before the driver's wakes
    /// notify anyone. A task spawned or woken *inside a poll* always notifies: that poll may
    /// never return (a blocking call), and the task must then be stolen.
    pub(super) fn push(&self, task: Runnable) {
        self.deque.push(task);
        if !self.in_driver.get() || self.deque.len() > 1 {
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
                // queue tasks here (or on their owners).
                self.poll_driver();
                if let Some(task) = self.pop_injector().or_else(|| self.local.pop()) {
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
            .or_else(|| self.local.pop())
            .or_else(|| self.pop_injector())
    }

    fn pop_injector(&self) -> Option<Runnable> {
        loop {
            match self.shared.injector.steal_batch_and_pop(&self.deque) {
                Steal::Success(task) => {
                    self.counters().injector_pull();
                    return Some(task);
                }
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        }
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

    /// Looks for work in other workers' deques and the injector, as a searcher.
    fn steal_work(&self) -> Option<Runnable> {
        if !self.is_searching.get() {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching.set(true);
        }
        let stealers = &self.shared.stealers;
        let n = stealers.len();
        let start = self.next_random(n);
        loop {
            let mut retry = false;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                match stealers[victim].steal_batch_and_pop(&self.deque) {
                    Steal::Success(task) => {
                        self.counters().steal();
                        return Some(task);
                    }
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
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
        self.shared.run_task(self.index, task);
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

    /// Sleeps until woken for work (or shutdown).
    fn park(&self) {
        let was_searching = self.is_searching.replace(false);
        let last_searcher = self
            .shared
            .idle
            .transition_worker_to_parked(self.index, was_searching);
        // Pairs with the fence in `Idle::should_wake_someone` (step 3 of the protocol).
        fence(Ordering::SeqCst);
        if last_searcher && self.shared.has_stealable_work() {
            self.shared.notify_parked();
        }
        self.counters().park();
        loop {
            self.in_driver.set(true);
            self.parker.borrow_mut().park(None);
            self.in_driver.set(false);
            if self.shared.is_shutdown() {
                return;
            }
            if !self.local.is_idle() || !self.deque.is_empty() {
                // Woken for a local task, or the park's own reaping woke tasks onto this
                // worker's deque. If a notifier also picked us, we count as searching.
                self.is_searching
                    .set(!self.shared.idle.unpark_worker_by_id(self.index));
                return;
            }
            if !self.shared.idle.is_parked(self.index) {
                // A notifier took us off the sleeper list: we are a searcher now.
                self.is_searching.set(true);
                return;
            }
            // Spurious wake-up: sleep again.
        }
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
        if let Some(task) = core.next_task().or_else(|| core.steal_work()) {
            core.run_task(task);
        } else {
            core.park();
        }
    }

    // Cancel this worker's local tasks here, on their thread, then drop what is queued (the
    // shared owner list's shutdown cancels those tasks).
    core.local.shutdown();
    while let Some(task) = core.deque.pop() {
        drop(task);
    }
}
