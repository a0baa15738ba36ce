//! accept_churn: connections opened, used once and closed, per second.
//!
//! The echo server of `tcp_echo_*` faces the churn client ([`crate::net::run_churn`]):
//! [`CONCURRENT`] connection attempts at once, each one connect, one 64-byte request and
//! its echo, and a close by the client, after which its slot connects again. Each
//! connection costs the server an accept, a task spawn, one read and write, the read that
//! sees the end of stream, and a close: what a server of short-lived connections (HTTP
//! without keep-alive, health checks) pays. The figure is the connections completed per
//! second; the connection time (from `connect` to the echo's last byte) at p50 and p99 and
//! the server's and the whole machine's CPU per connection are extras. The server runs on
//! the CPUs the client leaves free (`runner/placement.rs`). Higher is better.

use std::time::Duration;

use super::echo::{Client, EchoRun};
use super::{long_sample_repetitions, ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::percentile::Distribution;
use crate::runtimes::AnyRuntime;

/// Connection attempts in flight at once.
const CONCURRENT: usize = 32;
const MESSAGE_SIZE: usize = 64;

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "p50_conn_us",
        unit: "us",
        about: "median connection time: connect, request, echo's last byte",
    },
    ExtraMetric {
        name: "p99_conn_us",
        unit: "us",
        about: "99th percentile connection time",
    },
    ExtraMetric {
        name: "server_cpu_us_per_conn",
        unit: "us",
        about: "CPU time of the server's threads per connection (user + kernel; the client's share of the handshake and of loopback softirq work is billed to the client)",
    },
    ExtraMetric {
        name: "system_cpu_us_per_conn",
        unit: "us",
        about: "busy time of the whole machine (all CPUs, /proc/stat) per connection: the whole cost",
    },
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct AcceptChurn {
    warm_up: Duration,
    window: Duration,
    repetitions: usize,
}

impl AcceptChurn {
    pub(crate) fn new(scale: Scale) -> Self {
        let (warm_up, window) = match scale {
            Scale::Quick => (Duration::from_millis(50), Duration::from_millis(200)),
            Scale::Full => (Duration::from_millis(200), Duration::from_secs(1)),
        };
        AcceptChurn {
            warm_up,
            window,
            repetitions: long_sample_repetitions(scale),
        }
    }
}

impl Workload for AcceptChurn {
    fn name(&self) -> &'static str {
        "accept_churn"
    }

    fn description(&self) -> String {
        format!(
            "short-lived connections over loopback: {CONCURRENT} at once, each connect, one \
             {MESSAGE_SIZE}-byte request and its echo, close (by the client); server: the \
             echo server, one task per connection; connections completed per second in a \
             {} ms window after {} ms warm-up",
            self.window.as_millis(),
            self.warm_up.as_millis()
        )
    }

    fn unit(&self) -> Unit {
        Unit::ConnectionsPerSec
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
        let mut report = rt.visit_io(EchoRun {
            client: Client::Churn,
            ..EchoRun::closed(CONCURRENT, MESSAGE_SIZE, warm_up, window, true)
        })?;
        let times = Distribution::of(&mut report.rtts).ok_or("no connection completed")?;
        let mut sample = Sample {
            value: report.per_second,
            extras: vec![
                ("p50_conn_us", times.p50 as f64 / 1e3),
                ("p99_conn_us", times.p99 as f64 / 1e3),
                ("connections", report.messages as f64),
            ],
        };
        let per_connection = |cpu: Duration| cpu.as_secs_f64() * 1e6 / report.messages as f64;
        if report.messages > 0 {
            if let Some(cpu) = report.others_cpu {
                sample
                    .extras
                    .push(("server_cpu_us_per_conn", per_connection(cpu)));
            }
            if let Some(cpu) = report.system_cpu {
                sample
                    .extras
                    .push(("system_cpu_us_per_conn", per_connection(cpu)));
            }
        }
        Ok(sample)
    }
}
