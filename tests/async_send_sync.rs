//! Compile-time checks: which public types and futures are `Send`, `Sync` and `Unpin` (like
//! tokio's `tests/async_send_sync.rs`). A regression here is a build failure of this file.
#![allow(dead_code)] // the checks are items that are never called

use ringloop::{
    Builder, Gather, Handle, Runtime, Task, TaskBuilder, TaskError, TaskId, TaskInfo, TaskState,
    TryGather, YieldNow,
};
use std::cell::Cell;
use std::future::{Future, Ready};
use std::rc::Rc;

/// `$t` implements every trait listed.
macro_rules! assert_impl {
    ($t:ty: $($bound:path),+ $(,)?) => {
        const _: fn() = || {
            fn check<T: ?Sized $(+ $bound)+>() {}
            check::<$t>();
        };
    };
}

/// `$t` does not implement `$bound`: if it did, the call below would be ambiguous between the
/// two blanket implementations, and this would not compile.
macro_rules! assert_not_impl {
    ($t:ty: $bound:path) => {
        const _: fn() = || {
            trait AmbiguousIfImpl<A> {
                fn some_item() {}
            }
            impl<T: ?Sized> AmbiguousIfImpl<()> for T {}
            struct Invalid;
            impl<T: ?Sized + $bound> AmbiguousIfImpl<Invalid> for T {}
            let _ = <$t as AmbiguousIfImpl<_>>::some_item;
        };
    };
}

/// A future that is `Send` but not `Sync`.
type SendOnly = Ready<Cell<u8>>;
/// A future that is neither.
type NotSend = Ready<Rc<u8>>;
/// A future that is both.
type SendSync = Ready<u8>;

// The runtime and its handles: usable from any thread, shareable.
assert_impl!(Runtime: Send, Sync, Unpin, std::fmt::Debug);
assert_impl!(Handle: Send, Sync, Clone, Unpin, std::fmt::Debug);
assert_impl!(Builder: Send, Sync, Unpin, Default, std::fmt::Debug);
assert_impl!(TaskBuilder: Send, Sync, Unpin, Default, std::fmt::Debug);

// Task<T>: Send + Sync exactly when the output is Send (it is moved to whoever awaits);
// always Unpin.
assert_impl!(Task<u8>: Send, Sync, Unpin, Future, std::fmt::Debug);
assert_impl!(Task<Cell<u8>>: Send, Sync);
assert_impl!(Task<Rc<u8>>: Unpin);
assert_not_impl!(Task<Rc<u8>>: Send);
assert_not_impl!(Task<Rc<u8>>: Sync);
assert_not_impl!(Task<*const u8>: Send);

// Introspection values and errors. `TaskError` is `Sync` (its panic payload is wrapped in a
// `PanicPayload` that only gives it out by value), so `?` converts it into
// `Box<dyn Error + Send + Sync>`.
assert_impl!(TaskError: Send, Sync, Unpin, std::error::Error, std::fmt::Display, std::fmt::Debug);
assert_impl!(ringloop::PanicPayload: Send, Sync, std::fmt::Debug);
assert_impl!(Box<dyn std::error::Error + Send + Sync>: From<TaskError>);
assert_impl!(TaskId: Send, Sync, Copy, Eq, Ord, std::hash::Hash, std::fmt::Display);
assert_impl!(TaskInfo: Send, Sync, Clone, Eq, std::fmt::Debug);
assert_impl!(TaskState: Send, Sync, Copy, Eq, std::hash::Hash, std::fmt::Debug);
assert_impl!(Result<u8, TaskError>: Send, Sync);

// yield_now's future.
assert_impl!(YieldNow: Send, Sync, Unpin, Future, std::fmt::Debug);

// Gather and TryGather: Send when their futures (and outputs) are; always Unpin (the children
// live in a heap slice that never moves).
assert_impl!(Gather<SendSync>: Send, Sync, Unpin, Future, std::fmt::Debug);
assert_impl!(Gather<SendOnly>: Send, Unpin);
assert_not_impl!(Gather<SendOnly>: Sync);
assert_impl!(Gather<NotSend>: Unpin);
assert_not_impl!(Gather<NotSend>: Send);
assert_impl!(Gather<std::future::Pending<Rc<u8>>>: Unpin);
assert_not_impl!(Gather<std::future::Pending<Rc<u8>>>: Send);
assert_impl!(Gather<Task<u8>>: Send, Unpin);
assert_impl!(TryGather<Ready<Result<u8, String>>>: Send, Sync, Unpin, Future, std::fmt::Debug);
assert_impl!(TryGather<Ready<Result<Cell<u8>, u8>>>: Send, Unpin);
assert_not_impl!(TryGather<Ready<Result<Rc<u8>, u8>>>: Send);

// Streams: the reader is used by one task at a time (`&mut self`), the writer and the server
// are shared (`&self`, behind an `Arc` or cloned).
assert_impl!(ringloop::streams::StreamReader: Send, Sync, Unpin, std::fmt::Debug);
assert_impl!(ringloop::streams::StreamWriter: Send, Sync, Unpin, std::fmt::Debug);
assert_impl!(ringloop::streams::Flusher: Send, Unpin, Future, std::fmt::Debug);
assert_impl!(ringloop::streams::Server: Send, Sync, Clone, Unpin, std::fmt::Debug);
assert_impl!(ringloop::streams::ServerConfig: Send, Sync, Clone, std::fmt::Debug);
assert_impl!(ringloop::streams::ReadError: Send, Sync, std::error::Error);
assert_impl!(ringloop::streams::StreamAddr: Send, Sync, Clone, std::fmt::Display);
// Signals: a `Signal` moves between tasks, threads and runtimes.
assert_impl!(ringloop::signal::Signal: Send, Sync, Unpin, std::fmt::Debug);
assert_impl!(ringloop::signal::SignalKind: Send, Sync, Copy, Eq, std::hash::Hash, std::fmt::Display, std::fmt::Debug);

/// Checks on the futures of functions and macros, whose types cannot be named.
fn require_send<T: Send>(_: &T) {}
fn require_unpin<T: Unpin>(_: &T) {}

const _: fn() = || {
    // The future of `gather!` is Send when its children are.
    let gathered = ringloop::gather!(async { 1 }, std::future::ready("two"));
    require_send(&gathered);
    // `create_task`'s handle, awaited inside a Send future, keeps it Send.
    let awaiting = async { ringloop::create_task(async { 1 }).await };
    require_send(&awaiting);
    require_unpin(&ringloop::yield_now());
    // The streams' futures can be awaited in spawned (Send) tasks.
    let streams = async {
        let (mut reader, writer) = ringloop::open_connection("localhost", 1).await.unwrap();
        let _ = reader.readline().await;
        let _ = reader.readuntil(b"\r\n").await;
        let _ = reader.readexactly(4).await;
        let _ = writer.drain().await;
        let _ = writer.wait_closed().await;
        let server = ringloop::start_server(
            |_: ringloop::streams::StreamReader, _: ringloop::streams::StreamWriter| async {},
            "",
            0,
        )
        .await
        .unwrap();
        server.serve_forever().await;
        server.wait_closed().await;
    };
    require_send(&streams);
    require_unpin(&ringloop::gather([async { 1 }]));
    require_send(&ringloop::signal::ctrl_c());
};

/// The futures of a `Signal` are Send and Unpin.
fn signal_futures(signal: &mut ringloop::signal::Signal) {
    require_send(&signal.recv());
    require_unpin(&signal.recv());
}

/// The `gather!` future of a `!Send` child is not Send.
fn gather_macro_of_not_send(x: Rc<u8>) -> impl Future<Output = (u8,)> {
    ringloop::gather!(async move { *x })
}
assert_not_impl!(TaskBuilder: Copy);

#[ringloop::test]
async fn the_checks_above_compile() {
    // Nothing to run: this file fails to build if a check fails. One runtime check of a
    // property the type system cannot express above: `gather!` of a !Send child still works.
    let out = gather_macro_of_not_send(Rc::new(3)).await;
    assert_eq!(out, (3,));
}
