//! Event: set wakes every waiter, clear does not take a wake-up back, waiters cancel cleanly.
#![cfg(not(loom))]

mod support;

use ringloop_sync::Event;
use support::Task;

#[test]
fn wait_on_a_set_event_is_immediate() {
    let ev = Event::new();
    ev.set();
    assert!(ev.is_set());
    Task::new(ev.wait()).ready();
}

#[test]
fn set_wakes_every_waiter_once() {
    let ev = Event::new();
    let mut waiters: Vec<_> = (0..20).map(|_| Task::new(ev.wait())).collect();
    for w in &mut waiters {
        w.pending();
    }
    ev.set();
    ev.set(); // no second wake-up
    for w in &mut waiters {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
}

#[test]
fn a_woken_waiter_completes_even_if_cleared_before_it_runs() {
    let ev = Event::new();
    let mut a = Task::new(ev.wait());
    a.pending();
    ev.set();
    ev.clear();
    assert!(!ev.is_set());
    a.ready();
    let mut b = Task::new(ev.wait());
    b.pending();
    assert!(!b.woken());
}

#[test]
fn dropping_waiters_at_any_point_leaves_others_working() {
    let ev = Event::new();
    drop(ev.wait()); // never polled
    let mut queued = Task::new(ev.wait());
    let mut notified = Task::new(ev.wait());
    let mut survivor = Task::new(ev.wait());
    queued.pending();
    notified.pending();
    survivor.pending();
    drop(queued);
    ev.set();
    drop(notified); // woken, never polled again
    assert_eq!(survivor.wakes(), 1);
    survivor.ready();
}

#[test]
fn many_rounds_of_set_and_clear_reuse_slots() {
    let ev = Event::new();
    for _ in 0..100 {
        let mut w = Task::new(ev.wait());
        w.pending();
        ev.set();
        w.ready();
        ev.clear();
    }
    assert!(format!("{ev:?}").contains("waiters: 0"));
}
