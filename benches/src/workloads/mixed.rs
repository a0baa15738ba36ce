//! mixed and mixed_oversubscribed: fast requests among slow handlers.
//!
//! The echo server runs a handler for each request before echoing it
//! ([`crate::net::EchoServer::with_handlers`]), and the closed-loop load generator draws
//! each request from [`RequestMix::SERVER`]: one in 10 burns 10 to 100 us of CPU (the same
//! calibrated work on every runtime), one in 2,000 blocks its thread for 5 ms (a handler
//! calling blocking code), the rest are plain echoes. 100 connections, one 64-byte request
//! in flight on each. The figure is the throughput (requests answered per second, slow ones
//! included); the fast requests' round trips at p50, p99 and p99.9 (how long a slow handler
//! holds up requests that need no work) are extras. Higher is better.
//!
//! With one worker a slow handler stalls every connection; with more, a scheduler can run
//! the other connections' tasks on another worker meanwhile (work stealing), while one that
//! keeps a connection's task and I/O on a worker that is busy cannot. `mixed` runs the
//! server on the CPUs the client leaves free (`runner/placement.rs`; one worker on a
//! two-CPU machine); `mixed_oversubscribed` on every CPU with the suite's worker count,
//! the client's CPU included.
//!
//! The loop is closed: a stalled connection sends nothing until it is answered, so the
//! percentiles understate queueing (the `open_loop_*` rows measure that); every runtime
//! faces the same loop.

use std::time::Duration;

use super::echo::EchoRun;
use super::{long_sample_repetitions, ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::net::RequestMix;
use crate::percentile::{percentile, Distribution};
use crate::runtimes::AnyRuntime;

const CONNECTIONS: usize = 100;
const MESSAGE_SIZE: usize = 64;

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "p50_fast_us",
        unit: "us",
        about: "median round trip of the fast requests (the plain echoes)",
    },
    ExtraMetric {
        name: "p99_fast_us",
        unit: "us",
        about: "99th percentile round trip of the fast requests",
    },
    ExtraMetric {
        name: "p999_fast_us",
        unit: "us",
        about: "99.9th percentile round trip of the fast requests",
    },
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Mixed {
    warm_up: Duration,
    window: Duration,
    repetitions: usize,
    oversubscribed: bool,
}

impl Mixed {
    /// The server on the CPUs the load generator leaves free.
    pub(crate) fn new(scale: Scale) -> Self {
        let (warm_up, window) = match scale {
            Scale::Quick => (Duration::from_millis(50), Duration::from_millis(300)),
            Scale::Full => (Duration::from_millis(200), Duration::from_secs(1)),
        };
        Mixed {
            warm_up,
            window,
            repetitions: long_sample_repetitions(scale),
            oversubscribed: false,
        }
    }

    /// The server on every CPU, the load generator's included.
    pub(crate) fn oversubscribed(scale: Scale) -> Self {
        Mixed {
            oversubscribed: true,
            ..Mixed::new(scale)
        }
    }
}

impl Workload for Mixed {
    fn name(&self) -> &'static str {
        if self.oversubscribed {
            "mixed_oversubscribed"
        } else {
            "mixed"
        }
    }

    fn description(&self) -> String {
        let mix = RequestMix::SERVER;
        format!(
            "echo with a handler per request, {CONNECTIONS} connections x 1 request of \
             {MESSAGE_SIZE} bytes in flight: 1 in {} burns {}-{} us of CPU, 1 in {} blocks \
             the thread 5 ms (mean handler time {:.1} us), the rest are plain echoes; requests \
             answered per second in a {} ms window after {} ms warm-up; {}",
            mix.burn_one_in,
            mix.burn_us.0,
            mix.burn_us.1,
            mix.block_one_in,
            mix.mean_handler_us(),
            self.window.as_millis(),
            self.warm_up.as_millis(),
            if self.oversubscribed {
                "the server runs on every CPU, the client's included, with the suite's \
                 worker count"
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
        // Before any handler runs, so none pays for the calibration.
        crate::cpu::calibrate();
        let (warm_up, window) = match phase {
            Phase::WarmUp => (Duration::ZERO, Duration::from_millis(50)),
            Phase::Measure => (self.warm_up, self.window),
        };
        let mut report = rt.visit_io(EchoRun {
            mix: Some(RequestMix::SERVER),
            ..EchoRun::closed(CONNECTIONS, MESSAGE_SIZE, warm_up, window, true)
        })?;
        let fast = Distribution::of(&mut report.rtts).ok_or("no fast request completed")?;
        let p999 = percentile(&report.rtts, 99.9).unwrap_or(fast.max);
        let us = |nanos: u64| nanos as f64 / 1e3;
        Ok(Sample {
            value: report.per_second,
            extras: vec![
                ("p50_fast_us", us(fast.p50)),
                ("p99_fast_us", us(fast.p99)),
                ("p999_fast_us", us(p999)),
                ("messages", report.messages as f64),
            ],
        })
    }
}
