//! Finding what a runtime owns besides its scheduler (its blocking pool, its signal
//! handlers) from a [`Handle`](crate::Handle) or from a thread inside the runtime, which know
//! only the scheduler.
//!
//! A [`Table`] of the live runtimes' values, keyed by the identity of each runtime's scheduler
//! (the address of its shared state). The owner lists a value when `Builder::build` makes the
//! runtime, before any task of it exists, and unlists it in `Runtime`'s drop. A row therefore
//! only exists while its `Runtime` holds the scheduler, so no other scheduler can have that
//! address meanwhile; a `Handle` that outlives its runtime finds nothing. Rows hold the value
//! weakly: the `Runtime` is its only owner.
//!
//! A table is read once per use (an uncontended read lock), and written once per runtime
//! built and dropped. Its lock is a process-wide static, which a loom object cannot be; it
//! guards only this bookkeeping, never a step of the protocol of what it finds.
//!
//! The direct design, a field in the scheduler's shared state, would change `scheduler/`
//! for each thing a runtime owns; once the shared state has a slot for such things, this
//! module can go.

use crate::scheduler::Scheduler;
use std::sync::{Arc, Weak};

/// The values of type `T` of the live runtimes.
pub(crate) struct Table<T> {
    rows: parking_lot::RwLock<Vec<Row<T>>>,
}

/// One live runtime's value.
struct Row<T> {
    key: Key,
    value: Weak<T>,
}

/// The identity of a runtime: the address of its scheduler's shared state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key(usize);

impl Key {
    pub(crate) fn of(scheduler: &Scheduler) -> Key {
        Key(match scheduler {
            Scheduler::Multi(shared) => Arc::as_ptr(shared) as usize,
            Scheduler::Single(local) => Arc::as_ptr(local) as usize,
        })
    }
}

impl<T> Table<T> {
    /// An empty table, for a `static`.
    pub(crate) const fn new() -> Table<T> {
        Table {
            rows: parking_lot::const_rwlock(Vec::new()),
        }
    }

    /// Lists `value` as the one of the runtime `key`.
    pub(crate) fn list(&self, key: Key, value: &Arc<T>) {
        let mut rows = self.rows.write();
        debug_assert!(
            rows.iter().all(|row| row.key != key),
            "a runtime is listed once"
        );
        rows.push(Row {
            key,
            value: Arc::downgrade(value),
        });
    }

    /// Takes the runtime `key` off the table.
    pub(crate) fn unlist(&self, key: Key) {
        let removed = {
            let mut rows = self.rows.write();
            rows.iter()
                .position(|row| row.key == key)
                .map(|at| rows.swap_remove(at))
        };
        drop(removed);
    }

    /// The value of `scheduler`'s runtime, or `None` once that runtime has been dropped.
    pub(crate) fn find(&self, scheduler: &Scheduler) -> Option<Arc<T>> {
        let key = Key::of(scheduler);
        self.rows
            .read()
            .iter()
            .find(|row| row.key == key)
            .and_then(|row| row.value.upgrade())
    }
}
