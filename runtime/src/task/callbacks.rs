//! Done callbacks (`Task::add_done_callback`): functions run once when the task completes.
//!
//! A task that never gets a callback pays one null pointer in its header. The first
//! registration allocates the list and installs it with a compare-and-swap; completion
//! installs a `FIRED` marker the same way if no list is there. Exactly one of the two wins:
//!
//! - the registration won: completion locks the list, marks it fired and runs what it holds;
//!   a registration that takes the lock after that runs its callback itself;
//! - completion won: a registration that sees the marker runs its callback itself.
//!
//! Either way every callback runs exactly once, after the task completed. The list is freed
//! with the task, never earlier, so a registration holding a pointer to it stays valid.

use super::info::TaskInfo;
use super::raw::Header;
use crate::loom::{AtomicPtr, Mutex, Ordering};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// A callback given to `Task::add_done_callback`.
pub(crate) type DoneCallback = Box<dyn FnOnce(&TaskInfo) + Send + 'static>;

/// The header's callback slot: null, `FIRED`, or an owned `*mut CallbackList`.
pub(crate) struct Callbacks(AtomicPtr<CallbackList>);

struct CallbackList {
    inner: Mutex<(bool, Vec<DoneCallback>)>,
}

/// Marks a slot whose task completed before any callback was registered. Never dereferenced.
fn fired() -> *mut CallbackList {
    // A dangling, well-aligned address that no allocation can have.
    ptr::NonNull::<CallbackList>::dangling().as_ptr()
}

impl Callbacks {
    pub(crate) fn new() -> Callbacks {
        Callbacks(AtomicPtr::new(ptr::null_mut()))
    }

    /// Registers `callback`, or runs it now if the task (`header`) already completed.
    pub(crate) fn add(&self, header: &Header, callback: DoneCallback) {
        let mut current = self.0.load(Ordering::Acquire);
        if current.is_null() {
            let list = Box::into_raw(Box::new(CallbackList {
                inner: Mutex::new((false, Vec::new())),
            }));
            match self.0.compare_exchange(
                ptr::null_mut(),
                list,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => current = list,
                Err(actual) => {
                    // SAFETY: `list` was never published; it is still ours alone.
                    drop(unsafe { Box::from_raw(list) });
                    current = actual;
                }
            }
        }
        if current == fired() {
            return run(header, callback);
        }
        // SAFETY: a non-null, non-marker pointer is a list owned by the task, freed only with
        // the task, which the caller keeps alive.
        let list = unsafe { &*current };
        let mut inner = list.inner.lock();
        if inner.0 {
            drop(inner);
            run(header, callback);
        } else {
            inner.1.push(callback);
        }
    }

    /// Runs every registered callback; called once, after the task completed.
    pub(crate) fn fire(&self, header: &Header) {
        let current = match self.0.compare_exchange(
            ptr::null_mut(),
            fired(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return,
            Err(actual) => actual,
        };
        debug_assert!(current != fired(), "a task completes once");
        // SAFETY: as in `add`: the list lives as long as the task.
        let list = unsafe { &*current };
        let callbacks = {
            let mut inner = list.inner.lock();
            inner.0 = true;
            std::mem::take(&mut inner.1)
        };
        for callback in callbacks {
            run(header, callback);
        }
    }
}

/// Runs one callback, logging a panic instead of letting it unwind into the scheduler.
fn run(header: &Header, callback: DoneCallback) {
    let info = TaskInfo::of(header);
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(&info))) {
        crate::report::report!(
            Error,
            "a done callback of task {} panicked: {}",
            header.id,
            super::error::panic_message(payload.as_ref())
        );
    }
}

impl Drop for Callbacks {
    fn drop(&mut self) {
        let current = self.0.load(Ordering::Acquire);
        if !current.is_null() && current != fired() {
            // SAFETY: the task is being freed: nobody else can reach the list.
            drop(unsafe { Box::from_raw(current) });
        }
    }
}
