//! The sync-primitive workloads run two families of primitives on every runtime:
//! `ringloop::sync` and `tokio::sync`. Both are runtime-agnostic (they only use the
//! `Waker` they are polled with), so each can run anywhere.
//!
//! The main figure of a cell is the runtime's own family: tokio's primitives on tokio,
//! ringloop's on ringloop, and ringloop's on monoio (which has none of its own), so the
//! ratio columns compare ringloop's stack with tokio's at the same settings. Both
//! families' times are extras (`ringloop_sync_ms`, `tokio_sync_ms`), so the report also
//! compares the primitives on the same runtime.

use std::time::Instant;

use super::{ExtraMetric, Sample};
use crate::runtimes::{AnyRuntime, RuntimeKind};

/// A family of synchronization primitives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// `ringloop::sync` (`Mutex`, `Semaphore`, `Queue`, `Event`).
    Ringloop,
    /// `tokio::sync` (`Mutex`, `Semaphore`, `mpsc`, `Notify`).
    Tokio,
}

impl Family {
    /// The family of the main figure on `kind`; see the module docs.
    fn native(kind: RuntimeKind) -> Family {
        match kind {
            RuntimeKind::TokioMulti | RuntimeKind::TokioCurrent => Family::Tokio,
            _ => Family::Ringloop,
        }
    }
}

/// The extras of every sync workload.
pub(super) const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "ringloop_sync_ms",
        unit: "ms",
        about: "with ringloop::sync on this runtime",
    },
    ExtraMetric {
        name: "tokio_sync_ms",
        unit: "ms",
        about: "with tokio::sync on this runtime",
    },
];

/// What the sync workloads' descriptions say about the families.
pub(super) const FAMILIES: &str = "main figure: tokio::sync on tokio, ringloop::sync on \
     ringloop and monoio; both families on every runtime are extras";

/// Runs `job` once per family on `rt` (ringloop's first) and returns the native family's
/// time in milliseconds as the value, both as extras. `job` returns the milliseconds.
pub(super) fn both_families(
    rt: &mut AnyRuntime,
    mut job: impl FnMut(&mut AnyRuntime, Family) -> Result<f64, String>,
) -> Result<Sample, String> {
    let ringloop = job(rt, Family::Ringloop)?;
    let tokio = job(rt, Family::Tokio)?;
    let value = match Family::native(rt.kind()) {
        Family::Ringloop => ringloop,
        Family::Tokio => tokio,
    };
    Ok(Sample {
        value,
        extras: vec![("ringloop_sync_ms", ringloop), ("tokio_sync_ms", tokio)],
    })
}

/// Milliseconds since `start`.
pub(super) fn millis_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}
