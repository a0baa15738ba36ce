//! Which workers are asleep, which are searching for work, and whom to wake.
//!
//! One atomic word counts *searching* workers (awake, with empty queues, looking for work to
//! steal) and *unparked* workers (not asleep); a mutex-protected list names the sleepers.
//!
//! # The no-lost-wake-up protocol
//! 1. Whoever makes work available (pushes to a worker deque or the injector) then calls
//!    [`Idle::worker_to_notify`], which reads the counts after a `SeqCst` fence.
//!    If a worker is searching, nobody is woken: the searcher will find the work.
//! 2. A searching worker that finds work stops searching; if it was the last searcher, it
//!    wakes another sleeper ([`Idle::transition_worker_from_searching`] returns true), so that
//!    the rest of the work does not wait for it.
//! 3. A worker that goes to sleep first registers as a sleeper
//!    ([`Idle::transition_worker_to_parked`], a `SeqCst` read-modify-write of the same word).
//!    If it was the last searcher, it then checks every queue once more and wakes a sleeper if
//!    it finds work: any push that saw it still searching (step 1) happened before that check.
//! 4. At most half the workers search at once, so a burst of wake-ups does not make every
//!    idle worker hammer the others' deques.

use crate::loom::{fence, AtomicUsize, Mutex, Ordering};

const UNPARKED_SHIFT: usize = 16;
const SEARCHING_MASK: usize = (1 << UNPARKED_SHIFT) - 1;
/// The most workers the packed counts can represent.
pub(crate) const MAX_WORKERS: usize = SEARCHING_MASK;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCHING_MASK
}

fn unparked(state: usize) -> usize {
    state >> UNPARKED_SHIFT
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        Idle {
            state: AtomicUsize::new(num_workers << UNPARKED_SHIFT),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    fn should_wake_someone(&self) -> bool {
        // The fence orders this read after the caller's push; it pairs with the fence a
        // parking worker issues between registering as a sleeper and checking the queues
        // again (step 3 of the protocol): one of the two sees the other's write.
        fence(Ordering::SeqCst);
        let state = self.state.load(Ordering::SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// Picks a sleeping worker to wake (now counted as unparked and searching), if work was
    /// just made available and nobody is searching.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.should_wake_someone() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.should_wake_someone() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state
            .fetch_add(1 | (1 << UNPARKED_SHIFT), Ordering::SeqCst);
        Some(worker)
    }

    /// Tries to become a searcher; false if half the workers already search.
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(Ordering::SeqCst);
        if 2 * searching(state) >= self.num_workers {
            return false;
        }
        // Racing workers may overshoot the cap by a little; that only costs some CPU.
        self.state.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Stops searching; true if this was the last searcher (the caller must wake another).
    #[must_use]
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// Registers `worker` as a sleeper; true if it was the last searcher (the caller must check
    /// all queues again before sleeping).
    #[must_use]
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = (1 << UNPARKED_SHIFT) | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(worker);
        is_searching && searching(prev) == 1
    }

    /// Takes `worker` off the sleeper list if it is there (it woke for a reason of its own,
    /// such as a local task); true if it was (it is now unparked but not searching), false if
    /// somebody already woke it as a searcher.
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        let Some(pos) = sleepers.iter().position(|&w| w == worker) else {
            return false;
        };
        sleepers.swap_remove(pos);
        self.state.fetch_add(1 << UNPARKED_SHIFT, Ordering::SeqCst);
        true
    }

    /// True if `worker` is on the sleeper list (a wake-up it sees was spurious).
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().contains(&worker)
    }
}
