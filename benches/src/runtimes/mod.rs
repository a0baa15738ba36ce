//! The runtimes under test, behind one static interface.
//!
//! [`Rt`] is what a workload needs from a runtime: `block_on`, a detached spawn from
//! inside the runtime, and `yield_now`. [`RemoteSpawn`] adds spawning from outside (the
//! thread that owns the runtime), which monoio does not offer. [`IoRt`] adds the runtime's
//! own timer and TCP sockets. Workloads are written once, generic over these traits, and
//! reach a concrete runtime through the [`Visit`]/[`VisitRemote`]/[`VisitIo`] visitors of
//! [`AnyRuntime`], so every runtime runs the same monomorphised code with no dynamic
//! dispatch on the hot path.
//!
//! One file per runtime; `monoio_reuseport.rs` is not a runtime of its own but a way of
//! deploying monoio's: one per thread, each serving its own listener on a shared port. Adding
//! a runtime configuration is a [`RuntimeKind`] (`kind.rs`), and a variant here if it is
//! built from a new type.

mod kind;
mod monoio_reuseport;
mod monoio_rt;
mod ringloop_rt;
mod tokio_rt;

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use kind::{RuntimeKind, DEFAULT_WORKERS};
pub use monoio_reuseport::MonoioReuseportRt;
pub use monoio_rt::MonoioRt;
pub use ringloop_rt::RingloopRt;
pub use tokio_rt::TokioRt;

use crate::net::{EchoListeners, EchoServer};

/// What a workload needs from a runtime.
pub trait Rt: Sized + 'static {
    /// Runs `fut` to completion on the calling thread, driving the runtime meanwhile.
    fn block_on<F: Future>(&mut self, fut: F) -> F::Output;

    /// Spawns a detached task from inside the runtime (from a task or `block_on`).
    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static;

    /// Yields to the scheduler once (the runtime's own `yield_now` where it has one).
    fn yield_now() -> impl Future<Output = ()> + Send;
}

/// Runtimes that can spawn from outside, through a runtime or handle method.
pub trait RemoteSpawn: Rt {
    /// The join handle of a remotely spawned task.
    type Join: Future<Output = Result<(), Self::JoinError>> + Send + 'static;
    /// Why a join failed (the task panicked or was cancelled).
    type JoinError: Debug;

    /// Spawns `fut` from the thread that owns the runtime, without entering it.
    fn spawn_remote<F>(&self, fut: F) -> Self::Join
    where
        F: Future<Output = ()> + Send + 'static;
}

/// Runtimes with their own timers and TCP sockets: what the I/O workloads need.
///
/// Each runtime implements these with its own API (monoio's futures are not `Send`, so
/// they cannot go through [`Rt::spawn`]); the shape is the same for all, see
/// [`crate::net::EchoServer`].
pub trait IoRt: Rt {
    /// Sleeps on the runtime's timer (from inside the runtime).
    fn sleep(duration: Duration) -> impl Future<Output = ()>;

    /// Waits until `flag` is set, looking every `period`.
    ///
    /// For news from a plain thread (the load generator): a waker woken from a thread
    /// outside monoio does nothing without monoio's `sync` feature, which the suite leaves
    /// off, so this polls a flag instead. It arms a timer every `period`; the child server
    /// does without it (see `crate::child`).
    fn wait_until_set(flag: &AtomicBool, period: Duration) -> impl Future<Output = ()> + '_ {
        async move {
            while !flag.load(Ordering::Acquire) {
                Self::sleep(period).await;
            }
        }
    }

    /// Spawns a task (from inside the runtime) that sleeps for `duration` on the runtime's
    /// timer, then calls `woke` with how late it woke: the time past `duration` after the
    /// sleep started.
    fn spawn_sleeper<F>(duration: Duration, woke: F)
    where
        F: FnOnce(Duration) + Send + 'static;

    /// Spawns the echo server's accept loop on `listener` (from inside the runtime): one
    /// task per connection, `TCP_NODELAY`, reading into a buffer of
    /// [`EchoServer::buffer_size`] bytes and writing back what it read.
    fn spawn_echo_server(listener: TcpListener, server: Arc<EchoServer>);

    /// Binds the listeners [`IoRt::serve_echo`] serves: one, except where the runtime runs
    /// one accept loop per thread ([`MonoioReuseportRt`]). Bind them before the load
    /// generator connects.
    ///
    /// # Errors
    ///
    /// The error of the first socket that could not be made.
    fn echo_listeners(&self) -> io::Result<EchoListeners> {
        EchoListeners::one()
    }

    /// Runs the echo server on `listeners` until `until` completes, then stops it and waits
    /// until every task of it has ended, so nothing of the server outlives the call.
    /// `server` is the state of the accept loop on the thread that calls this (every
    /// runtime's only one, but [`MonoioReuseportRt`]'s first).
    ///
    /// By default: [`IoRt::spawn_echo_server`] and `until` in one `block_on`, then
    /// [`EchoServer::shut_down`].
    ///
    /// # Errors
    ///
    /// An accept error, a failed wake-up connection, or more listeners than the runtime
    /// serves.
    fn serve_echo<F: Future<Output = ()>>(
        &mut self,
        listeners: EchoListeners,
        server: &Arc<EchoServer>,
        until: F,
    ) -> Result<(), String> {
        let addr = listeners.addr();
        let (listener, more) = listeners.split_first();
        if !more.is_empty() {
            return Err(format!(
                "this runtime serves one listener, not {}",
                more.len() + 1
            ));
        }
        self.block_on(async {
            Self::spawn_echo_server(listener, server.clone());
            until.await;
            // Stop the server in every case, so no task outlives the sample.
            server.shut_down(addr).await
        })
    }
}

/// A job run against a statically known runtime; see [`AnyRuntime::visit`].
pub trait Visit {
    /// What the job returns.
    type Output;
    /// Runs the job on `rt`.
    fn visit<R: Rt>(self, rt: &mut R) -> Self::Output;
}

/// A job that needs [`RemoteSpawn`]; see [`AnyRuntime::visit_remote`].
pub trait VisitRemote {
    /// What the job returns.
    type Output;
    /// Runs the job on `rt`.
    fn visit<R: RemoteSpawn>(self, rt: &mut R) -> Self::Output;
}

/// A job that needs [`IoRt`]; see [`AnyRuntime::visit_io`].
pub trait VisitIo {
    /// What the job returns.
    type Output;
    /// Runs the job on `rt`.
    fn visit<R: IoRt>(self, rt: &mut R) -> Self::Output;
}

/// A built runtime of any kind.
#[derive(Debug)]
pub enum AnyRuntime {
    /// ringloop, multi-threaded or single-threaded (boxed: its runtime handle is the largest).
    Ringloop(Box<RingloopRt>),
    /// tokio, `multi_thread` or `current_thread`.
    Tokio(TokioRt),
    /// monoio on its io_uring driver.
    Monoio(MonoioRt),
    /// monoio, one runtime per thread, each echo server's accept loop on a listener of its
    /// own sharing one port.
    MonoioReuseport(MonoioReuseportRt),
}

impl AnyRuntime {
    /// Runs `job` against the concrete runtime.
    pub fn visit<V: Visit>(&mut self, job: V) -> V::Output {
        match self {
            AnyRuntime::Ringloop(rt) => job.visit(&mut **rt),
            AnyRuntime::Tokio(rt) => job.visit(rt),
            AnyRuntime::Monoio(rt) => job.visit(rt),
            AnyRuntime::MonoioReuseport(rt) => job.visit(rt),
        }
    }

    /// Runs `job`, which needs the runtime's timers or sockets.
    pub fn visit_io<V: VisitIo>(&mut self, job: V) -> V::Output {
        match self {
            AnyRuntime::Ringloop(rt) => job.visit(&mut **rt),
            AnyRuntime::Tokio(rt) => job.visit(rt),
            AnyRuntime::Monoio(rt) => job.visit(rt),
            AnyRuntime::MonoioReuseport(rt) => job.visit(rt),
        }
    }

    /// Which configuration this is.
    pub fn kind(&self) -> RuntimeKind {
        match self {
            AnyRuntime::Ringloop(rt) => rt.kind(),
            AnyRuntime::Tokio(rt) => rt.kind(),
            AnyRuntime::Monoio(rt) => rt.kind(),
            AnyRuntime::MonoioReuseport(_) => RuntimeKind::MonoioReuseport,
        }
    }

    /// Threads that run its tasks (the worker threads of a multi-threaded runtime, the
    /// runtimes of monoio-reuseport, else 1).
    pub fn workers(&self) -> usize {
        match self {
            AnyRuntime::Ringloop(rt) => rt.runtime().worker_threads().max(1),
            AnyRuntime::Tokio(rt) => rt.workers(),
            AnyRuntime::Monoio(_) => 1,
            AnyRuntime::MonoioReuseport(rt) => rt.runtimes(),
        }
    }

    /// Runs `job` if the runtime can spawn from outside; `None` otherwise.
    pub fn visit_remote<V: VisitRemote>(&mut self, job: V) -> Option<V::Output> {
        match self {
            AnyRuntime::Ringloop(rt) => Some(job.visit(&mut **rt)),
            AnyRuntime::Tokio(rt) => Some(job.visit(rt)),
            AnyRuntime::Monoio(_) | AnyRuntime::MonoioReuseport(_) => None,
        }
    }
}
