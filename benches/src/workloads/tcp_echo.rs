//! tcp_echo_64, tcp_echo_4k and tcp_echo_64_oversubscribed: echo throughput over loopback
//! with many connections.
//!
//! The runtime under test runs the echo server (an accept loop spawning one task per
//! connection that reads and writes back); the load generator, one pinned thread of plain
//! epoll code that is the same for every server, keeps one message in flight on each of
//! 100 connections and counts the round trips completed in a fixed window after a warm-up.
//! The server runs on the CPUs the load generator leaves free, with as many workers
//! (`runner/placement.rs`); the `_oversubscribed` row gives it every CPU and the suite's
//! worker count instead, so that its workers and the generator contend for the CPUs.
//! Higher is better. The warm-up phase of the runner is a short run of the same kind, so
//! the first measured window does not pay for thread and socket start-up.

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
        about: "CPU time of the server's threads per echoed message (user + kernel; lower is leaner, and steadier than msg/s on a shared machine). Leaves out the kernel's softirq work, which for loopback runs mostly on the sender's CPU and is often billed to whichever thread was running there",
    },
    ExtraMetric {
        name: "system_cpu_us_per_msg",
        unit: "us",
        about: "busy time of the whole machine (all CPUs: server, client, interrupts and softirqs, anything else running; from /proc/stat, 10 ms ticks) per echoed message: the whole cost",
    },
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct TcpEcho {
    message_size: usize,
    warm_up: Duration,
    window: Duration,
    repetitions: usize,
    oversubscribed: bool,
}

impl TcpEcho {
    /// The server on the CPUs the load generator leaves free.
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
            oversubscribed: false,
        }
    }

    /// The server on every CPU, the load generator's included.
    pub(crate) fn oversubscribed(scale: Scale, message_size: usize) -> Self {
        TcpEcho {
            oversubscribed: true,
            ..TcpEcho::new(scale, message_size)
        }
    }
}

impl Workload for TcpEcho {
    fn name(&self) -> &'static str {
        match (self.message_size, self.oversubscribed) {
            (SMALL, false) => "tcp_echo_64",
            (LARGE, false) => "tcp_echo_4k",
            (SMALL, true) => "tcp_echo_64_oversubscribed",
            (_, false) => "tcp_echo",
            (_, true) => "tcp_echo_oversubscribed",
        }
    }

    fn description(&self) -> String {
        format!(
            "echo over loopback, {CONNECTIONS} connections x 1 message of {} bytes in flight; \
             server: the runtime, one task per connection; client: the shared epoll load \
             generator (one thread, pinned), {} ms window after {} ms warm-up; {}",
            self.message_size,
            self.window.as_millis(),
            self.warm_up.as_millis(),
            if self.oversubscribed {
                "the server runs on every CPU, the client's included, with the suite's \
                 worker count: an oversubscribed machine"
            } else {
                "the server runs on the CPUs the client leaves free, with one worker per CPU"
            }
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

    fn serves_echo_in_process(&self) -> bool {
        true
    }

    fn server_shares_client_cpu(&self) -> bool {
        self.oversubscribed
    }

    fn run(&self, rt: &mut AnyRuntime, phase: Phase) -> Result<Sample, String> {
        let (warm_up, window) = match phase {
            Phase::WarmUp => (Duration::ZERO, Duration::from_millis(50)),
            Phase::Measure => (self.warm_up, self.window),
        };
        let mut report = rt.visit_io(EchoRun::closed(
            CONNECTIONS,
            self.message_size,
            warm_up,
            window,
            true,
        ))?;
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
        let per_message = |cpu: Duration| cpu.as_secs_f64() * 1e6 / report.messages as f64;
        if report.messages > 0 {
            if let Some(cpu) = report.others_cpu {
                sample
                    .extras
                    .push(("server_cpu_us_per_msg", per_message(cpu)));
            }
            if let Some(cpu) = report.system_cpu {
                sample
                    .extras
                    .push(("system_cpu_us_per_msg", per_message(cpu)));
            }
        }
        Ok(sample)
    }
}
