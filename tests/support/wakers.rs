//! Wakers that misbehave on purpose, to check that the runtime survives them:
//!
//! - [`bomb_waker`]: panics when woken and when dropped (its clones too), as a faulty executor's
//!   or combinator's waker could;
//! - [`on_last_drop`]: runs a function when its last clone is dropped, for instance one that
//!   comes back into the structure that stored the waker: if that structure drops the waker
//!   under its own lock, the test deadlocks (and [`on_a_thread`] fails it) instead of passing;
//! - [`on_a_thread`]: runs a scenario on a thread of its own and fails if it does not finish in
//!   [`PATIENCE`](super::PATIENCE): a worker killed by a panic, or a deadlock, fails the test
//!   instead of hanging it.

use std::sync::mpsc;
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Wake, Waker};
use std::thread;

/// A waker whose `wake`, `wake_by_ref` and drop panic ("bomb waker woken", "bomb waker
/// dropped"), and so do its clones'. Keep the original in a `ManuallyDrop`.
pub(crate) fn bomb_waker() -> Waker {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake, drop);
    fn clone(_: *const ()) -> RawWaker {
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    fn wake(_: *const ()) {
        panic!("bomb waker woken");
    }
    fn drop(_: *const ()) {
        if !thread::panicking() {
            panic!("bomb waker dropped");
        }
    }
    // SAFETY: the functions ignore the data pointer, so any (here null) will do; none of them
    // is `unsafe` to call, and a clone is another waker with the same vtable.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// A waker that does nothing when woken and calls `on_drop` when its last clone is dropped.
pub(crate) fn on_last_drop(on_drop: impl Fn() + Send + Sync + 'static) -> Waker {
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

/// Runs `scenario` on a new thread and returns its result; panics (naming `what`) if it does
/// not finish within [`PATIENCE`](super::PATIENCE), and passes its panic on if it panics.
#[track_caller]
pub(crate) fn on_a_thread<T: Send + 'static>(
    what: &str,
    scenario: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, finished) = mpsc::channel();
    let thread = thread::spawn(move || {
        let _ = done.send(scenario());
    });
    match finished.recv_timeout(super::PATIENCE) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the scenario sends its result unless it panics"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{what}: not done after {:?} (a worker killed by a panic, or a deadlock?)",
            super::PATIENCE
        ),
    }
}
