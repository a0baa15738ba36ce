//! Mutex<T> and Lock: exclusion, FIFO hand-over, cancel safety.
#![cfg(not(loom))]

mod support;

use ringloop_sync::{Lock, Mutex, MutexGuard};
use support::Task;

#[test]
fn guard_gives_exclusive_access() {
    let m = Mutex::new(vec![1]);
    {
        let mut g = Task::new(m.lock()).ready();
        g.push(2);
        assert!(m.locked());
        assert!(m.try_lock().is_err());
        assert!(std::ptr::eq(MutexGuard::mutex(&g), &m));
    }
    assert!(!m.locked());
    assert_eq!(*m.try_lock().unwrap(), vec![1, 2]);
    assert_eq!(m.into_inner(), vec![1, 2]);
}

#[test]
fn lock_is_handed_over_in_fifo_order() {
    let m = Mutex::new(0);
    let g = m.try_lock().unwrap();
    let mut a = Task::new(m.lock());
    let mut b = Task::new(m.lock());
    a.pending();
    b.pending();
    drop(g);
    assert!(a.woken() && !b.woken());
    // The lock is promised to `a`: nobody may take it meanwhile.
    assert!(m.try_lock().is_err());
    let mut ga = a.ready();
    *ga += 1;
    drop(ga);
    assert!(b.woken());
    assert_eq!(*b.ready(), 1);
}

#[test]
fn try_lock_fails_while_waiters_queue() {
    let m = Mutex::new(());
    let g = m.try_lock().unwrap();
    let mut a = Task::new(m.lock());
    a.pending();
    drop(g);
    assert!(m.try_lock().is_err());
    drop(a.ready());
    assert!(m.try_lock().is_ok());
}

#[test]
fn dropping_a_waiter_that_was_handed_the_lock_passes_it_on() {
    let m = Mutex::new(5);
    let g = m.try_lock().unwrap();
    let mut a = Task::new(m.lock());
    let mut b = Task::new(m.lock());
    a.pending();
    b.pending();
    drop(g);
    drop(a); // handed the lock, never polled again
    assert!(b.woken());
    assert_eq!(*b.ready(), 5);
    assert!(!m.locked());
}

#[test]
fn dropping_queued_or_unpolled_waiters_changes_nothing() {
    let m = Mutex::new(());
    drop(m.lock());
    let g = m.try_lock().unwrap();
    let mut a = Task::new(m.lock());
    a.pending();
    drop(a);
    drop(g);
    assert!(!m.locked());
}

#[test]
fn get_mut_and_debug() {
    let mut m = Mutex::new(1);
    *m.get_mut() = 2;
    assert_eq!(format!("{m:?}"), "Mutex { data: 2 }");
    let g = m.try_lock().unwrap();
    assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
    assert_eq!(format!("{g} {g:?}"), "2 2");
}

#[test]
fn lock_type_acquires_and_cancels() {
    let lock = Lock::new();
    let held = Task::new(lock.acquire()).ready();
    assert!(lock.locked());
    let mut a = Task::new(lock.acquire());
    let mut b = Task::new(lock.acquire());
    a.pending();
    b.pending();
    drop(held);
    drop(a);
    assert!(b.woken());
    let g = b.ready();
    assert!(lock.try_acquire().is_err());
    drop(g);
    assert!(lock.try_acquire().is_ok());
}

#[test]
fn guard_moves_between_threads() {
    let m = std::sync::Arc::new(Mutex::new(0));
    let m2 = m.clone();
    std::thread::spawn(move || {
        let mut g = support::block_on(m2.lock());
        *g += 1;
        std::thread::scope(|s| {
            s.spawn(move || *g += 1);
        });
    })
    .join()
    .unwrap();
    assert_eq!(*m.try_lock().unwrap(), 2);
}
