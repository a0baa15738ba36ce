//! loom models of the local run queue's cross-thread protocol (`local.rs`): the real
//! [`LocalShared`], real tasks, the real `block_on` loop and the real [`ThreadParker`].
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p ringloop-runtime --lib loom_local`
//! (or `bash ci/loom.sh`).
//!
//! The owner is the model's main thread, entered in the runtime context with the queue (so
//! `is_current` is true there only: the context is a loom thread-local). Each task, on its
//! first poll, hands its waker to a new thread that wakes it, as an I/O completion or a
//! channel send on another thread would; that wake reaches `schedule_remote`.
//!
//! What is checked:
//!
//! * **A task woken from another thread is never lost.** The owner runs `block_on` on a future
//!   that awaits every task: if a wake could be lost, the owner parks with the task in the
//!   remote queue and nobody left to unpark it, and loom reports the deadlock.
//! * **The owner-only run queue is never touched off its thread.** It is a loom `UnsafeCell`:
//!   an access from a waking thread that is not ordered with the owner's would be reported as
//!   a data race.
//! * **A task queued while the owner sets its unparker is not lost** (the single-threaded
//!   runtime sets it at its first `block_on`): this model found the owner parking with the
//!   task queued, fixed in `LocalShared::set_unparker`. It needs the facade's `OnceLock`,
//!   whose ordering loom can see.
//! * **Shutdown racing with a remote wake loses nothing**: the task's future is dropped
//!   exactly once, on the owner thread, and every task is freed (each holds a reference to
//!   the queue, so the queue's count is back to one).

use super::local::{self, LocalShared, RunConfig};
use super::Scheduler;
use crate::context;
use crate::debug::DebugConfig;
use crate::park::{Park, ThreadParker};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Mutex;
use loom::thread::{self, JoinHandle, ThreadId};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// What the tasks of a model share with it.
struct Record {
    /// The owner thread, where task futures must be dropped.
    owner: ThreadId,
    /// The threads the tasks handed their wakers to.
    wakers: Mutex<Vec<JoinHandle<()>>>,
    /// Task futures dropped.
    drops: AtomicUsize,
}

impl Record {
    fn new() -> Arc<Record> {
        Arc::new(Record {
            owner: thread::current().id(),
            wakers: Mutex::new(Vec::new()),
            drops: AtomicUsize::new(0),
        })
    }

    fn join_wakers(&self) {
        for thread in std::mem::take(&mut *self.wakers.lock().unwrap()) {
            thread.join().unwrap();
        }
    }
}

/// Pending on its first poll, which hands its waker to a new thread that wakes it; ready on
/// the next.
struct WokenFromAnotherThread {
    record: Arc<Record>,
    polled: bool,
}

impl Future for WokenFromAnotherThread {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            return Poll::Ready(());
        }
        self.polled = true;
        let waker = cx.waker().clone();
        let thread = thread::spawn(move || waker.wake());
        self.record.wakers.lock().unwrap().push(thread);
        Poll::Pending
    }
}

impl Drop for WokenFromAnotherThread {
    fn drop(&mut self) {
        assert_eq!(
            thread::current().id(),
            self.record.owner,
            "a local task's future was dropped off its thread"
        );
        self.record.drops.fetch_add(1, Ordering::Relaxed);
    }
}

/// The owner's queue, entered on this thread; and its parker.
fn owner() -> (Arc<LocalShared>, ThreadParker, context::EnterGuard) {
    let parker = ThreadParker::new();
    let local = LocalShared::new(Some(parker.unparker()), 1);
    let enter = context::enter(Scheduler::Single(local.clone()), local.clone());
    (local, parker, enter)
}

/// `tasks` tasks, each woken from a thread of its own, while the owner runs `block_on` on
/// their join handles; at most `max_preemptions` preemptions (or `LOOM_MAX_PREEMPTIONS`, if
/// lower).
fn remote_wakes(tasks: usize, max_preemptions: usize) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(
        builder
            .preemption_bound
            .map_or(max_preemptions, |bound| bound.min(max_preemptions)),
    );
    builder.check(move || {
        let record = Record::new();
        let (local, mut parker, enter) = owner();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let future = WokenFromAnotherThread {
                    record: record.clone(),
                    polled: false,
                };
                local.spawn(future, None)
            })
            .collect();
        let run = RunConfig {
            debug: DebugConfig::default(),
            counters: None,
        };
        local::block_on(&local, &mut parker, run, async move {
            for handle in handles {
                handle.await.expect("the task completes");
            }
        });
        record.join_wakers();
        drop(enter);
        assert_eq!(record.drops.load(Ordering::Relaxed), tasks);
        assert_eq!(Arc::strong_count(&local), 1, "a task was not freed");
    });
}

/// One task woken from another thread while the owner runs and parks.
#[test]
fn loom_local_remote_wake_is_not_lost() {
    remote_wakes(1, usize::MAX);
}

/// Two tasks woken from two threads at once, one pushing while the owner takes what the
/// other pushed. Three preemptions at most: this model takes 13 s there and 95 s at four.
/// (Four matter to the parker's token, which the one-task model checks at four.)
#[test]
fn loom_local_concurrent_remote_wakes_are_not_lost() {
    remote_wakes(2, 3);
}

/// The owner shuts down while another thread wakes its task: the wake lands before the queue
/// is closed (and is drained) or after (and is dropped by the waker); the future is dropped
/// once, on the owner thread, and the task is freed.
#[test]
fn loom_local_shutdown_races_with_a_remote_wake() {
    loom::model(|| {
        let record = Record::new();
        let (local, _parker, enter) = owner();
        let future = WokenFromAnotherThread {
            record: record.clone(),
            polled: false,
        };
        let handle = local.spawn(future, None);
        // The first poll, which hands the waker to another thread.
        local.pop().expect("spawned on the owner").run();
        local.shutdown();
        record.join_wakers();
        drop(handle);
        drop(enter);
        assert_eq!(record.drops.load(Ordering::Relaxed), 1);
        assert_eq!(Arc::strong_count(&local), 1, "a task was not freed");
    });
}

/// A task spawned from another thread (through a `Handle`) while the owner's first `block_on`
/// sets the unparker: the spawner either finds the unparker and unparks the owner, or the
/// owner finds the task when it first looks at its queue.
#[test]
fn loom_local_remote_spawn_races_with_setting_the_unparker() {
    loom::model(|| {
        let local = LocalShared::new(None, 1);
        let enter = context::enter(Scheduler::Single(local.clone()), local.clone());
        let ran = Arc::new((AtomicBool::new(false), Mutex::new(None::<Waker>)));
        let spawner = {
            let (local, ran) = (local.clone(), ran.clone());
            thread::spawn(move || {
                let task = local.spawn_send(
                    async move {
                        ran.0.store(true, Ordering::Relaxed);
                        if let Some(waker) = ran.1.lock().unwrap().take() {
                            waker.wake();
                        }
                    },
                    None,
                );
                drop(task);
            })
        };
        let mut parker = ThreadParker::new();
        local.set_unparker(parker.unparker());
        let run = RunConfig {
            debug: DebugConfig::default(),
            counters: None,
        };
        // Done once the task ran (on this thread, so the flag needs no ordering).
        let task_ran = std::future::poll_fn(|cx| {
            if ran.0.load(Ordering::Relaxed) {
                return Poll::Ready(());
            }
            *ran.1.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        });
        local::block_on(&local, &mut parker, run, task_ran);
        spawner.join().unwrap();
        drop(enter);
        drop(ran);
        assert_eq!(Arc::strong_count(&local), 1, "a task was not freed");
    });
}
