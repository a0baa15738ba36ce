//! The seven runtime configurations the suite compares, and how each is built.

use std::fmt;
use std::io;
use std::str::FromStr;

use super::{AnyRuntime, MonoioReuseportRt, MonoioRt, RingloopRt, TokioRt};

/// Worker threads of the multi-threaded runtimes unless told otherwise.
pub const DEFAULT_WORKERS: usize = 2;

/// One runtime configuration under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuntimeKind {
    /// ringloop's work-stealing scheduler with `workers` worker threads.
    RingloopMulti,
    /// ringloop's single-threaded scheduler (runs on the `block_on` thread).
    RingloopSingle,
    /// tokio's `multi_thread` scheduler with `workers` worker threads.
    TokioMulti,
    /// tokio's `current_thread` scheduler.
    TokioCurrent,
    /// monoio, one thread, io_uring driver, its default ring set-up.
    Monoio,
    /// monoio with the ring flags its users set for a server ([`MonoioRt::tuned`]).
    MonoioTuned,
    /// monoio as it is deployed on several cores: `workers` tuned monoio runtimes, one per
    /// thread, each echo server with a listener per runtime on one port (`SO_REUSEPORT`)
    /// ([`MonoioReuseportRt`]). A way of deploying a server rather than a general runtime:
    /// it runs only the in-process echo workloads, and only where the server has two
    /// workers or more ([`crate::Workload::applies_to`]).
    MonoioReuseport,
}

impl RuntimeKind {
    /// Every kind, in report column order.
    pub const ALL: [RuntimeKind; 7] = [
        RuntimeKind::RingloopMulti,
        RuntimeKind::RingloopSingle,
        RuntimeKind::TokioMulti,
        RuntimeKind::TokioCurrent,
        RuntimeKind::Monoio,
        RuntimeKind::MonoioTuned,
        RuntimeKind::MonoioReuseport,
    ];

    /// The name used in tables and as the JSON key.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::RingloopMulti => "ringloop-multi",
            RuntimeKind::RingloopSingle => "ringloop-single",
            RuntimeKind::TokioMulti => "tokio-multi",
            RuntimeKind::TokioCurrent => "tokio-current",
            RuntimeKind::Monoio => "monoio",
            RuntimeKind::MonoioTuned => "monoio-tuned",
            RuntimeKind::MonoioReuseport => "monoio-reuseport",
        }
    }

    /// Whether the kind runs tasks on a pool of worker threads.
    pub fn is_multi_threaded(self) -> bool {
        matches!(self, RuntimeKind::RingloopMulti | RuntimeKind::TokioMulti)
    }

    /// Whether the kind is one single-threaded runtime per thread, `workers` of them, each
    /// keeping its tasks (monoio-reuseport).
    pub fn is_thread_per_core(self) -> bool {
        self == RuntimeKind::MonoioReuseport
    }

    /// Threads that run tasks when built with `workers` (1 for single-threaded kinds).
    pub fn task_threads(self, workers: usize) -> usize {
        if self.is_multi_threaded() || self.is_thread_per_core() {
            workers
        } else {
            1
        }
    }

    /// Whether the runtime can spawn from outside (see [`super::RemoteSpawn`]).
    pub fn spawns_remotely(self) -> bool {
        !self.is_monoio()
    }

    /// Whether this is one of the monoio set-ups.
    pub fn is_monoio(self) -> bool {
        matches!(
            self,
            RuntimeKind::Monoio | RuntimeKind::MonoioTuned | RuntimeKind::MonoioReuseport
        )
    }

    /// Builds the runtime; multi-threaded kinds get `workers` worker threads, and
    /// monoio-reuseport `workers` runtimes (the calling thread runs the first, see
    /// [`MonoioReuseportRt::new`]).
    pub fn build(self, workers: usize) -> io::Result<AnyRuntime> {
        Ok(match self {
            RuntimeKind::RingloopMulti => {
                AnyRuntime::Ringloop(Box::new(RingloopRt::multi(workers)?))
            }
            RuntimeKind::RingloopSingle => AnyRuntime::Ringloop(Box::new(RingloopRt::single()?)),
            RuntimeKind::TokioMulti => AnyRuntime::Tokio(TokioRt::multi(workers)?),
            RuntimeKind::TokioCurrent => AnyRuntime::Tokio(TokioRt::current()?),
            RuntimeKind::Monoio => AnyRuntime::Monoio(MonoioRt::new()?),
            RuntimeKind::MonoioTuned => AnyRuntime::Monoio(MonoioRt::tuned()?),
            RuntimeKind::MonoioReuseport => {
                AnyRuntime::MonoioReuseport(MonoioReuseportRt::new(workers)?)
            }
        })
    }

    /// Like [`RuntimeKind::build`], but tokio without its I/O driver (timers only); the
    /// other runtimes cannot leave out their ring, and are built as usual.
    pub fn build_without_tokio_io(self, workers: usize) -> io::Result<AnyRuntime> {
        Ok(match self {
            RuntimeKind::TokioMulti => AnyRuntime::Tokio(TokioRt::multi_with(workers, false)?),
            RuntimeKind::TokioCurrent => AnyRuntime::Tokio(TokioRt::current_with(false)?),
            other => other.build(workers)?,
        })
    }
}

impl fmt::Display for RuntimeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuntimeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        RuntimeKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = RuntimeKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown runtime `{s}` (expected one of {})",
                    names.join(", ")
                )
            })
    }
}
