//! Tasks: one heap allocation per spawned future, scheduled by reference-counted pointers.
//!
//! # Layout
//! A task is a single `Box<Cell<F, S>>` (see `raw.rs`): a `#[repr(C)]` header (state word,
//! vtable, id, owner-list slot, name), the scheduler handle `S`, the future — replaced by its
//! output when it finishes — and the join handle's waker. Everything else refers to it by a
//! type-erased [`RawTask`] pointer and goes through the vtable.
//!
//! # References
//! The state word (`state.rs`) counts references. Each of these holds exactly one:
//! - the scheduler's owner list (`list.rs`), from spawn until completion or shutdown;
//! - each [`Runnable`] (a task sitting in a run queue, or being run);
//! - the [`Task`] handle, until dropped;
//! - each [`Waker`](std::task::Waker) clone.
//!
//! The task is freed when the count reaches zero, by whoever dropped the last one.
//!
//! # The protocol, step by step
//! 1. **Spawn**: allocate with `NOTIFIED | JOIN_INTEREST` and three references; insert into the
//!    owner list (if it is closed, cancel at once); queue the first `Runnable`.
//! 2. **Run**: the worker pops a `Runnable` and calls `transition_to_running`, which clears
//!    `NOTIFIED` and sets `RUNNING` — or reports that the task was cancelled (drop the future
//!    instead) or is owned/complete elsewhere (just release the reference).
//! 3. **Wake**: `transition_to_notified_*` sets `NOTIFIED`. If the task is idle, the waker
//!    queues a new `Runnable` through the task's scheduler; if it is running, the bit alone
//!    makes the worker queue it again after the poll; if it is queued or complete, nothing.
//! 4. **Pending**: `transition_to_idle` clears `RUNNING`. If `NOTIFIED` was set meanwhile
//!    the same `Runnable` goes to the back of a queue (this is how `yield_now` works); if
//!    `CANCELLED` was set, the future is dropped now.
//! 5. **Complete**: the future is dropped, the outcome stored, `COMPLETE` set. If the handle is
//!    gone the outcome is dropped here (a panic is logged); otherwise its waker is woken. That
//!    waker is the awaiting side's code: a panic in its `wake` or `Drop` is reported and
//!    caught (`crate::user_waker`), never let through the bookkeeping or the worker. The task
//!    leaves the owner list.
//! 6. **Cancel**: if the task is idle and its future may be dropped on the calling thread
//!    (any thread for a `Send` task, the owner thread for a local one), the caller claims it
//!    (`RUNNING`) and drops the future on the spot. Otherwise `CANCELLED` is set and the task
//!    queued, and its worker drops the future when it pops it.
//! 7. **Shutdown**: the scheduler drains the owner list and cancels every task in it, each on
//!    a thread where its future may be dropped.

mod callbacks;
mod error;
mod harness;
mod id;
mod info;
mod join;
mod list;
mod raw;
mod state;
mod waker;

#[cfg(all(test, loom))]
mod loom_task;

pub use error::{PanicPayload, TaskError};
pub use id::TaskId;
pub use info::{TaskInfo, TaskState};
pub use join::Task;

pub(crate) use error::panic_message;
pub(crate) use list::OwnedTasks;
pub(crate) use raw::{Header, RawTask};

use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queues a task that was woken (or spawned).
    fn schedule(&self, task: Runnable);

    /// Queues a task that was woken while it was running (it yielded): behind the tasks
    /// already waiting, never in a fast slot.
    fn reschedule(&self, task: Runnable) {
        self.schedule(task);
    }

    /// Removes a completed task from the owner list; true if it was there (the list's
    /// reference now belongs to the caller).
    fn release(&self, task: RawTask) -> bool;

    /// Whether the calling thread may drop this scheduler's task futures.
    fn can_drop_here(&self) -> bool;
}

/// A task ready to run: one reference, and the permission to run the task once.
pub(crate) struct Runnable {
    raw: RawTask,
}

impl Runnable {
    pub(crate) fn from_raw(ptr: NonNull<Header>) -> Runnable {
        Runnable {
            raw: RawTask::from_header(ptr),
        }
    }

    /// Runs the task (polls it, or cancels it).
    pub(crate) fn run(self) {
        let this = ManuallyDrop::new(self);
        this.raw.run();
    }

    /// Runs the task and logs a warning if the poll took `threshold` or longer.
    pub(crate) fn run_reporting_slow(self, threshold: std::time::Duration) {
        let raw = self.raw;
        // Keep the header alive past the poll, which may complete and free the task.
        raw.header().state.ref_inc();
        let start = std::time::Instant::now();
        self.run();
        let took = start.elapsed();
        if took >= threshold {
            let header = raw.header();
            crate::report::report!(
                Warn,
                "slow poll: task {} ({}) held its thread for {:?} in one poll (threshold {:?}); \
                 a blocking call in a task stalls every task queued behind it: move it to a \
                 blocking thread",
                header.id,
                header.name.as_deref().unwrap_or("unnamed"),
                took,
                threshold
            );
        }
        raw.drop_reference();
    }

    pub(crate) fn id(&self) -> TaskId {
        self.raw.id()
    }

    /// Queues the task on its own scheduler, handing over this `Runnable`'s reference.
    fn schedule(self) {
        let this = ManuallyDrop::new(self);
        let header = this.raw.header();
        // SAFETY: the reference this Runnable holds becomes the queued one, as `schedule`
        // requires; `ManuallyDrop` keeps it from being released here as well.
        unsafe { (header.vtable.schedule)(this.raw.header_ptr()) }
    }
}

impl Drop for Runnable {
    /// A runnable dropped without running (a queue emptied at shutdown) gives up its reference.
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for Runnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Runnable").field(&self.id()).finish()
    }
}

/// Spawns `future` on `scheduler`: allocates the task, registers it in `owned`, and queues
/// its first `Runnable` through the scheduler (a task refused by a closed list is cancelled).
pub(crate) fn spawn<F, S>(
    future: F,
    scheduler: S,
    owned: &OwnedTasks,
    name: Option<Box<str>>,
) -> Task<F::Output>
where
    F: Future + 'static,
    S: Schedule,
{
    let (runnable, handle) = spawn_on(future, scheduler, owned, name);
    if let Some(runnable) = runnable {
        runnable.schedule();
    }
    handle
}

/// Allocates a task on scheduler `scheduler`, registers it in `owned`, and returns its first
/// `Runnable` (to queue; `None` if the list was closed: the task was cancelled) and its handle.
pub(crate) fn spawn_on<F, S>(
    future: F,
    scheduler: S,
    owned: &OwnedTasks,
    name: Option<Box<str>>,
) -> (Option<Runnable>, Task<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let raw = RawTask::new(future, scheduler, TaskId::next(), name);
    let handle = Task::from_raw(raw);
    let runnable = Runnable { raw };
    match owned.insert(raw) {
        Ok(()) => (Some(runnable), handle),
        Err(list_ref) => {
            // Shutting down: the list refused the task. Cancel it right here (this thread
            // created the future, so it may drop it), then give up the list's reference.
            // SAFETY: we are on the thread that created the future.
            unsafe { list_ref.shutdown() };
            drop(runnable);
            (None, handle)
        }
    }
}
