//! The wakers every primitive keeps for its waiters are the waiters' code: none is woken or
//! dropped under the primitive's lock, and one that panics when woken does not keep the other
//! waiters from being woken.
//!
//! A waker whose last drop comes back into the primitive (a method that takes its lock) shows
//! a drop under the lock as a deadlock, which [`on_a_thread`] turns into a failure. A waiter
//! lets go of its waker when it is polled again with another one, and when it leaves the
//! queue (its future is dropped while it waits).
#![cfg(not(loom))]

mod support;

use ringloop_sync::{Barrier, Condition, Event, Lock, Mutex, PriorityQueue, Queue, Semaphore};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, RawWaker, RawWakerVTable, Wake, Waker};
use std::thread;
use std::time::Duration;
use support::Task;

/// A boxed wait on a primitive, borrowing it.
type WaitOn<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// A waker that does nothing when woken and calls `on_drop` when its last clone is dropped.
fn on_last_drop(on_drop: impl Fn() + Send + Sync + 'static) -> Waker {
    struct OnDrop(Box<dyn Fn() + Send + Sync>);
    impl Wake for OnDrop {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for OnDrop {
        fn drop(&mut self) {
            (self.0)();
        }
    }
    Waker::from(Arc::new(OnDrop(Box::new(on_drop))))
}

/// Runs `scenario` on a thread of its own; panics if it does not finish within 10 s (a
/// deadlock), and passes its panic on if it panics.
#[track_caller]
fn on_a_thread(what: &str, scenario: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let thread = thread::spawn(move || {
        scenario();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(10)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(payload) = thread.join() {
                std::panic::resume_unwind(payload);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: deadlocked (a waker was dropped under the primitive's lock)")
        }
    }
}

/// Makes `wait` wait on `primitive` with a waker whose last drop calls `reenter`, gives the
/// primitive the last clone, then makes it let go of the waker: by polling again with another
/// waker, or by dropping the wait.
fn lets_go_outside_the_lock<P: Send + Sync + 'static>(
    what: &'static str,
    primitive: P,
    wait: for<'a> fn(&'a P) -> WaitOn<'a>,
    reenter: fn(&P),
) {
    let primitive = Arc::new(primitive);
    for repolled in [true, false] {
        let primitive = primitive.clone();
        on_a_thread(what, move || {
            let in_drop = primitive.clone();
            let reentrant = on_last_drop(move || reenter(&in_drop));
            let mut waiting = wait(&primitive);
            let polled = waiting.as_mut().poll(&mut Context::from_waker(&reentrant));
            assert!(polled.is_pending(), "{what}: expected to wait");
            drop(reentrant); // the primitive holds the last clone
            if repolled {
                let polled = waiting
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()));
                assert!(polled.is_pending(), "{what}: expected to wait");
            }
            drop(waiting);
        });
    }
}

#[test]
fn event_waiters_wakers_are_dropped_outside_the_lock() {
    lets_go_outside_the_lock(
        "Event::wait",
        Event::new(),
        |event| Box::pin(event.wait()),
        |event| {
            let _ = event.is_set();
        },
    );
}

#[test]
fn semaphore_waiters_wakers_are_dropped_outside_the_lock() {
    lets_go_outside_the_lock(
        "Semaphore::acquire",
        Semaphore::new(0),
        |semaphore| {
            Box::pin(async move {
                let _ = semaphore.acquire().await;
            })
        },
        |semaphore| {
            let _ = semaphore.available_permits();
        },
    );
}

#[test]
fn lock_and_mutex_waiters_wakers_are_dropped_outside_the_lock() {
    lets_go_outside_the_lock(
        "Lock::acquire",
        Lock::new(),
        |lock| {
            Box::pin(async move {
                let _held = lock.acquire().await;
                let _ = lock.acquire().await;
            })
        },
        |lock| {
            let _ = lock.locked();
        },
    );
    lets_go_outside_the_lock(
        "Mutex::lock",
        Mutex::new(0u8),
        |mutex| {
            Box::pin(async move {
                let _held = mutex.lock().await;
                let _ = mutex.lock().await;
            })
        },
        |mutex| {
            let _ = mutex.locked();
        },
    );
}

#[test]
fn condition_waiters_wakers_are_dropped_outside_the_lock() {
    lets_go_outside_the_lock(
        "Condition::wait",
        Condition::new(()),
        |condition| {
            Box::pin(async move {
                let guard = condition.lock().await;
                let _ = condition.wait(guard).await;
            })
        },
        |condition| {
            let _ = condition.notify(0);
        },
    );
}

#[test]
fn barrier_waiters_wakers_are_dropped_outside_the_lock() {
    lets_go_outside_the_lock(
        "Barrier::wait",
        Barrier::new(2),
        |barrier| {
            Box::pin(async move {
                let _ = barrier.wait().await;
            })
        },
        |barrier| {
            let _ = barrier.n_waiting();
        },
    );
}

#[test]
fn queue_waiters_wakers_are_dropped_outside_the_lock() {
    lets_go_outside_the_lock(
        "Queue::get",
        Queue::<u8>::new(0),
        |queue| {
            Box::pin(async move {
                let _ = queue.get().await;
            })
        },
        |queue| {
            let _ = queue.qsize();
        },
    );
    let full = PriorityQueue::new(1);
    full.put_nowait(1u8).unwrap();
    lets_go_outside_the_lock(
        "PriorityQueue::put",
        full,
        |queue| {
            Box::pin(async move {
                let _ = queue.put(2).await;
            })
        },
        |queue| {
            let _ = queue.qsize();
        },
    );
    let unfinished = Queue::new(0);
    unfinished.put_nowait(1u8).unwrap();
    lets_go_outside_the_lock(
        "Queue::join",
        unfinished,
        |queue| Box::pin(queue.join()),
        |queue| {
            let _ = queue.qsize();
        },
    );
}

/// A waker that panics when woken (its clones too); dropping it does nothing.
fn panicking_waker() -> Waker {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn wake(_: *const ()) {
        panic!("waker woken");
    }
    fn drop(_: *const ()) {}
    // SAFETY: the functions ignore the data pointer, so any (here null) will do; none of them
    // is `unsafe` to call, and a clone is another waker with the same vtable.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

#[test]
fn panicking_wakers_do_not_keep_the_other_waiters_waiting() {
    let event = Event::new();
    let bomb = ManuallyDrop::new(panicking_waker());
    let mut waiters = Vec::new();
    let mut bombs = Vec::new();
    for i in 0..6 {
        if i % 3 == 0 {
            let mut wait = Box::pin(event.wait());
            let polled = wait.as_mut().poll(&mut Context::from_waker(&bomb));
            assert!(polled.is_pending());
            bombs.push(wait);
        } else {
            let mut waiter = Task::new(event.wait());
            waiter.pending();
            waiters.push(waiter);
        }
    }
    // Two wakers panic: `set` passes the first panic on once every waiter was woken.
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| event.set()));
    assert!(
        panicked.is_err(),
        "the wakers' panic reaches the caller of set"
    );
    for waiter in &mut waiters {
        assert_eq!(waiter.wakes(), 1);
        waiter.ready();
    }
    assert!(event.is_set());
}

/// A guard dropped by a panic wakes its waiter on the way out. If that waiter's waker panics
/// too, its panic is caught and dropped: a second panic while unwinding would abort.
#[test]
fn a_guard_dropped_by_a_panic_survives_its_waiters_panicking_waker() {
    let mutex = Mutex::new(0u8);
    let mut noop = Context::from_waker(Waker::noop());
    let mut lock = Box::pin(mutex.lock());
    let std::task::Poll::Ready(guard) = lock.as_mut().poll(&mut noop) else {
        panic!("the mutex is free");
    };
    let bomb = ManuallyDrop::new(panicking_waker());
    let mut waiter = Box::pin(mutex.lock());
    assert!(waiter
        .as_mut()
        .poll(&mut Context::from_waker(&bomb))
        .is_pending());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _guard = guard;
        panic!("the holder's own panic");
    }));
    let payload = panicked.expect_err("the holder panicked");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"the holder's own panic"),
        "the holder's panic, not the waker's, reaches the caller"
    );
    assert!(
        waiter.as_mut().poll(&mut noop).is_ready(),
        "the waiter got the lock"
    );
}
