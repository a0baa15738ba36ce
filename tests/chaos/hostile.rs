//! [`Hostile`]: a future that polls an inner future (a ringloop op, a sleep) with a waker of
//! its own that panics: in `wake`, in `wake_by_ref`, or in its `Drop`.
//!
//! A user is allowed to poll ringloop's futures with any `Context`, and the runtime promises
//! that a panicking waker run by the io driver (a completion's wake, the release of a dropped
//! op) is caught and logged, never kills a worker, and never costs another task its wake-up.
//! The hostile waker always forwards the wake to the task's real waker *before* it panics, so
//! the task itself still makes progress. It panics only outside its op's scope
//! ([`crate::scope`]): where the runtime, not our op, runs it.

use crate::scope::{in_scope, ScopeId};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};

/// Where the hostile waker panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hostility {
    Wake,
    WakeByRef,
    Drop,
}

pub(crate) const HOSTILITIES: [Hostility; 3] =
    [Hostility::Wake, Hostility::WakeByRef, Hostility::Drop];

/// Wraps `inner`, the op `scope`, polling it with a waker that panics as `hostility` says;
/// `panics` counts the panics.
pub(crate) fn hostile<F: Future>(
    inner: F,
    scope: ScopeId,
    hostility: Hostility,
    panics: Arc<AtomicUsize>,
) -> Hostile<F> {
    Hostile {
        inner: Box::pin(inner),
        scope,
        hostility,
        panics,
        waker: Weak::new(),
    }
}

/// See the module docs.
pub(crate) struct Hostile<F> {
    inner: Pin<Box<F>>,
    scope: ScopeId,
    hostility: Hostility,
    panics: Arc<AtomicUsize>,
    /// The waker of the last poll, while the runtime still holds it: polling again with the
    /// same one (`will_wake`) lets the runtime keep it rather than drop it in our poll.
    waker: Weak<HostileWaker>,
}

impl<F: Future> Future for Hostile<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let waker = match self.waker.upgrade() {
            Some(waker) => {
                *waker.task.lock().unwrap() = cx.waker().clone();
                waker
            }
            None => {
                let waker = Arc::new(HostileWaker {
                    task: Mutex::new(cx.waker().clone()),
                    scope: self.scope,
                    hostility: self.hostility,
                    panics: self.panics.clone(),
                });
                self.waker = Arc::downgrade(&waker);
                waker
            }
        };
        let waker = Waker::from(waker);
        self.inner.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

struct HostileWaker {
    /// The real waker of the task that polls the [`Hostile`] future.
    task: Mutex<Waker>,
    scope: ScopeId,
    hostility: Hostility,
    panics: Arc<AtomicUsize>,
}

impl HostileWaker {
    /// Panics with `what` if this waker's hostility is `when` and the runtime runs it.
    fn maybe_panic(&self, when: Hostility, what: &str) {
        if self.hostility == when && !in_scope(self.scope) && !std::thread::panicking() {
            self.panics.fetch_add(1, Ordering::SeqCst);
            panic!("chaos: a waker panics in {what}");
        }
    }

    fn forward(&self) {
        let task = self.task.lock().unwrap().clone();
        task.wake();
    }
}

impl Wake for HostileWaker {
    fn wake(self: Arc<Self>) {
        self.forward();
        self.maybe_panic(Hostility::Wake, "wake");
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.forward();
        self.maybe_panic(Hostility::WakeByRef, "wake_by_ref");
    }
}

impl Drop for HostileWaker {
    fn drop(&mut self) {
        self.maybe_panic(Hostility::Drop, "Drop");
    }
}
