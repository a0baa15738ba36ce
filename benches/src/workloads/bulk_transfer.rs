//! bulk_transfer_64k and bulk_transfer_1m: large messages echoed over a few connections.
//!
//! The echo server of `tcp_echo_*` with 64 KiB or 1 MiB buffers, driven by the closed-loop
//! load generator over 4 connections, one message of that size in flight on each: the
//! client writes it (in as many `write`s as the socket takes), the server reads and writes
//! back what each read returned, the client reads the whole echo before writing the next.
//! The figure is the bytes moved per second (both directions), in GB/s; the server's CPU
//! and the whole machine's CPU per GB moved are extras. The server runs on the CPUs the
//! client leaves free (`runner/placement.rs`). Higher is better.

use std::time::Duration;

use super::echo::EchoRun;
use super::{long_sample_repetitions, ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::runtimes::AnyRuntime;

/// 64 KiB messages.
pub(super) const MEDIUM: usize = 64 * 1024;
/// 1 MiB messages.
pub(super) const HUGE: usize = 1024 * 1024;

const CONNECTIONS: usize = 4;

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "server_cpu_ms_per_gb",
        unit: "ms",
        about: "CPU time of the server's threads per GB moved (both directions)",
    },
    ExtraMetric {
        name: "system_cpu_ms_per_gb",
        unit: "ms",
        about: "busy time of the whole machine (all CPUs, /proc/stat) per GB moved",
    },
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct BulkTransfer {
    message_size: usize,
    warm_up: Duration,
    window: Duration,
    repetitions: usize,
}

impl BulkTransfer {
    pub(crate) fn new(scale: Scale, message_size: usize) -> Self {
        let (warm_up, window) = match scale {
            Scale::Quick => (Duration::from_millis(50), Duration::from_millis(200)),
            Scale::Full => (Duration::from_millis(200), Duration::from_secs(1)),
        };
        BulkTransfer {
            message_size,
            warm_up,
            window,
            repetitions: long_sample_repetitions(scale),
        }
    }
}

impl Workload for BulkTransfer {
    fn name(&self) -> &'static str {
        match self.message_size {
            MEDIUM => "bulk_transfer_64k",
            HUGE => "bulk_transfer_1m",
            _ => "bulk_transfer",
        }
    }

    fn description(&self) -> String {
        format!(
            "echo of {} KiB messages over {CONNECTIONS} connections, one in flight on each \
             (server buffers of the same size); bytes moved both ways per second in a {} ms \
             window after {} ms warm-up",
            self.message_size / 1024,
            self.window.as_millis(),
            self.warm_up.as_millis()
        )
    }

    fn unit(&self) -> Unit {
        Unit::GigabytesPerSec
    }

    fn lower_is_better(&self) -> bool {
        false
    }

    fn max_repetitions(&self) -> Option<usize> {
        Some(self.repetitions)
    }

    fn extra_metrics(&self) -> &'static [ExtraMetric] {
        EXTRAS
    }

    fn uses_load_generator(&self) -> bool {
        true
    }

    fn serves_echo_in_process(&self) -> bool {
        true
    }

    fn run(&self, rt: &mut AnyRuntime, phase: Phase) -> Result<Sample, String> {
        let (warm_up, window) = match phase {
            Phase::WarmUp => (Duration::ZERO, Duration::from_millis(50)),
            Phase::Measure => (self.warm_up, self.window),
        };
        let report = rt.visit_io(EchoRun::closed(
            CONNECTIONS,
            self.message_size,
            warm_up,
            window,
            false,
        ))?;
        // Each round trip moves the message out and back.
        let gb = report.messages as f64 * 2.0 * self.message_size as f64 / 1e9;
        let mut sample = Sample::new(report.per_second * 2.0 * self.message_size as f64 / 1e9);
        if gb > 0.0 {
            if let Some(cpu) = report.others_cpu {
                sample
                    .extras
                    .push(("server_cpu_ms_per_gb", cpu.as_secs_f64() * 1e3 / gb));
            }
            if let Some(cpu) = report.system_cpu {
                sample
                    .extras
                    .push(("system_cpu_ms_per_gb", cpu.as_secs_f64() * 1e3 / gb));
            }
        }
        Ok(sample)
    }
}
