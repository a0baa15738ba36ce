//! tcp_latency: round-trip time of one connection, one 64-byte message at a time.
//!
//! The same server and load generator as `tcp_echo_64`, with a single connection: each
//! round trip is the client's write, the server's wake-up, read and write, and the client's
//! wake-up and read. The main figure is the median round trip, the p99 is an extra.
//! Lower is better.

use std::time::Duration;

use super::echo::EchoRun;
use super::{long_sample_repetitions, ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::percentile::Distribution;
use crate::runtimes::AnyRuntime;

const MESSAGE_SIZE: usize = 64;

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "p99_us",
        unit: "us",
        about: "99th percentile round trip",
    },
    ExtraMetric {
        name: "mean_us",
        unit: "us",
        about: "mean round trip",
    },
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct TcpLatency {
    warm_up: Duration,
    window: Duration,
    repetitions: usize,
}

impl TcpLatency {
    pub(crate) fn new(scale: Scale) -> Self {
        let (warm_up, window) = match scale {
            Scale::Quick => (Duration::from_millis(50), Duration::from_millis(200)),
            Scale::Full => (Duration::from_millis(100), Duration::from_secs(1)),
        };
        TcpLatency {
            warm_up,
            window,
            repetitions: long_sample_repetitions(scale),
        }
    }
}

impl Workload for TcpLatency {
    fn name(&self) -> &'static str {
        "tcp_latency"
    }

    fn description(&self) -> String {
        format!(
            "median round trip of 1 connection ping-ponging {MESSAGE_SIZE} bytes over \
             loopback (the tcp_echo server and load generator), {} ms window after {} ms \
             warm-up",
            self.window.as_millis(),
            self.warm_up.as_millis()
        )
    }

    fn unit(&self) -> Unit {
        Unit::Micros
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
            Phase::WarmUp => (Duration::ZERO, Duration::from_millis(20)),
            Phase::Measure => (self.warm_up, self.window),
        };
        let mut report = rt.visit_io(EchoRun::closed(1, MESSAGE_SIZE, warm_up, window, true))?;
        let rtts = Distribution::of(&mut report.rtts).ok_or("no round trip completed")?;
        Ok(Sample {
            value: rtts.p50 as f64 / 1e3,
            extras: vec![
                ("p99_us", rtts.p99 as f64 / 1e3),
                ("mean_us", rtts.mean / 1e3),
                ("max_us", rtts.max as f64 / 1e3),
                ("round_trips", rtts.count as f64),
            ],
        })
    }
}
