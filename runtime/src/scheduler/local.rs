//! The local run queue: tasks that must run on one thread.
//!
//! Every thread that drives tasks has one [`LocalShared`]: a multi-threaded worker (for its
//! `create_local_task` tasks, which are never stolen), a thread blocked in
//! [`Runtime::block_on`](crate::Runtime::block_on), and the single-threaded runtime (for all of
//! its tasks). It holds:
//!
//! - `queue`: the owner thread's run queue, a plain `VecDeque` with no synchronization. Only the
//!   thread that entered the runtime with this `LocalShared` (see [`context`]) touches it.
//! - `remote`: a mutex-protected queue for wakes from other threads, followed by an unpark of
//!   the owner; `closed` once the owner shut down. Any thread pushes; the owner takes.
//! - `remote_pending`: set by a pusher and cleared by the owner, both under `remote`'s lock;
//!   read without it by the owner, to skip the lock while the remote queue is empty.
//! - `unparker`: set once (at creation, or by the owner before it first looks at its
//!   queues); read by pushers.
//! - `owned`: the owner list of its tasks, for shutdown and `all_tasks`.
//!
//! The owner test is a pointer comparison with the thread's context, so a wake on the owner
//! thread costs a thread-local read and a `push_back`, with no atomic operation.
//!
//! A wake from another thread:
//! 1. lock `remote`; if `closed`, drop the task (shutdown has cancelled it) and stop;
//! 2. push it, set `remote_pending`, unlock;
//! 3. unpark the owner, if its unparker is set.
//!
//! The owner, before it parks, finds its queue empty and `remote_pending` clear; a push after
//! that look unparks it, and a `park` after an `unpark` returns at once, so the next look
//! finds the task. An owner that sets its unparker late passes through the lock right after
//! (see [`LocalShared::set_unparker`]). The loom model `loom_local.rs` checks all of this with
//! the real queue, tasks, `block_on` loop and parker.

use crate::context;
use crate::debug::DebugConfig;
use crate::loom::{AtomicBool, Mutex, OnceLock, Ordering, UnsafeCell};
use crate::metrics::Counters;
use crate::park::{Park, Unparker};
use crate::task::{OwnedTasks, RawTask, Runnable, Schedule};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// How many local tasks run between two polls of the `block_on` future (and two checks of the
/// remote queue).
const BATCH: usize = 61;

/// How many passes in a row may only reap (no syscall) before one submits what the tasks
/// queued. Bounds how long I/O waits for submission when completions keep trickling in.
const MAX_REAPS_BETWEEN_SUBMITS: u32 = 4;

/// One thread's queue of tasks that only that thread may run.
pub(crate) struct LocalShared {
    queue: UnsafeCell<VecDeque<Runnable>>,
    remote: Mutex<Remote>,
    remote_pending: AtomicBool,
    /// Wakes the owner thread; set once its parker exists (for the single-threaded runtime,
    /// at the first `block_on`: tasks queued before that are found when it starts).
    unparker: OnceLock<Unparker>,
    pub(crate) owned: OwnedTasks,
}

struct Remote {
    queue: VecDeque<Runnable>,
    closed: bool,
}

// SAFETY: `queue` is only accessed by the owner thread (every access checks
// `context::is_current_local(self)` or runs on the thread that drives this queue); everything
// else is synchronized (mutex, atomics, and the owner list's own locks).
unsafe impl Sync for LocalShared {}
// SAFETY: the runnables inside are only run by the owner thread; moving the container (inside
// an Arc) between threads does not run them.
unsafe impl Send for LocalShared {}

impl LocalShared {
    pub(crate) fn new(unparker: Option<Unparker>, shards: usize) -> Arc<LocalShared> {
        let cell = OnceLock::new();
        if let Some(unparker) = unparker {
            let _ = cell.set(unparker);
        }
        Arc::new(LocalShared {
            queue: UnsafeCell::new(VecDeque::new()),
            remote: Mutex::new(Remote {
                queue: VecDeque::new(),
                closed: false,
            }),
            remote_pending: AtomicBool::new(false),
            unparker: cell,
            owned: OwnedTasks::new(shards),
        })
    }

    /// Sets the owner's unparker, if it was not set yet. The owner thread calls it before it
    /// first looks at its queues.
    ///
    /// Then it passes through the remote queue's lock. A task queued from another thread
    /// meanwhile is either found by the owner or unparks it: the pusher's critical section
    /// comes before this one (and the owner's next look at `remote_pending` sees its push) or
    /// after it (and the pusher, reading the unparker after its critical section, finds it
    /// set). Without the lock the two threads each write one location and then read the
    /// other's (the pusher `remote_pending` then the unparker, the owner the unparker then
    /// `remote_pending`), and both may read the old value: the task waits in the remote
    /// queue while the owner parks with nobody to wake it (the loom model
    /// `loom_local_remote_spawn_races_with_setting_the_unparker` found it).
    pub(crate) fn set_unparker(&self, unparker: Unparker) {
        let _ = self.unparker.set(unparker);
        drop(self.remote.lock());
    }

    pub(crate) fn is_current(&self) -> bool {
        context::is_current_local(self)
    }

    /// Runs `f` on the owner's queue.
    ///
    /// # Safety
    /// The caller is the owner thread, and `f` does not run tasks (which could re-enter).
    unsafe fn with_queue<R>(&self, f: impl FnOnce(&mut VecDeque<Runnable>) -> R) -> R {
        self.queue.with_mut(|queue| {
            // SAFETY: per the contract, only the owner thread gets here and nothing re-enters
            // while `f` runs, so this is the only reference.
            f(unsafe { &mut *queue })
        })
    }

    /// Queues from another thread and wakes the owner.
    fn schedule_remote(&self, task: Runnable) {
        let mut remote = self.remote.lock();
        if remote.closed {
            drop(remote);
            // The owner has shut down; the task was already cancelled. Drop our reference.
            drop(task);
            return;
        }
        remote.queue.push_back(task);
        self.remote_pending.store(true, Ordering::Release);
        drop(remote);
        if let Some(unparker) = self.unparker.get() {
            unparker.unpark();
        }
    }

    /// True if other threads queued tasks that the owner has not taken yet.
    pub(crate) fn has_remote(&self) -> bool {
        self.remote_pending.load(Ordering::Acquire)
    }

    /// Owner only: the next task to run, after moving what other threads queued to the back
    /// of the local queue.
    pub(crate) fn pop(&self) -> Option<Runnable> {
        debug_assert!(self.is_current());
        self.pull_remote();
        // SAFETY: owner thread (asserted above, guaranteed by every caller); no task runs here.
        unsafe { self.with_queue(|q| q.pop_front()) }
    }

    fn pull_remote(&self) {
        if !self.has_remote() {
            return;
        }
        let mut remote = self.remote.lock();
        self.remote_pending.store(false, Ordering::Relaxed);
        let taken = std::mem::take(&mut remote.queue);
        drop(remote);
        // SAFETY: owner thread (callers are `pop`/`is_idle`), no task runs here.
        unsafe { self.with_queue(|q| q.extend(taken)) };
    }

    /// Owner only: true if there is nothing to run.
    pub(crate) fn is_idle(&self) -> bool {
        // SAFETY: owner thread; no task runs here.
        let empty = unsafe { self.with_queue(|q| q.is_empty()) };
        empty && !self.has_remote()
    }

    /// Owner only: cancels every task, dropping their futures on this thread, then empties the
    /// queues. Tasks spawned or woken afterwards are cancelled or dropped on arrival.
    pub(crate) fn shutdown(&self) {
        debug_assert!(self.is_current());
        self.remote.lock().closed = true;
        for task in self.owned.close_and_drain() {
            // SAFETY: this is the owner thread, where these futures may be dropped.
            unsafe { task.shutdown() };
        }
        loop {
            let remote = std::mem::take(&mut self.remote.lock().queue);
            // SAFETY: owner thread; dropping runnables only releases references.
            let local = unsafe { self.with_queue(std::mem::take) };
            if remote.is_empty() && local.is_empty() {
                break;
            }
            drop(remote);
            drop(local);
        }
    }

    /// Cancels what may be cancelled on this thread, which is not the owner's: the `Send`
    /// tasks have their futures dropped; local tasks, whose futures may not leave their
    /// thread, are leaked (their owner list's references are never given up). The caller has
    /// made sure the owner no longer drives this queue, and has entered it on this thread.
    pub(crate) fn shutdown_from_another_thread(&self) {
        debug_assert!(self.is_current());
        self.remote.lock().closed = true;
        let mut leaked = 0;
        for task in self.owned.close_and_drain() {
            if task.can_drop_here() {
                // SAFETY: the task's scheduler says this thread may drop its future.
                unsafe { task.shutdown() };
            } else {
                leaked += 1;
            }
        }
        if leaked > 0 {
            log::warn!(
                "a single-threaded ringloop runtime was dropped on another thread than the one                  that drove it: {leaked} local task(s) leaked, not dropped, because their futures                  may not leave that thread"
            );
        }
        let remote = std::mem::take(&mut self.remote.lock().queue);
        // SAFETY: the owner no longer drives the queue and we entered it (see above);
        // dropping runnables only releases references.
        let local = unsafe { self.with_queue(std::mem::take) };
        drop((remote, local));
    }

    /// Spawns a `Send` task of the single-threaded runtime: it runs on the owner thread like
    /// every task of that runtime, but its future may be dropped (cancelled) from any thread.
    pub(crate) fn spawn_send<F>(
        self: &Arc<Self>,
        future: F,
        name: Option<Box<str>>,
    ) -> crate::task::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        crate::task::spawn(future, SendTasks(self.clone()), &self.owned, name)
    }

    /// Spawns a task owned by this queue (a local task, or any task of the single-threaded
    /// runtime).
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        name: Option<Box<str>>,
    ) -> crate::task::Task<F::Output>
    where
        F: Future + 'static,
    {
        crate::task::spawn(future, self.clone(), &self.owned, name)
    }
}

impl Schedule for Arc<LocalShared> {
    fn schedule(&self, task: Runnable) {
        if self.is_current() {
            // SAFETY: owner thread; pushing runs no task.
            unsafe { self.with_queue(|q| q.push_back(task)) };
        } else {
            self.schedule_remote(task);
        }
    }

    fn release(&self, task: RawTask) -> bool {
        self.owned.remove(task)
    }

    fn can_drop_here(&self) -> bool {
        self.is_current()
    }
}

/// The scheduler handle of a `Send` task of the single-threaded runtime: queued on the
/// owner thread like a local task, but its future may be dropped on any thread.
pub(crate) struct SendTasks(Arc<LocalShared>);

impl Schedule for SendTasks {
    fn schedule(&self, task: Runnable) {
        self.0.schedule(task);
    }

    fn release(&self, task: RawTask) -> bool {
        self.0.release(task)
    }

    fn can_drop_here(&self) -> bool {
        true
    }
}

impl fmt::Debug for LocalShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalShared")
            .field("remote_pending", &self.has_remote())
            .finish_non_exhaustive()
    }
}

/// How a `block_on` thread runs its tasks: with debug mode or not, and where it counts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunConfig<'a> {
    pub(crate) debug: DebugConfig,
    pub(crate) counters: Option<&'a Counters>,
}

/// The waker of a `block_on` future: sets a flag and unparks the blocked thread.
struct BlockOnWake {
    woken: AtomicBool,
    unparker: Unparker,
}

impl Wake for BlockOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.unparker.unpark();
    }
}

/// Drives `future` to completion on this thread, running `local`'s tasks while it waits.
/// The caller has entered the runtime context with `local`.
pub(crate) fn block_on<F: Future>(
    local: &LocalShared,
    park: &mut dyn Park,
    run: RunConfig<'_>,
    future: F,
) -> F::Output {
    let wake = Arc::new(BlockOnWake {
        woken: AtomicBool::new(true),
        unparker: park.unparker(),
    });
    let waker = Waker::from(wake.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let mut reaps_since_submit = 0;
    loop {
        if wake.woken.swap(false, Ordering::Acquire) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
        let mut ran = 0;
        while ran < BATCH {
            let Some(task) = local.pop() else {
                break;
            };
            if let Some(counters) = run.counters {
                counters.poll();
            }
            run.debug.run(task);
            ran += 1;
        }
        if ran == 0 && !wake.woken.load(Ordering::Acquire) && local.is_idle() {
            if let Some(counters) = run.counters {
                counters.park();
            }
            // Submits what the tasks queued and waits, in one `io_uring_enter`.
            park.park(None);
            reaps_since_submit = 0;
        } else if ran < BATCH && reaps_since_submit < MAX_REAPS_BETWEEN_SUBMITS {
            // The queue ran dry: pick up completions already posted without a syscall. If
            // there are none, the next pass parks and submits in the same call.
            park.reap();
            reaps_since_submit += 1;
        } else {
            // Busy (a full batch ran, or the future keeps waking itself): still submit the
            // I/O queued since the last submission, reap completions and fire due timers,
            // or a task that keeps yielding would hold that I/O back.
            park.poll();
            reaps_since_submit = 0;
        }
        if let (Some(counters), Some(stats)) = (run.counters, park.stats()) {
            counters.ring(stats);
        }
    }
}
