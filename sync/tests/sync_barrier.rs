//! Barrier: one leader per round, reuse across rounds, dropped waiters withdraw.
#![cfg(not(loom))]

mod support;

use ringloop_sync::Barrier;
use support::Task;

#[test]
fn the_last_arrival_releases_everyone_and_leads() {
    let b = Barrier::new(3);
    let mut x = Task::new(b.wait());
    let mut y = Task::new(b.wait());
    x.pending();
    y.pending();
    assert_eq!(b.n_waiting(), 2);
    let z = Task::new(b.wait()).ready();
    assert!(z.is_leader());
    assert!(x.woken() && y.woken());
    assert!(!x.ready().is_leader());
    assert!(!y.ready().is_leader());
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn rounds_do_not_mix() {
    let b = Barrier::new(2);
    let mut old = Task::new(b.wait());
    old.pending();
    assert!(Task::new(b.wait()).ready().is_leader());
    // `old` was released but has not run yet; a new round starts cleanly.
    let mut next = Task::new(b.wait());
    next.pending();
    assert_eq!(b.n_waiting(), 1);
    assert!(!old.ready().is_leader());
    assert!(!next.woken());
    assert!(Task::new(b.wait()).ready().is_leader());
    assert!(!next.ready().is_leader());
}

#[test]
fn dropped_waiter_withdraws_from_the_round() {
    let b = Barrier::new(3);
    let mut x = Task::new(b.wait());
    let mut y = Task::new(b.wait());
    x.pending();
    y.pending();
    drop(y);
    assert_eq!(b.n_waiting(), 1);
    let mut z = Task::new(b.wait());
    z.pending(); // two live parties only
    assert!(!x.woken());
    assert!(Task::new(b.wait()).ready().is_leader());
    x.ready();
    z.ready();
}

#[test]
fn dropped_after_release_changes_nothing() {
    let b = Barrier::new(2);
    let mut x = Task::new(b.wait());
    x.pending();
    assert!(Task::new(b.wait()).ready().is_leader());
    drop(x);
    assert_eq!(b.n_waiting(), 0);
    let mut y = Task::new(b.wait());
    y.pending();
    assert!(Task::new(b.wait()).ready().is_leader());
    y.ready();
}

#[test]
fn a_single_party_never_waits() {
    let b = Barrier::new(1);
    assert!(Task::new(b.wait()).ready().is_leader());
    assert_eq!(b.parties(), 1);
}

#[test]
#[should_panic(expected = "at least one party")]
fn zero_parties_panics() {
    let _ = Barrier::new(0);
}
