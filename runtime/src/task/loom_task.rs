//! loom models of the task state machine: every interleaving of running, waking, cancelling,
//! joining and dropping the handle, checking that the future and the output are dropped
//! exactly once, the cell is freed exactly once, and the join handle sees the right outcome.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release -p ringloop-runtime --lib loom_`.

use super::{spawn_on, OwnedTasks, RawTask, Runnable, Schedule, Task, TaskError};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A scheduler that queues into a mutex; dropping it (when the cell is freed) is counted.
struct Mock {
    queue: Arc<Mutex<VecDeque<Runnable>>>,
    owned: Arc<OwnedTasks>,
    freed: Arc<AtomicUsize>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.freed.fetch_add(1, Ordering::SeqCst);
    }
}

impl Schedule for Mock {
    fn schedule(&self, task: Runnable) {
        self.queue.lock().unwrap().push_back(task);
    }
    fn release(&self, task: RawTask) -> bool {
        self.owned.remove(task)
    }
    fn can_drop_here(&self) -> bool {
        true
    }
}

/// Counts drops of whatever holds it.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Pending on its first poll (publishing its waker), ready with `value` on the next.
struct TwoStep {
    waker_slot: Arc<Mutex<Option<Waker>>>,
    polled: bool,
    _future_drop: DropCount,
    value: Option<DropCount>,
}

impl Future for TwoStep {
    type Output = DropCount;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<DropCount> {
        if !self.polled {
            self.polled = true;
            *self.waker_slot.lock().unwrap() = Some(cx.waker().clone());
            return Poll::Pending;
        }
        Poll::Ready(self.value.take().expect("ready once"))
    }
}

struct Fixture {
    queue: Arc<Mutex<VecDeque<Runnable>>>,
    owned: Arc<OwnedTasks>,
    freed: Arc<AtomicUsize>,
    future_drops: Arc<AtomicUsize>,
    output_drops: Arc<AtomicUsize>,
    waker_slot: Arc<Mutex<Option<Waker>>>,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            queue: Arc::new(Mutex::new(VecDeque::new())),
            owned: Arc::new(OwnedTasks::new(1)),
            freed: Arc::new(AtomicUsize::new(0)),
            future_drops: Arc::new(AtomicUsize::new(0)),
            output_drops: Arc::new(AtomicUsize::new(0)),
            waker_slot: Arc::new(Mutex::new(None)),
        }
    }

    fn spawn(&self) -> Task<DropCount> {
        let future = TwoStep {
            waker_slot: self.waker_slot.clone(),
            polled: false,
            _future_drop: DropCount(self.future_drops.clone()),
            value: Some(DropCount(self.output_drops.clone())),
        };
        let mock = Mock {
            queue: self.queue.clone(),
            owned: self.owned.clone(),
            freed: self.freed.clone(),
        };
        let (runnable, handle) = spawn_on(future, mock, &self.owned, None);
        self.queue
            .lock()
            .unwrap()
            .push_back(runnable.expect("list open"));
        handle
    }

    /// Runs queued tasks until the queue is empty.
    fn run_queued(queue: &Mutex<VecDeque<Runnable>>) {
        loop {
            let next = queue.lock().unwrap().pop_front();
            match next {
                Some(task) => task.run(),
                None => return,
            }
        }
    }

    fn wake(slot: &Mutex<Option<Waker>>) {
        let waker = slot.lock().unwrap().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Starts a thread that wakes the task (with the waker its first poll published) and
    /// runs whatever that queued: the usual other side of a race.
    fn wake_and_run_on_another_thread(&self) -> thread::JoinHandle<()> {
        let queue = self.queue.clone();
        let slot = self.waker_slot.clone();
        thread::spawn(move || {
            Fixture::wake(&slot);
            Fixture::run_queued(&queue);
        })
    }

    /// After every thread is done: drain what is left, and check nothing leaked or doubled.
    fn finish(self) {
        Fixture::run_queued(&self.queue);
        drop(self.waker_slot.lock().unwrap().take());
        for task in self.owned.close_and_drain() {
            // SAFETY: the mock's futures are Send; any thread may drop them.
            unsafe { task.shutdown() };
        }
        Fixture::run_queued(&self.queue);
        assert_eq!(
            self.future_drops.load(Ordering::SeqCst),
            1,
            "future dropped once"
        );
        assert!(
            self.output_drops.load(Ordering::SeqCst) <= 1,
            "output dropped at most once"
        );
        assert_eq!(self.freed.load(Ordering::SeqCst), 1, "cell freed once");
    }
}

/// A wake from another thread races the first poll; the join handle sees the value.
#[test]
fn loom_wake_races_poll_then_join() {
    loom::model(|| {
        let fx = Fixture::new();
        let handle = fx.spawn();
        let queue = fx.queue.clone();
        let slot = fx.waker_slot.clone();
        let runner = thread::spawn(move || {
            Fixture::run_queued(&queue);
        });
        let waker_thread = thread::spawn(move || Fixture::wake(&slot));
        runner.join().unwrap();
        waker_thread.join().unwrap();
        // Whatever the order, running what is queued (and waking once more if the wake came
        // before the waker was published) completes the task.
        Fixture::run_queued(&fx.queue);
        Fixture::wake(&fx.waker_slot);
        Fixture::run_queued(&fx.queue);
        let output = loom::future::block_on(handle).expect("completes with its value");
        drop(output);
        assert_eq!(fx.output_drops.load(Ordering::SeqCst), 1);
        fx.finish();
    });
}

/// The join handle waits (registering its waker) while another thread completes the task.
#[test]
fn loom_join_waker_races_completion() {
    loom::model(|| {
        let fx = Fixture::new();
        let handle = fx.spawn();
        Fixture::run_queued(&fx.queue); // first poll: pending, waker published
        let completer = fx.wake_and_run_on_another_thread();
        let output = loom::future::block_on(handle);
        completer.join().unwrap();
        assert!(output.is_ok());
        drop(output);
        fx.finish();
    });
}

/// Dropping the join handle races completion: the output is dropped exactly once, by one side.
#[test]
fn loom_handle_drop_races_completion() {
    loom::model(|| {
        let fx = Fixture::new();
        let handle = fx.spawn();
        Fixture::run_queued(&fx.queue);
        let completer = fx.wake_and_run_on_another_thread();
        drop(handle);
        completer.join().unwrap();
        assert_eq!(fx.output_drops.load(Ordering::SeqCst), 1);
        fx.finish();
    });
}

/// Cancel races a wake and a run: the task ends cancelled or with its value, never both,
/// and its future is dropped once.
#[test]
fn loom_cancel_races_wake_and_run() {
    loom::model(|| {
        let fx = Fixture::new();
        let handle = fx.spawn();
        Fixture::run_queued(&fx.queue); // idle, waker published
        let runner = fx.wake_and_run_on_another_thread();
        let cancelled = handle.cancel();
        runner.join().unwrap();
        Fixture::run_queued(&fx.queue);
        match loom::future::block_on(handle) {
            Ok(output) => drop(output),
            Err(TaskError::Cancelled) => assert!(cancelled),
            Err(other) => panic!("unexpected outcome {other:?}"),
        }
        fx.finish();
    });
}

/// A waker that counts its wakes.
struct CountingWaker(AtomicUsize);

impl std::task::Wake for CountingWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The handle replaces its waker (a poll from another task) while the task completes: the
/// slot is never written while the task side may read it, and one of the two wakers (or the
/// second poll itself) sees the completion.
#[test]
fn loom_join_waker_replaced_while_completing() {
    loom::model(|| {
        let fx = Fixture::new();
        let mut handle = fx.spawn();
        Fixture::run_queued(&fx.queue);
        let first = std::sync::Arc::new(CountingWaker(AtomicUsize::new(0)));
        let second = std::sync::Arc::new(CountingWaker(AtomicUsize::new(0)));
        let first_waker = Waker::from(first.clone());
        let second_waker = Waker::from(second.clone());
        assert!(Pin::new(&mut handle)
            .poll(&mut Context::from_waker(&first_waker))
            .is_pending());
        let completer = fx.wake_and_run_on_another_thread();
        let polled = Pin::new(&mut handle).poll(&mut Context::from_waker(&second_waker));
        completer.join().unwrap();
        match polled {
            Poll::Ready(output) => {
                drop(output.expect("value"));
                drop(handle);
            }
            Poll::Pending => {
                assert_eq!(second.0.load(Ordering::SeqCst), 1, "the new waker is woken");
                drop(loom::future::block_on(handle).expect("value"));
            }
        }
        fx.finish();
    });
}

/// A done callback registered while another thread completes the task runs exactly once.
#[test]
fn loom_done_callback_races_completion() {
    loom::model(|| {
        let fx = Fixture::new();
        let handle = fx.spawn();
        Fixture::run_queued(&fx.queue);
        let completer = fx.wake_and_run_on_another_thread();
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = calls.clone();
        handle.add_done_callback(move |info| {
            assert_eq!(info.state, super::TaskState::Complete);
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        completer.join().unwrap();
        Fixture::run_queued(&fx.queue);
        Fixture::wake(&fx.waker_slot);
        Fixture::run_queued(&fx.queue);
        drop(loom::future::block_on(handle).expect("value"));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        fx.finish();
    });
}
