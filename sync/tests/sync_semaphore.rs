//! Semaphore and BoundedSemaphore: FIFO order, no barging, cancel safety at every point.
#![cfg(not(loom))]

mod support;

use ringloop_sync::{BoundedSemaphore, Semaphore};
use std::sync::Arc;
use support::{poll_once, Task};

#[test]
fn acquire_and_release_by_guard() {
    let sem = Semaphore::new(2);
    let mut a = Task::new(sem.acquire());
    let p1 = a.ready();
    let p2 = sem.try_acquire().unwrap();
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.locked());
    drop(p1);
    assert_eq!(sem.available_permits(), 1);
    drop(p2);
    assert_eq!(sem.available_permits(), 2);
    assert!(!sem.locked());
}

#[test]
fn waiters_are_served_in_fifo_order_and_woken_once() {
    let sem = Semaphore::new(0);
    let mut a = Task::new(sem.acquire());
    let mut b = Task::new(sem.acquire());
    a.pending();
    b.pending();
    sem.release(1);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    b.pending();
    let pa = a.ready();
    sem.release(1);
    assert_eq!(b.wakes(), 1);
    let pb = b.ready();
    drop((pa, pb));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn newcomer_does_not_barge_past_a_big_request() {
    let sem = Semaphore::new(1);
    let mut big = Task::new(sem.acquire_many(2));
    big.pending();
    // One permit is free, but it is kept for the head of the queue.
    assert!(sem.try_acquire().is_err());
    let mut small = Task::new(sem.acquire());
    small.pending();
    assert_eq!(sem.available_permits(), 1);
    sem.release(1);
    assert!(big.woken());
    assert!(!small.woken());
    let two = big.ready();
    assert_eq!(two.num_permits(), 2);
    drop(two);
    assert!(small.woken());
    drop(small.ready());
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn drop_before_first_poll_changes_nothing() {
    let sem = Semaphore::new(1);
    drop(sem.acquire());
    drop(sem.acquire_many(5));
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok());
}

#[test]
fn drop_queued_head_lets_the_next_waiter_fit() {
    let sem = Semaphore::new(1);
    let mut big = Task::new(sem.acquire_many(3));
    let mut small = Task::new(sem.acquire());
    big.pending();
    small.pending();
    drop(big);
    assert_eq!(small.wakes(), 1);
    let p = small.ready();
    assert_eq!(sem.available_permits(), 0);
    drop(p);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn drop_after_grant_before_poll_passes_permits_on() {
    let sem = Semaphore::new(0);
    let mut a = Task::new(sem.acquire_many(2));
    let mut b = Task::new(sem.acquire());
    let mut c = Task::new(sem.acquire());
    a.pending();
    b.pending();
    c.pending();
    sem.release(2);
    assert!(a.woken() && !b.woken() && !c.woken());
    drop(a); // granted 2 permits, never collected them
    assert_eq!((b.wakes(), c.wakes()), (1, 1));
    let (pb, pc) = (b.ready(), c.ready());
    assert_eq!(sem.available_permits(), 0);
    drop((pb, pc));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn drop_queued_middle_waiter() {
    let sem = Semaphore::new(0);
    let mut a = Task::new(sem.acquire());
    let mut b = Task::new(sem.acquire());
    let mut c = Task::new(sem.acquire());
    a.pending();
    b.pending();
    c.pending();
    drop(b);
    sem.release(2);
    assert!(a.woken() && c.woken());
    drop((a.ready(), c.ready()));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn repoll_with_a_new_waker_is_the_one_woken() {
    let sem = Semaphore::new(0);
    let mut fut = sem.acquire();
    assert!(poll_once(&mut fut).is_pending()); // noop waker
    let mut task = Task::new(fut);
    task.pending(); // now registered with the counting waker
    sem.release(1);
    assert_eq!(task.wakes(), 1);
    drop(task.ready());
}

#[test]
fn acquire_many_zero_is_immediate() {
    let sem = Semaphore::new(0);
    let mut waiter = Task::new(sem.acquire());
    waiter.pending();
    let mut zero = Task::new(sem.acquire_many(0));
    assert_eq!(zero.ready().num_permits(), 0);
}

#[test]
fn forget_and_release_by_hand() {
    let sem = Semaphore::new(3);
    sem.try_acquire_many(2).unwrap().forget();
    assert_eq!(sem.available_permits(), 1);
    sem.release(2);
    assert_eq!(sem.available_permits(), 3);
    sem.release(10); // an unbounded semaphore may grow
    assert_eq!(sem.available_permits(), 13);
}

#[test]
fn owned_permits_outlive_the_borrow_and_cancel_safely() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.clone().try_acquire_owned().unwrap();
    let mut a = Task::new(sem.clone().acquire_owned());
    let mut b = Task::new(sem.clone().acquire_many_owned(1));
    a.pending();
    b.pending();
    drop(held);
    assert!(a.woken());
    drop(a); // granted, dropped: passes to b
    assert!(b.woken());
    let p = b.ready();
    assert_eq!(p.num_permits(), 1);
    let moved = std::thread::spawn(move || p).join().unwrap();
    drop(moved);
    assert_eq!(sem.available_permits(), 1);
    sem.clone().try_acquire_many_owned(1).unwrap().forget();
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn bounded_release_past_bound_is_an_error_and_changes_nothing() {
    let sem = BoundedSemaphore::new(2);
    assert_eq!(sem.bound(), 2);
    let err = sem.release(1).unwrap_err();
    assert_eq!((err.permits(), err.bound()), (1, 2));
    assert_eq!(sem.available_permits(), 2);
    sem.try_acquire_many(2).unwrap().forget();
    assert!(sem.release(3).is_err());
    assert_eq!(sem.available_permits(), 0);
    sem.release(2).unwrap();
    assert_eq!(sem.available_permits(), 2);
    assert!(sem.release(usize::MAX).is_err());
}

#[test]
fn bounded_release_counts_permits_held_by_guards() {
    let sem = BoundedSemaphore::new(2);
    sem.try_acquire().unwrap().forget();
    let guard = sem.try_acquire().unwrap();
    assert_eq!(sem.available_permits(), 0);
    sem.release(1).unwrap(); // gives back the forgotten one
                             // Free + held is at the bound now: one more would overflow once the guard drops.
    assert!(sem.release(1).is_err());
    drop(guard);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn bounded_waiters_are_fair_and_cancel_safe() {
    let sem = Arc::new(BoundedSemaphore::new(1));
    let guard = sem.try_acquire().unwrap();
    let mut a = Task::new(sem.acquire());
    let mut b = Task::new(sem.clone().acquire_owned());
    a.pending();
    b.pending();
    assert!(sem.try_acquire().is_err());
    drop(guard);
    assert!(a.woken() && !b.woken());
    drop(a);
    assert!(b.woken());
    drop(b.ready());
    assert_eq!(sem.available_permits(), 1);
    // A forgotten permit can be given back once, not twice.
    sem.try_acquire().unwrap().forget();
    sem.release(1).unwrap();
    assert!(sem.release(1).is_err());
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_after_completion_panics() {
    let sem = Semaphore::new(1);
    let mut task = Task::new(sem.acquire());
    let permit = task.ready();
    std::mem::forget(permit);
    let _ = task.poll();
}
