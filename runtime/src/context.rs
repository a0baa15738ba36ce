//! Per-thread runtime context: which runtime this thread belongs to (so `create_task` knows
//! where to spawn), which local queue it drives (for `create_local_task`), which task it is
//! polling, and that task's cooperative budget.
//!
//! A thread that drives tasks (a worker, a thread in `block_on`, a runtime shutting down) has
//! both a scheduler and a local queue. A blocking-pool thread has the scheduler only
//! ([`enter_blocking`]): its runtime is current, but it drives nothing, and it may still enter
//! a runtime with `block_on`, like a plain thread.

use crate::coop::BUDGET_PER_POLL;
use crate::loom::thread_local;
use crate::scheduler::{local::LocalShared, Scheduler};
use crate::task::Header;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::Arc;

struct Context {
    scheduler: RefCell<Option<Scheduler>>,
    local: RefCell<Option<Arc<LocalShared>>>,
    /// `Arc::as_ptr` of `local`, for a cheap "am I the owner thread" test.
    local_ptr: Cell<*const LocalShared>,
    current_task: Cell<Option<NonNull<Header>>>,
    /// Units left for the running task; `None` outside a task (unconstrained).
    budget: Cell<Option<u8>>,
}

// From the facade: each loom model thread needs a context of its own.
thread_local! {
    static CONTEXT: Context = const {
        Context {
            scheduler: RefCell::new(None),
            local: RefCell::new(None),
            local_ptr: Cell::new(std::ptr::null()),
            current_task: Cell::new(None),
            budget: Cell::new(None),
        }
    };
}

/// Marks this thread as running inside a runtime until dropped.
pub(crate) struct EnterGuard {
    /// The blocking-pool thread's runtime that this entry hid, put back on drop.
    previous: Option<Scheduler>,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Enters a runtime on this thread. Panics if the thread is already driving one, like tokio:
/// blocking a worker on a nested runtime would stall every task queued behind it. On a
/// blocking-pool thread, the pool's runtime is current again once the guard drops.
pub(crate) fn enter(scheduler: Scheduler, local: Arc<LocalShared>) -> EnterGuard {
    let previous = CONTEXT.with(|cx| {
        let mut slot = cx.scheduler.borrow_mut();
        if slot.is_some() && cx.local.borrow().is_some() {
            panic!(
                "cannot start a ringloop runtime from within a runtime: `block_on` (or `run`) was \
                 called from a thread that is already driving tasks; await the future instead, \
                 or use `create_task`"
            );
        }
        let previous = slot.replace(scheduler);
        cx.local_ptr.set(Arc::as_ptr(&local));
        *cx.local.borrow_mut() = Some(local);
        previous
    });
    EnterGuard {
        previous,
        _not_send: std::marker::PhantomData,
    }
}

/// Makes `scheduler`'s runtime current on this blocking-pool thread, without a local queue,
/// until the guard drops: `Handle::current()` and `create_task` work, nothing is driven here.
pub(crate) fn enter_blocking(scheduler: Scheduler) -> EnterGuard {
    CONTEXT.with(|cx| {
        let mut slot = cx.scheduler.borrow_mut();
        debug_assert!(
            slot.is_none(),
            "a blocking-pool thread starts outside any runtime"
        );
        *slot = Some(scheduler);
    });
    EnterGuard {
        previous: None,
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // Take the values out first, so their destructors run outside the borrows.
        let previous = self.previous.take();
        let (scheduler, local) = CONTEXT.with(|cx| {
            cx.local_ptr.set(std::ptr::null());
            (cx.scheduler.replace(previous), cx.local.take())
        });
        drop(scheduler);
        drop(local);
    }
}

/// Makes `scheduler` and `local` this thread's context until the guard drops, restoring
/// whatever was there (this thread may be inside another runtime): for shutting a runtime
/// down, so that code in the futures it drops can still call `create_task` (the task is
/// cancelled on arrival) and local queues recognise their owner.
pub(crate) fn enter_for_shutdown(scheduler: Scheduler, local: Arc<LocalShared>) -> ShutdownGuard {
    CONTEXT.with(|cx| ShutdownGuard {
        previous_ptr: cx.local_ptr.replace(Arc::as_ptr(&local)),
        previous_local: cx.local.replace(Some(local)),
        previous_scheduler: cx.scheduler.replace(Some(scheduler)),
    })
}

/// Restores the context that [`enter_for_shutdown`] replaced.
pub(crate) struct ShutdownGuard {
    previous_scheduler: Option<Scheduler>,
    previous_local: Option<Arc<LocalShared>>,
    previous_ptr: *const LocalShared,
}

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        let (scheduler, local) = (self.previous_scheduler.take(), self.previous_local.take());
        let replaced = CONTEXT.with(|cx| {
            cx.local_ptr.set(self.previous_ptr);
            (cx.scheduler.replace(scheduler), cx.local.replace(local))
        });
        drop(replaced);
    }
}

/// Calls `f` with the current runtime's scheduler, if this thread is inside one (driving its
/// tasks, or as one of its blocking-pool threads).
pub(crate) fn with_scheduler<R>(f: impl FnOnce(Option<&Scheduler>) -> R) -> R {
    CONTEXT.with(|cx| f(cx.scheduler.borrow().as_ref()))
}

/// The local queue this thread drives, if any.
pub(crate) fn current_local() -> Option<Arc<LocalShared>> {
    CONTEXT.with(|cx| cx.local.borrow().clone())
}

/// True if this thread drives `local`.
pub(crate) fn is_current_local(local: &LocalShared) -> bool {
    CONTEXT.with(|cx| std::ptr::eq(cx.local_ptr.get(), local))
}

/// Restores the previous task and budget when a poll ends.
pub(crate) struct TaskGuard {
    previous_task: Option<NonNull<Header>>,
    previous_budget: Option<u8>,
}

/// Records that this thread is polling the task at `header`, with a fresh budget.
pub(crate) fn enter_task(header: NonNull<Header>) -> TaskGuard {
    CONTEXT.with(|cx| TaskGuard {
        previous_task: cx.current_task.replace(Some(header)),
        previous_budget: cx.budget.replace(Some(BUDGET_PER_POLL)),
    })
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        // `try_with`: a task may be dropped during thread-local destruction.
        let _ = CONTEXT.try_with(|cx| {
            cx.current_task.set(self.previous_task);
            cx.budget.set(self.previous_budget);
        });
    }
}

/// The task this thread is polling.
pub(crate) fn current_task() -> Option<NonNull<Header>> {
    CONTEXT.with(|cx| cx.current_task.get())
}

/// Takes one unit of budget: `Some(true)` if taken, `Some(false)` if unconstrained, `None`
/// if the budget is spent.
pub(crate) fn take_budget() -> Option<bool> {
    CONTEXT
        .try_with(|cx| match cx.budget.get() {
            None => Some(false),
            Some(0) => None,
            Some(n) => {
                cx.budget.set(Some(n - 1));
                Some(true)
            }
        })
        .unwrap_or(Some(false))
}

/// True if the running task's budget is spent (never outside a task).
pub(crate) fn budget_spent() -> bool {
    CONTEXT
        .try_with(|cx| cx.budget.get() == Some(0))
        .unwrap_or(false)
}

pub(crate) fn refund_budget() {
    let _ = CONTEXT.try_with(|cx| {
        if let Some(n) = cx.budget.get() {
            cx.budget.set(Some(n.saturating_add(1)));
        }
    });
}
