//! Finding the blocking pool of the runtime a thread is in.
//!
//! A table of the live runtimes' pools, keyed by the identity of each runtime's scheduler
//! (the address of its shared state). [`BlockingPool::new`](super::BlockingPool::new) lists a
//! pool when `Builder::build` makes it, before any task of the runtime exists, and
//! [`BlockingPool::shutdown`](super::BlockingPool::shutdown) unlists it in `Runtime`'s drop.
//! A row therefore only exists while its `Runtime` holds the scheduler, so no other scheduler
//! can have that address meanwhile; a `Handle` that outlives its runtime finds nothing, and
//! its calls are cancelled. Rows hold the pool weakly: the `Runtime` is its only owner.
//!
//! The table is read once per blocking call (an uncontended read lock next to the pool's own
//! mutex and a thread hand-off), and written once per runtime built and dropped. Its lock is a
//! process-wide static, which a loom object cannot be; it guards only this bookkeeping, never
//! a step of the pool's protocol.

use super::pool::Pool;
use crate::scheduler::Scheduler;
use std::sync::{Arc, Weak};

/// One live runtime's pool.
struct Row {
    key: Key,
    pool: Weak<Pool>,
}

static POOLS: parking_lot::RwLock<Vec<Row>> = parking_lot::const_rwlock(Vec::new());

/// The identity of a runtime: the address of its scheduler's shared state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Key(usize);

impl Key {
    pub(super) fn of(scheduler: &Scheduler) -> Key {
        Key(match scheduler {
            Scheduler::Multi(shared) => Arc::as_ptr(shared) as usize,
            Scheduler::Single(local) => Arc::as_ptr(local) as usize,
        })
    }
}

/// Lists `pool` as the pool of the runtime `key`.
pub(super) fn list(key: Key, pool: &Arc<Pool>) {
    let mut rows = POOLS.write();
    debug_assert!(
        rows.iter().all(|row| row.key != key),
        "a runtime is listed once"
    );
    rows.push(Row {
        key,
        pool: Arc::downgrade(pool),
    });
}

/// Takes the runtime `key` off the table.
pub(super) fn unlist(key: Key) {
    let removed = {
        let mut rows = POOLS.write();
        rows.iter()
            .position(|row| row.key == key)
            .map(|at| rows.swap_remove(at))
    };
    drop(removed);
}

/// The pool of `scheduler`'s runtime, or `None` once that runtime has been dropped.
pub(super) fn find(scheduler: &Scheduler) -> Option<Arc<Pool>> {
    let key = Key::of(scheduler);
    POOLS
        .read()
        .iter()
        .find(|row| row.key == key)
        .and_then(|row| row.pool.upgrade())
}
