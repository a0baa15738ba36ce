//! The runtimes under test, behind one static interface.
//!
//! [`Rt`] is what a workload needs from a runtime: `block_on`, a detached spawn from
//! inside the runtime, and `yield_now`. [`RemoteSpawn`] adds spawning from outside (the
//! thread that owns the runtime), which monoio does not offer. Workloads are written
//! once, generic over these traits, and reach a concrete runtime through the
//! [`Visit`]/[`VisitRemote`] visitors of [`AnyRuntime`], so every runtime runs the same
//! monomorphised code with no dynamic dispatch on the hot path.

mod kind;
mod monoio_rt;
mod ringloop_rt;
mod tokio_rt;

use std::fmt::Debug;
use std::future::Future;

pub use kind::{RuntimeKind, DEFAULT_WORKERS};
pub use monoio_rt::MonoioRt;
pub use ringloop_rt::RingloopRt;
pub use tokio_rt::TokioRt;

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

/// A built runtime of any kind.
#[derive(Debug)]
pub enum AnyRuntime {
    /// ringloop, multi-threaded or single-threaded.
    Ringloop(RingloopRt),
    /// tokio, `multi_thread` or `current_thread`.
    Tokio(TokioRt),
    /// monoio on its io_uring driver.
    Monoio(MonoioRt),
}

impl AnyRuntime {
    /// Runs `job` against the concrete runtime.
    pub fn visit<V: Visit>(&mut self, job: V) -> V::Output {
        match self {
            AnyRuntime::Ringloop(rt) => job.visit(rt),
            AnyRuntime::Tokio(rt) => job.visit(rt),
            AnyRuntime::Monoio(rt) => job.visit(rt),
        }
    }

    /// Runs `job` if the runtime can spawn from outside; `None` otherwise.
    pub fn visit_remote<V: VisitRemote>(&mut self, job: V) -> Option<V::Output> {
        match self {
            AnyRuntime::Ringloop(rt) => Some(job.visit(rt)),
            AnyRuntime::Tokio(rt) => Some(job.visit(rt)),
            AnyRuntime::Monoio(_) => None,
        }
    }
}
