//! The workloads: one module each, all behind the object-safe [`Workload`] trait.
//!
//! A workload describes itself (name, unit, direction) and runs one iteration on an
//! [`AnyRuntime`]; the runner decides how often and in which order. To add one, write a
//! module with a struct implementing [`Workload`] (usually by visiting the runtime with a
//! generic job, see `spawn_many.rs`) and list it in [`all_workloads`].

mod accept_churn;
mod bulk_transfer;
mod chained_spawn;
mod connections;
mod cpu_parallel;
mod echo;
mod event_broadcast;
mod idle_connections;
mod idle_task_memory;
mod imbalanced;
mod mixed;
mod mutex_contended;
mod open_loop;
mod ping_pong;
mod queue;
mod semaphore;
mod spawn_many;
mod spawn_many_remote;
mod sync_family;
mod syscalls_per_message;
mod tcp_echo;
mod tcp_latency;
mod timers;
mod yield_many;

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use crate::runtimes::{AnyRuntime, Rt, RuntimeKind};

/// How big a run is: `Quick` for CI, `Full` for the published figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Fewer repetitions and, where it matters, fewer timed iterations.
    Quick,
    /// The published configuration.
    Full,
}

/// Whether an iteration is a warm-up (result discarded) or measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Untimed: brings threads, caches and allocator pools into a steady state.
    WarmUp,
    /// Timed: the result is a sample.
    Measure,
}

/// The unit a workload reports in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Wall time in milliseconds.
    Millis,
    /// Bytes of memory per task.
    BytesPerTask,
    /// Round trips per second.
    MessagesPerSec,
    /// Microseconds.
    Micros,
    /// Bytes of memory per connection.
    BytesPerConnection,
    /// System calls per echoed message.
    SyscallsPerMessage,
    /// CPU time over wall time, in percent of one CPU (two busy CPUs are 200%).
    CpuPercent,
    /// Gigabytes (10^9 bytes) per second.
    GigabytesPerSec,
    /// Connections (each opened, used and closed) per second.
    ConnectionsPerSec,
}

impl Unit {
    /// The unit as printed in tables and JSON.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Millis => "ms",
            Unit::BytesPerTask => "bytes/task",
            Unit::MessagesPerSec => "msg/s",
            Unit::Micros => "us",
            Unit::BytesPerConnection => "bytes/conn",
            Unit::SyscallsPerMessage => "syscalls/msg",
            Unit::CpuPercent => "% CPU",
            Unit::GigabytesPerSec => "GB/s",
            Unit::ConnectionsPerSec => "conn/s",
        }
    }
}

/// A side figure a workload reports next to its main one (in [`Sample::extras`]), shown in
/// the report's extra-metrics table and described in the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtraMetric {
    /// The key in [`Sample::extras`] and in the JSON.
    pub name: &'static str,
    /// Its unit, as printed.
    pub unit: &'static str,
    /// What it is, in a few words.
    pub about: &'static str,
}

/// One measured value in the workload's [`Unit`], plus optional named side figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The figure the report compares.
    pub value: f64,
    /// Extra figures recorded in the JSON (e.g. allocations per task).
    pub extras: Vec<(&'static str, f64)>,
}

impl Sample {
    /// A sample without extras.
    pub fn new(value: f64) -> Self {
        Sample {
            value,
            extras: Vec::new(),
        }
    }
}

/// A benchmark workload.
pub trait Workload: Debug + Send + Sync {
    /// Short identifier, used as the JSON name and on the command line.
    fn name(&self) -> &'static str;

    /// One line saying what is measured, with its sizes.
    fn description(&self) -> String;

    /// The unit of [`Sample::value`].
    fn unit(&self) -> Unit {
        Unit::Millis
    }

    /// Whether smaller values are better.
    fn lower_is_better(&self) -> bool {
        true
    }

    /// Whether the workload can run on `kind` at all, where the server gets `workers`
    /// workers (the count of the workload's `Placement`). By default: every kind but
    /// monoio-reuseport, which is a way of deploying an echo server on several cores and
    /// runs only that server ([`Workload::serves_echo_in_process`]) with two workers or more.
    fn applies_to(&self, kind: RuntimeKind, workers: usize) -> bool {
        match kind {
            RuntimeKind::MonoioReuseport => self.serves_echo_in_process() && workers >= 2,
            _ => true,
        }
    }

    /// Whether the report shows this workload's multi-threaded speed-up (single-threaded
    /// median / multi-threaded median): true for CPU-bound workloads.
    fn shows_speed_up(&self) -> bool {
        false
    }

    /// The speed-up ringloop's multi-threaded runtime should reach here, if there is a goal.
    fn speed_up_target(&self) -> Option<f64> {
        None
    }

    /// Timed iterations averaged into one sample (more for very short workloads).
    fn iterations(&self) -> usize {
        1
    }

    /// A cap on repetitions, for deterministic workloads that need few.
    fn max_repetitions(&self) -> Option<usize> {
        None
    }

    /// The side figures the report shows for this workload (it may record more in the
    /// JSON).
    fn extra_metrics(&self) -> &'static [ExtraMetric] {
        &[]
    }

    /// Whether the workload's server shares the machine with the TCP load generator
    /// (`crate::net::run_client`); the report then says so.
    fn uses_load_generator(&self) -> bool {
        false
    }

    /// Whether the workload's server is the in-process echo server the load generator
    /// drives (`echo.rs`'s `EchoRun`): the rows where monoio-reuseport has a figure.
    fn serves_echo_in_process(&self) -> bool {
        false
    }

    /// For a workload with a load generator: whether its server runs on every CPU, the
    /// generator's included, with the suite's worker count (the oversubscribed rows), rather
    /// than on the CPUs the generator leaves free (see `runner/placement.rs`).
    fn server_shares_client_cpu(&self) -> bool {
        false
    }

    /// For a sync workload: the side figures holding each primitive family's time, which
    /// the report's primitives table compares on each runtime (`sync_family.rs`).
    fn primitive_families(&self) -> &'static [ExtraMetric] {
        &[]
    }

    /// Whether tokio runs without its I/O driver (timers only) for this workload.
    fn tokio_without_io(&self) -> bool {
        false
    }

    /// Runs one iteration on `rt`. An error means the figure cannot be measured here.
    fn run(&self, rt: &mut AnyRuntime, phase: Phase) -> Result<Sample, String>;
}

/// Every workload, at the given scale, in report order.
pub fn all_workloads(scale: Scale) -> Vec<Arc<dyn Workload>> {
    let mut workloads: Vec<Arc<dyn Workload>> = vec![
        Arc::new(spawn_many::SpawnMany::new(scale)),
        Arc::new(spawn_many_remote::SpawnManyRemote::new(scale)),
        Arc::new(spawn_many_remote::SpawnManyRemote::tokio_without_io(scale)),
        Arc::new(yield_many::YieldMany::new(scale)),
        Arc::new(yield_many::YieldMany::native(scale)),
        Arc::new(ping_pong::PingPong::new(scale)),
        Arc::new(chained_spawn::ChainedSpawn::new(scale)),
        Arc::new(cpu_parallel::CpuParallel::new(scale)),
        Arc::new(imbalanced::Imbalanced::new(scale)),
        Arc::new(idle_task_memory::IdleTaskMemory::new(scale)),
        Arc::new(timers::Timers::new(scale)),
        Arc::new(timers::Timers::lateness(scale)),
        Arc::new(tcp_echo::TcpEcho::new(scale, tcp_echo::SMALL)),
        Arc::new(tcp_echo::TcpEcho::new(scale, tcp_echo::LARGE)),
        Arc::new(tcp_echo::TcpEcho::oversubscribed(scale, tcp_echo::SMALL)),
        Arc::new(tcp_latency::TcpLatency::new(scale)),
        Arc::new(bulk_transfer::BulkTransfer::new(
            scale,
            bulk_transfer::MEDIUM,
        )),
        Arc::new(bulk_transfer::BulkTransfer::new(scale, bulk_transfer::HUGE)),
        Arc::new(accept_churn::AcceptChurn::new(scale)),
        Arc::new(mixed::Mixed::new(scale)),
        Arc::new(mixed::Mixed::oversubscribed(scale)),
    ];
    workloads.extend(
        open_loop::SET_UPS
            .into_iter()
            .map(|set_up| Arc::new(open_loop::OpenLoop::new(scale, set_up)) as Arc<dyn Workload>),
    );
    let rest: [Arc<dyn Workload>; 8] = [
        Arc::new(connections::Connections::new(scale)),
        Arc::new(idle_connections::IdleConnections::new(scale)),
        Arc::new(syscalls_per_message::SyscallsPerMessage::new(scale)),
        Arc::new(mutex_contended::MutexContended::new(scale)),
        Arc::new(semaphore::SemaphoreWorkload::new(scale)),
        Arc::new(queue::QueueWorkload::new(scale, queue::BOUNDED)),
        Arc::new(queue::QueueWorkload::new(scale, queue::UNBOUNDED)),
        Arc::new(event_broadcast::EventBroadcast::new(scale)),
    ];
    workloads.extend(rest);
    workloads
}

/// Repetitions of the workloads whose samples are long (a fixed measurement window, a
/// child process): in the full run, enough for a bootstrap interval worth quoting (with 7,
/// one noisy window moved an I/O row's interval by several percent); in the quick run, the
/// fewest that give a median, so it stays short.
fn long_sample_repetitions(scale: Scale) -> usize {
    match scale {
        Scale::Quick => 3,
        Scale::Full => 15,
    }
}

/// Times `rt.block_on(fut)` and returns the wall time in milliseconds.
fn time_block_on<R: Rt, F: Future>(rt: &mut R, fut: F) -> Sample {
    let start = Instant::now();
    rt.block_on(fut);
    Sample::new(start.elapsed().as_secs_f64() * 1e3)
}

/// Formats a count with thousands separators (`100000` becomes `100,000`).
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separates() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(100_000), "100,000");
    }

    /// Every workload runs on tokio and monoio and produces a finite figure.
    #[test]
    fn every_workload_runs_on_the_reference_runtimes() {
        for kind in [
            RuntimeKind::TokioMulti,
            RuntimeKind::TokioCurrent,
            RuntimeKind::Monoio,
            RuntimeKind::MonoioTuned,
        ] {
            for workload in all_workloads(Scale::Quick) {
                if !workload.applies_to(kind, 2) || workload.unit() != Unit::Millis {
                    continue;
                }
                let mut rt = kind.build(2).expect("runtime builds");
                let sample = workload.run(&mut rt, Phase::WarmUp).unwrap();
                assert!(sample.value.is_finite(), "{} on {kind}", workload.name());
            }
        }
    }

    /// monoio-reuseport has a figure only on the in-process echo rows, and only with two
    /// workers or more; the other kinds are not affected by the worker count.
    #[test]
    fn monoio_reuseport_applies_to_the_in_process_echo_rows() {
        let in_process_echo = |name: &str| {
            [
                "tcp_echo_",
                "tcp_latency",
                "bulk_transfer_",
                "open_loop_",
                "accept_churn",
                "mixed",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        };
        for workload in all_workloads(Scale::Quick) {
            let name = workload.name();
            let reuseport = |workers| workload.applies_to(RuntimeKind::MonoioReuseport, workers);
            assert_eq!(reuseport(2), in_process_echo(name), "{name}");
            assert_eq!(reuseport(8), in_process_echo(name), "{name}");
            assert!(!reuseport(1), "{name}");
            for kind in RuntimeKind::ALL
                .into_iter()
                .filter(|&k| k != RuntimeKind::MonoioReuseport)
            {
                assert_eq!(workload.applies_to(kind, 1), workload.applies_to(kind, 2));
            }
        }
    }
}
