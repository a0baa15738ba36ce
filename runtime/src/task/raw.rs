//! Task memory: one allocation holding the header, the scheduler handle, the future (later its
//! output) and the join waker; and the type-erased pointer ([`RawTask`]) the rest of the
//! runtime passes around.
//!
//! ```text
//! Cell<F, S>  (#[repr(C)], one Box)
//! +----------------------------+  <- NonNull<Header> points here
//! | Header                     |  state word, vtable, id, owner-list slot, name, callbacks
//! +----------------------------+
//! | S  (scheduler handle)      |  where a wake queues the task; the owner list
//! +----------------------------+
//! | Stage<F>                   |  Running(F) | Finished(Result<F::Output, TaskError>) | Consumed
//! +----------------------------+
//! | join waker                 |  Option<Waker>, see `state.rs` for who may touch it
//! +----------------------------+
//! ```
//!
//! The header is first so a `NonNull<Header>` is also a pointer to the whole cell; the vtable
//! recovers the concrete `Cell<F, S>` for the operations that need `F` or `S`.

use super::callbacks::Callbacks;
use super::error::TaskError;
use super::id::TaskId;
use super::state::State;
use super::Schedule;
use crate::loom::{AtomicUsize, UnsafeCell};
use std::future::Future;
use std::ptr::NonNull;
use std::task::Waker;

/// The part of every task that does not depend on its future's type.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    pub(crate) id: TaskId,
    /// The task's index in its owner list's shard. Read and written only under that shard's
    /// lock, so `Relaxed` suffices.
    pub(crate) list_slot: AtomicUsize,
    pub(crate) name: Option<Box<str>>,
    /// `Task::add_done_callback`'s list, allocated on first use.
    pub(crate) callbacks: Callbacks,
}

/// Operations that need the concrete future and scheduler types.
pub(crate) struct Vtable {
    /// Runs the task (the caller gives up one `Runnable` reference).
    pub(crate) run: unsafe fn(NonNull<Header>),
    /// Queues the task on its scheduler (the caller gives a reference to the `Runnable`).
    pub(crate) schedule: unsafe fn(NonNull<Header>),
    /// Frees the cell. Only when the reference count reached zero.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
    /// Join handle poll: writes `Poll::Ready(output)` into `*dst` (a
    /// `*mut Poll<Result<T, TaskError>>`) once complete, else registers the waker.
    pub(crate) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// Join handle drop: gives up interest in the output, and the handle's reference.
    pub(crate) drop_join_handle: unsafe fn(NonNull<Header>),
    /// `Task::cancel`; returns false if the task had already completed.
    pub(crate) cancel: unsafe fn(NonNull<Header>) -> bool,
    /// Whether the calling thread may drop the task's future (see `Schedule::can_drop_here`).
    pub(crate) can_drop_here: unsafe fn(NonNull<Header>) -> bool,
    /// Runtime shutdown: cancel the task now. The caller gives up one reference (the owner
    /// list's, which it removed) and must be on a thread where the future may be dropped.
    pub(crate) shutdown: unsafe fn(NonNull<Header>),
}

/// The whole task allocation.
#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    pub(crate) header: Header,
    pub(crate) scheduler: S,
    pub(crate) stage: UnsafeCell<Stage<F>>,
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
}

/// The future while it runs; its outcome once complete; nothing once the outcome was taken.
pub(crate) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, TaskError>),
    Consumed,
}

/// A counted pointer to a task of any type. Copying it does not take a reference: the owner
/// of each copy knows which reference it stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct RawTask(NonNull<Header>);

// SAFETY: a RawTask is an address plus the right to use it through the vtable; the operations
// that touch the future (`run`, `shutdown`) are only invoked on a thread the scheduler allows
// (a local task's runnable is only ever queued to its owner thread), and everything else in
// the header is `Sync` (atomics, immutable fields).
unsafe impl Send for RawTask {}
// SAFETY: as for `Send`; shared access only reads immutable header fields or atomics.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a task holding `future`, with the initial state (queued, three references).
    pub(crate) fn new<F, S>(future: F, scheduler: S, id: TaskId, name: Option<Box<str>>) -> RawTask
    where
        F: Future + 'static,
        S: Schedule,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: super::harness::vtable::<F, S>(),
                id,
                list_slot: AtomicUsize::new(usize::MAX),
                name,
                callbacks: Callbacks::new(),
            },
            scheduler,
            stage: UnsafeCell::new(Stage::Running(future)),
            join_waker: UnsafeCell::new(None),
        });
        // `Cell` is `repr(C)` with the header first, so the cell's address is the header's.
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask(ptr)
    }

    pub(crate) fn from_header(ptr: NonNull<Header>) -> RawTask {
        RawTask(ptr)
    }

    pub(crate) fn header_ptr(self) -> NonNull<Header> {
        self.0
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: whoever holds a RawTask holds (or borrows) a reference, so the cell is alive.
        unsafe { self.0.as_ref() }
    }

    pub(crate) fn id(&self) -> TaskId {
        self.header().id
    }

    /// Runs the task, consuming the `Runnable` reference this pointer stands for.
    pub(crate) fn run(self) {
        // SAFETY: the caller hands over a Runnable reference, as `run` requires, on a thread
        // the scheduler chose for this task.
        unsafe { (self.header().vtable.run)(self.0) }
    }

    /// Drops the reference this pointer stands for, freeing the task if it was the last.
    pub(crate) fn drop_reference(self) {
        if self.header().state.ref_dec() {
            // SAFETY: the count reached zero: nobody else can reach the cell.
            unsafe { (self.header().vtable.dealloc)(self.0) }
        }
    }

    /// Whether the calling thread may drop this task's future.
    pub(crate) fn can_drop_here(&self) -> bool {
        // SAFETY: the caller holds a reference, so the cell is alive.
        unsafe { (self.header().vtable.can_drop_here)(self.0) }
    }

    /// Cancels the task for runtime shutdown, consuming the reference this pointer stands for.
    ///
    /// # Safety
    /// The caller must be on a thread where the task's future may be dropped.
    pub(crate) unsafe fn shutdown(self) {
        // SAFETY: forwarded from the caller's contract.
        unsafe { (self.header().vtable.shutdown)(self.0) }
    }
}
