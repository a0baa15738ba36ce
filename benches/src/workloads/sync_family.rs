//! The sync-primitive workloads separate two questions.
//!
//! - **Which runtime is faster?** Every runtime runs the same primitives, `ringloop::sync`
//!   (runtime-agnostic: they only use the `Waker` they are polled with), and that time is
//!   the cell's main figure, so the ratio columns compare schedulers, not primitives.
//! - **Which primitives are faster?** Each family also runs on every runtime, and the
//!   report's primitives table compares them on the same runtime: `ringloop::sync`,
//!   `tokio::sync`, and for the queues a multi-consumer channel (`async-channel`). On
//!   tokio, `tokio::sync` spends tokio's cooperative budget (a task that used it up yields
//!   at its next `lock()`, `acquire()` or `recv()`), which is part of what a tokio user gets
//!   and shows in that table only.
//!
//! The families run one after the other on the same runtime within a sample, in a fixed
//! order; each is timed on its own.

use std::time::Instant;

use super::{ExtraMetric, Sample};
use crate::runtimes::AnyRuntime;

/// A family of synchronization primitives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// `ringloop::sync` (`Mutex`, `Semaphore`, `Queue`, `Event`): every runtime's main
    /// figure.
    Ringloop,
    /// `tokio::sync` (`Mutex`, `Semaphore`, `mpsc`, `Notify`).
    Tokio,
    /// `async-channel`, a multi-producer multi-consumer channel (queues only).
    AsyncChannel,
}

impl Family {
    /// The side figure holding this family's time.
    fn metric(self) -> &'static str {
        match self {
            Family::Ringloop => "ringloop_sync_ms",
            Family::Tokio => "tokio_sync_ms",
            Family::AsyncChannel => "async_channel_ms",
        }
    }
}

/// The families of the mutex, semaphore and event workloads.
pub(super) const TWO_FAMILIES: &[Family] = &[Family::Ringloop, Family::Tokio];

/// The families of the queue workloads.
pub(super) const QUEUE_FAMILIES: &[Family] =
    &[Family::Ringloop, Family::Tokio, Family::AsyncChannel];

/// The primitives table's columns for [`TWO_FAMILIES`].
pub(super) const TWO_FAMILY_METRICS: &[ExtraMetric] = &[RINGLOOP_METRIC, TOKIO_METRIC];

/// The primitives table's columns for [`QUEUE_FAMILIES`].
pub(super) const QUEUE_FAMILY_METRICS: &[ExtraMetric] =
    &[RINGLOOP_METRIC, TOKIO_METRIC, ASYNC_CHANNEL_METRIC];

const RINGLOOP_METRIC: ExtraMetric = ExtraMetric {
    name: "ringloop_sync_ms",
    unit: "ms",
    about: "ringloop::sync",
};

const TOKIO_METRIC: ExtraMetric = ExtraMetric {
    name: "tokio_sync_ms",
    unit: "ms",
    about: "tokio::sync",
};

const ASYNC_CHANNEL_METRIC: ExtraMetric = ExtraMetric {
    name: "async_channel_ms",
    unit: "ms",
    about: "async-channel",
};

/// What the sync workloads' descriptions say about the families.
pub(super) const FAMILIES: &str = "main figure: ringloop::sync on every runtime; \
     each family on each runtime in the primitives table";

/// Runs `job` once per family of `families` on `rt`, in order, and returns the
/// `ringloop::sync` time (the first family) as the value, every family's as a side figure.
/// `job` returns the milliseconds.
pub(super) fn run_families(
    rt: &mut AnyRuntime,
    families: &[Family],
    mut job: impl FnMut(&mut AnyRuntime, Family) -> Result<f64, String>,
) -> Result<Sample, String> {
    debug_assert_eq!(families.first(), Some(&Family::Ringloop));
    let mut extras = Vec::with_capacity(families.len());
    for &family in families {
        extras.push((family.metric(), job(rt, family)?));
    }
    Ok(Sample {
        value: extras[0].1,
        extras,
    })
}

/// Milliseconds since `start`.
pub(super) fn millis_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}
