//! Op scopes: which op's code a thread is running, so that the chaos that belongs to an op (a
//! hostile waker, an armed buffer) fires only when the *runtime* runs it outside that op.
//!
//! Our own code dropping our own op (a timeout dropping the read it raced) drops the op's
//! buffer and waker in our task, as any future's drop does: a panic there is our task's
//! panic, as Rust means it to be, and the sides already panic on purpose. What the runtime
//! promises is about the other places: the driver waking a waker or releasing the buffer of a
//! dropped op, a read that takes over a dropped read's bytes and drops its buffer, a sibling
//! worker rescuing a stuck one. So every op runs inside [`Scoped`], which marks the thread
//! as running that op while it is polled or dropped, and the chaos of an op stays quiet in
//! its own scope.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An op's scope id (0: none).
pub(crate) type ScopeId = u64;

thread_local! {
    static CURRENT: Cell<ScopeId> = const { Cell::new(0) };
}

/// Whether this thread is running the code of op `id`.
pub(crate) fn in_scope(id: ScopeId) -> bool {
    CURRENT.with(Cell::get) == id
}

/// Runs `f` in the scope of op `id`.
pub(crate) fn with_scope<T>(id: ScopeId, f: impl FnOnce() -> T) -> T {
    struct Restore(ScopeId);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|current| current.set(self.0));
        }
    }
    let _restore = Restore(CURRENT.with(|current| current.replace(id)));
    f()
}

/// Polls and drops `inner` in the scope of op `id`.
pub(crate) fn scoped<F: Future>(id: ScopeId, inner: F) -> Scoped<F> {
    Scoped {
        id,
        inner: Some(Box::pin(inner)),
    }
}

/// See [`scoped`].
pub(crate) struct Scoped<F> {
    id: ScopeId,
    /// Taken by `Drop`, to drop it in the scope.
    inner: Option<Pin<Box<F>>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let id = self.id;
        let inner = self.inner.as_mut().expect("polled after its drop");
        with_scope(id, || inner.as_mut().poll(cx))
    }
}

impl<F> Drop for Scoped<F> {
    fn drop(&mut self) {
        let inner = self.inner.take();
        with_scope(self.id, || drop(inner));
    }
}
