//! open_loop_*: latency at a constant request rate, a fraction of each server's capacity.
//!
//! The closed-loop echo rows measure throughput, and their round-trip percentiles hide
//! queueing (a client that waits for each answer sends less to a server that stalls).
//! These rows drive the same echo server ([`super::echo`]) with the open-loop client
//! ([`crate::net::run_open_loop`]): requests due at a constant rate, latency measured from
//! each request's due time.
//!
//! Each sample first measures the server's capacity on this runtime: the closed-loop echo
//! throughput over the same connections for [`PROBE`]. The open loop then offers
//! `load_percent` of that, so every runtime is compared at the same share of what it can
//! do (a fixed rate would be 90% of one server's capacity and 50% of another's). The
//! main figure is the p99 latency from due time; p50, p99.9, the offered and achieved
//! rates and the capacity are extras. Lower is better.
//!
//! The server runs on the CPUs the client leaves free (`runner/placement.rs`).

use std::time::Duration;

use super::echo::{Client, EchoRun};
use super::{ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::os;
use crate::percentile::{percentile, Distribution};
use crate::runtimes::AnyRuntime;

const MESSAGE_SIZE: usize = 64;

/// How long each sample's capacity probe runs, after a short warm-up.
const PROBE: Duration = Duration::from_millis(300);
const PROBE_WARM_UP: Duration = Duration::from_millis(100);

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "p50_us",
        unit: "us",
        about: "median latency from due time",
    },
    ExtraMetric {
        name: "p999_us",
        unit: "us",
        about: "99.9th percentile latency from due time",
    },
    ExtraMetric {
        name: "offered_per_s",
        unit: "req/s",
        about: "the constant rate offered (the load share of the capacity)",
    },
    ExtraMetric {
        name: "achieved_per_s",
        unit: "req/s",
        about: "requests due in the window and answered, per second",
    },
    ExtraMetric {
        name: "capacity_per_s",
        unit: "msg/s",
        about:
            "closed-loop echo throughput over the same connections, measured first in each sample",
    },
];

/// The most connections a quick run opens (see [`OpenLoop::new`]).
const QUICK_MAX_CONNECTIONS: usize = 1_000;

/// The set-ups the suite runs: (name, connections, load in percent of capacity).
pub(super) const SET_UPS: [(&str, usize, u32); 4] = [
    ("open_loop_100c_10pct", 100, 10),
    ("open_loop_100c_50pct", 100, 50),
    ("open_loop_100c_90pct", 100, 90),
    // 9,000, not 10,000: both ends of every connection are in this process, and 20,000
    // descriptors is a common hard limit (this machine's) that only a privileged process
    // may raise.
    ("open_loop_9kc_50pct", 9_000, 50),
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct OpenLoop {
    name: &'static str,
    connections: usize,
    load_percent: u32,
    warm_up: Duration,
    window: Duration,
    repetitions: usize,
}

impl OpenLoop {
    /// The set-up `(name, connections, load_percent)` of [`SET_UPS`].
    pub(crate) fn new(
        scale: Scale,
        (name, connections, load_percent): (&'static str, usize, u32),
    ) -> Self {
        let (warm_up, window, repetitions) = match scale {
            Scale::Quick => (Duration::from_millis(100), Duration::from_millis(300), 3),
            // Two-second windows: at 10% of capacity a 1 s window holds few enough requests
            // that the p99.9 is a handful of them.
            Scale::Full => (Duration::from_millis(300), Duration::from_secs(2), 7),
        };
        // The quick run (CI's smoke test) keeps the many-connection row small: 9,000 blocking
        // connects, twice per sample, against a single-threaded acceptor overflow the listen
        // backlog, and the stalls of the SYNs retried a second later once timed a sample
        // out. The row's name says what it ran.
        let (name, connections) = match scale {
            Scale::Quick if connections > QUICK_MAX_CONNECTIONS => {
                let name = name.replace(
                    &format!("_{}kc_", connections / 1000),
                    &format!("_{}kc_", QUICK_MAX_CONNECTIONS / 1000),
                );
                (&*Box::leak(name.into_boxed_str()), QUICK_MAX_CONNECTIONS)
            }
            _ => (name, connections),
        };
        OpenLoop {
            name,
            connections,
            load_percent,
            warm_up,
            window,
            repetitions,
        }
    }
}

impl Workload for OpenLoop {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "open loop: {} connections, 64-byte echoes due at a constant {}% of the server's \
             capacity on this runtime (measured first in each sample), {} ms window after \
             {} ms warm-up; p99 latency from each request's due time",
            self.connections,
            self.load_percent,
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
        let echo = |warm_up, window, client| EchoRun {
            client,
            ..EchoRun::closed(self.connections, MESSAGE_SIZE, warm_up, window, false)
        };
        // Both ends of every connection are in this process.
        let wanted = 2 * self.connections as u64 + 256;
        let limit = os::raise_nofile_limit()
            .map_err(|e| format!("cannot raise the descriptor limit: {e}"))?;
        if limit < wanted {
            return Err(format!(
                "{} connections need {wanted} descriptors; the limit is {limit} (raise the \
                 hard limit, `ulimit -Hn`)",
                self.connections
            ));
        }
        if phase == Phase::WarmUp {
            rt.visit_io(echo(
                Duration::ZERO,
                Duration::from_millis(50),
                Client::Closed,
            ))?;
            return Ok(Sample::new(0.0));
        }
        let capacity = rt
            .visit_io(echo(PROBE_WARM_UP, PROBE, Client::Closed))?
            .per_second;
        if capacity <= 0.0 {
            return Err("the capacity probe completed no round trip".to_owned());
        }
        let rate = capacity * f64::from(self.load_percent) / 100.0;
        let mut report = rt.visit_io(echo(self.warm_up, self.window, Client::OpenLoop(rate)))?;
        let latencies = Distribution::of(&mut report.rtts).ok_or("no request was due")?;
        let p999 = percentile(&report.rtts, 99.9).unwrap_or(latencies.max);
        let us = |nanos: u64| nanos as f64 / 1e3;
        Ok(Sample {
            value: us(latencies.p99),
            extras: vec![
                ("p50_us", us(latencies.p50)),
                ("p999_us", us(p999)),
                ("offered_per_s", rate),
                ("achieved_per_s", report.per_second),
                ("capacity_per_s", capacity),
                ("incomplete", report.incomplete as f64),
            ],
        })
    }
}
