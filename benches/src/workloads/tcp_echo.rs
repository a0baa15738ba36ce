//! tcp_echo_64 and tcp_echo_4k: echo throughput over loopback with many connections.
//!
//! The runtime under test runs the echo server (an accept loop spawning one task per
//! connection that reads and writes back); the load generator, one pinned thread of plain
//! epoll code that is the same for every server, keeps one message in flight on each of
//! 100 connections and counts the round trips completed in a fixed window after a warm-up.
//! Both share the machine's CPUs. Higher is better. The warm-up phase of the runner is a
//! short run of the same kind, so the first measured window does not pay for thread and
//! socket start-up.

use std::time::Duration;

use super::echo::EchoRun;
use super::{long_sample_repetitions, ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::percentile::Distribution;
use crate::runtimes::AnyRuntime;

/// 64-byte messages.
pub(super) const SMALL: usize = 64;
/// 4 KiB messages.
pub(super) const LARGE: usize = 4096;

const CONNECTIONS: usize = 100;

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "p50_rtt_us",
        unit: "us",
        about: "median round trip under this load",
    },
    ExtraMetric {
        name: "p99_rtt_us",
        unit: "us",
        about: "99th percentile round trip under this load",
    },
    ExtraMetric {
        name: "server_cpu_us_per_msg",
        unit: "us",
        about: "CPU time of the server's threads per echoed message (user + kernel; lower is leaner, and steadier than msg/s on a shared machine)",
    },
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct TcpEcho {
    message_size: usize,
    warm_up: Duration,
    window: Duration,
    repetitions: usize,
}

impl TcpEcho {
    pub(crate) fn new(scale: Scale, message_size: usize) -> Self {
        let (warm_up, window) = match scale {
            Scale::Quick => (Duration::from_millis(50), Duration::from_millis(200)),
            Scale::Full => (Duration::from_millis(200), Duration::from_secs(1)),
        };
        TcpEcho {
            message_size,
            warm_up,
            window,
            repetitions: long_sample_repetitions(scale),
        }
    }
}

impl Workload for TcpEcho {
    fn name(&self) -> &'static str {
        match self.message_size {
            SMALL => "tcp_echo_64",
            LARGE => "tcp_echo_4k",
            _ => "tcp_echo",
        }
    }

    fn description(&self) -> String {
        format!(
            "echo over loopback, {CONNECTIONS} connections x 1 message of {} bytes in flight; \
             server: the runtime, one task per connection; client: the shared epoll load \
             generator (one thread, pinned), {} ms window after {} ms warm-up; client and \
             server share the CPUs",
            self.message_size,
            self.window.as_millis(),
            self.warm_up.as_millis()
        )
    }

    fn unit(&self) -> Unit {
        Unit::MessagesPerSec
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

    fn run(&self, rt: &mut AnyRuntime, phase: Phase) -> Result<Sample, String> {
        let (warm_up, window) = match phase {
            Phase::WarmUp => (Duration::ZERO, Duration::from_millis(50)),
            Phase::Measure => (self.warm_up, self.window),
        };
        let mut report = rt.visit_io(EchoRun {
            connections: CONNECTIONS,
            message_size: self.message_size,
            warm_up,
            window,
            keep_rtts: true,
        })?;
        let rtts = Distribution::of(&mut report.rtts).ok_or("no round trip completed")?;
        let mut sample = Sample {
            value: report.per_second,
            extras: vec![
                ("p50_rtt_us", rtts.p50 as f64 / 1e3),
                ("p99_rtt_us", rtts.p99 as f64 / 1e3),
                ("messages", report.messages as f64),
                (
                    "client_cpu",
                    report.pinned_cpu.map_or(-1.0, |cpu| cpu as f64),
                ),
            ],
        };
        if let Some(cpu) = report.others_cpu.filter(|_| report.messages > 0) {
            let per_message = cpu.as_secs_f64() * 1e6 / report.messages as f64;
            sample.extras.push(("server_cpu_us_per_msg", per_message));
        }
        Ok(sample)
    }
}
