//! Condition: wait releases and re-acquires the lock, notify is FIFO, and a notification handed
//! to a dropped waiter passes to the next one.
#![cfg(not(loom))]

mod support;

use ringloop_sync::Condition;
use support::Task;

#[test]
fn wait_releases_the_lock_and_reacquires_it() {
    let cond = Condition::new(0);
    let guard = Task::new(cond.lock()).ready();
    let mut w = Task::new(cond.wait(guard));
    assert!(cond.locked());
    w.pending();
    assert!(!cond.locked(), "waiting released the lock");
    let mut g = cond.try_lock().unwrap();
    *g = 7;
    assert_eq!(cond.notify(1), 1);
    assert!(w.woken());
    w.pending(); // notified, but the lock is still held by us
    drop(g);
    assert_eq!(w.wakes(), 2);
    let g = w.ready();
    assert_eq!(*g, 7);
    assert!(cond.locked());
}

#[test]
fn notify_wakes_the_longest_waiting_first() {
    let cond = Condition::new(());
    let mut ws: Vec<_> = (0..3)
        .map(|_| {
            let g = cond.try_lock().unwrap();
            let mut w = Task::new(cond.wait(g));
            w.pending();
            w
        })
        .collect();
    assert_eq!(cond.notify(2), 2);
    assert!(ws[0].woken() && ws[1].woken() && !ws[2].woken());
    drop(ws[0].ready());
    drop(ws[1].ready());
    assert_eq!(cond.notify_all(), 1);
    drop(ws[2].ready());
    assert_eq!(cond.notify(5), 0);
}

#[test]
fn dropped_notified_waiter_passes_the_notification_on() {
    let cond = Condition::new(());
    let mut a = Task::new(cond.wait(cond.try_lock().unwrap()));
    a.pending();
    let mut b = Task::new(cond.wait(cond.try_lock().unwrap()));
    b.pending();
    cond.notify(1);
    assert!(a.woken() && !b.woken());
    drop(a);
    assert!(b.woken(), "notification passed on");
    drop(b.ready());
    assert!(!cond.locked());
}

#[test]
fn waiter_dropped_while_reacquiring_passes_the_notification_on() {
    let cond = Condition::new(());
    let mut a = Task::new(cond.wait(cond.try_lock().unwrap()));
    a.pending();
    let mut b = Task::new(cond.wait(cond.try_lock().unwrap()));
    b.pending();
    let held = cond.try_lock().unwrap();
    cond.notify(1);
    a.pending(); // took the notification, now queued for the lock
    assert!(!b.woken());
    drop(a);
    assert!(b.woken());
    b.pending();
    drop(held);
    drop(b.ready());
    assert!(!cond.locked());
}

#[test]
fn dropped_queued_waiter_does_not_absorb_a_notification() {
    let cond = Condition::new(());
    let mut a = Task::new(cond.wait(cond.try_lock().unwrap()));
    a.pending();
    let mut b = Task::new(cond.wait(cond.try_lock().unwrap()));
    b.pending();
    drop(a);
    assert_eq!(cond.notify(1), 1);
    assert!(b.woken());
    drop(b.ready());
}

#[test]
fn dropping_before_first_poll_unlocks() {
    let cond = Condition::new(());
    let w = cond.wait(cond.try_lock().unwrap());
    assert!(cond.locked());
    drop(w);
    assert!(!cond.locked());
    assert_eq!(cond.notify_all(), 0);
}

#[test]
fn wait_for_rechecks_the_predicate() {
    let cond = Condition::new(0);
    let mut w = Task::new(cond.wait_for(cond.try_lock().unwrap(), |n| *n >= 2));
    w.pending();
    *cond.try_lock().unwrap() = 1;
    cond.notify_all();
    w.pending(); // predicate still false: waits again
    assert!(!cond.locked());
    *cond.try_lock().unwrap() = 2;
    cond.notify_all();
    assert_eq!(*w.ready(), 2);
    // Already true: no wait at all.
    let mut now = Task::new(cond.wait_for(cond.try_lock().unwrap(), |n| *n == 2));
    drop(now.ready());
}

#[test]
#[should_panic(expected = "guard of another mutex")]
fn wait_with_a_foreign_guard_panics() {
    let a = Condition::new(());
    let b = Condition::new(());
    drop(a.wait(b.try_lock().unwrap()));
}
