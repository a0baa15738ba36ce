//! timers: many sleeps of random length, started together, on the runtime's own timer.
//!
//! `timers`: a task spawns 100,000 tasks; each sleeps for 1 to 50 ms (whole milliseconds, drawn from a
//! fixed seed, so every runtime sleeps the same list) with the runtime's sleep
//! (`ringloop::sleep`, `tokio::time::sleep`, `monoio::time::sleep`) and records how late it
//! woke: the time past its duration, measured from just before the sleep started. The main
//! figure is the wall time until the last sleeper woke (at least 50 ms); the p50, p99 and
//! largest lateness are extras. Timers never fire early; a runtime whose timer has a 1 ms
//! tick (tokio, monoio) wakes up to a tick late by design.
//!
//! `timer_lateness`: the same with 10,000 sleeps, reporting the p99 lateness as the main
//! figure (the target: at most 1 ms).
//!
//! Lateness is a design trade: a finer timer wheel fires closer to each deadline, at the
//! price of more wake-ups and more CPU. So both workloads also report what the run cost:
//! the process's CPU time per timer, and its wake-ups (voluntary context switches of all
//! its threads: each is a thread that slept and was woken) per 1,000 timers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{thousands, ExtraMetric, Phase, Sample, Scale, Workload};
use crate::os;
use crate::percentile::Distribution;
use crate::runtimes::{AnyRuntime, IoRt, VisitIo};
use crate::sync::Latch;

/// The seed of the sleep lengths (the same for every runtime and run).
const SEED: u64 = 0x7469_6d65_7273; // "timers"
/// Sleep lengths are 1 to this many milliseconds.
const MAX_MILLIS: u64 = 50;

/// What a run cost: the extras both workloads report next to lateness.
const CPU_PER_TIMER: ExtraMetric = ExtraMetric {
    name: "cpu_us_per_timer",
    unit: "us",
    about: "CPU time of the whole process (all threads, user + kernel) per timer",
};
const WAKEUPS_PER_1K_TIMERS: ExtraMetric = ExtraMetric {
    name: "wakeups_per_1k_timers",
    unit: "",
    about: "voluntary context switches of the process's threads per 1,000 timers (each a sleep ended by a wake-up)",
};

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "p50_lateness_ms",
        unit: "ms",
        about: "median time a sleeper woke past its duration",
    },
    ExtraMetric {
        name: "p99_lateness_ms",
        unit: "ms",
        about: "99th percentile lateness",
    },
    ExtraMetric {
        name: "max_lateness_ms",
        unit: "ms",
        about: "largest lateness",
    },
    CPU_PER_TIMER,
    WAKEUPS_PER_1K_TIMERS,
];

/// Which figure a [`Timers`] workload reports as its main one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Figure {
    /// Wall time until the last sleeper woke (`timers`).
    WallTime,
    /// 99th percentile lateness (`timer_lateness`).
    P99Lateness,
}

/// The extras of `timer_lateness`, whose main figure is the p99 lateness.
const LATENESS_EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "p50_lateness_ms",
        unit: "ms",
        about: "median time a sleeper woke past its duration",
    },
    ExtraMetric {
        name: "max_lateness_ms",
        unit: "ms",
        about: "largest lateness",
    },
    ExtraMetric {
        name: "wall_ms",
        unit: "ms",
        about: "wall time until the last sleeper woke",
    },
    CPU_PER_TIMER,
    WAKEUPS_PER_1K_TIMERS,
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Timers {
    durations: Arc<Vec<Duration>>,
    repetitions: usize,
    figure: Figure,
}

impl Timers {
    /// `timers`: 100,000 sleeps; the main figure is the wall time.
    pub(crate) fn new(scale: Scale) -> Self {
        Timers {
            durations: Arc::new(sleep_lengths(100_000, SEED)),
            repetitions: match scale {
                Scale::Quick => 3,
                Scale::Full => 15,
            },
            figure: Figure::WallTime,
        }
    }

    /// `timer_lateness`: 10,000 sleeps, few enough that starting them takes a small part of a
    /// millisecond, so the lateness is the timer's own; the main figure is the p99 lateness.
    pub(crate) fn lateness(scale: Scale) -> Self {
        Timers {
            durations: Arc::new(sleep_lengths(10_000, SEED)),
            repetitions: match scale {
                Scale::Quick => 3,
                Scale::Full => 15,
            },
            figure: Figure::P99Lateness,
        }
    }
}

/// `n` sleep lengths of 1 to [`MAX_MILLIS`] whole milliseconds from `seed` (SplitMix64).
fn sleep_lengths(n: usize, seed: u64) -> Vec<Duration> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            Duration::from_millis(1 + z % MAX_MILLIS)
        })
        .collect()
}

impl Workload for Timers {
    fn name(&self) -> &'static str {
        match self.figure {
            Figure::WallTime => "timers",
            Figure::P99Lateness => "timer_lateness",
        }
    }

    fn description(&self) -> String {
        let figure = match self.figure {
            Figure::WallTime => "wall time until the last woke; lateness percentiles are extras",
            Figure::P99Lateness => {
                "99th percentile lateness (time woken past the sleep's length); wall time and \
                 other percentiles are extras"
            }
        };
        format!(
            "{} sleeps of 1-{MAX_MILLIS} ms (fixed seed), one task each, spawned together: \
             {figure}",
            thousands(self.durations.len())
        )
    }

    fn max_repetitions(&self) -> Option<usize> {
        Some(self.repetitions)
    }

    fn extra_metrics(&self) -> &'static [ExtraMetric] {
        match self.figure {
            Figure::WallTime => EXTRAS,
            Figure::P99Lateness => LATENESS_EXTRAS,
        }
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        let mut sample = rt.visit_io(Job {
            durations: self.durations.clone(),
        })?;
        if self.figure == Figure::P99Lateness {
            let p99 = sample
                .extras
                .iter()
                .find(|(name, _)| *name == "p99_lateness_ms")
                .map(|&(_, value)| value)
                .ok_or("no p99 lateness")?;
            sample.extras.push(("wall_ms", sample.value));
            sample.value = p99;
        }
        Ok(sample)
    }
}

struct Job {
    durations: Arc<Vec<Duration>>,
}

impl VisitIo for Job {
    type Output = Result<Sample, String>;

    fn visit<R: IoRt>(self, rt: &mut R) -> Result<Sample, String> {
        let n = self.durations.len();
        let lateness: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
        let latch = Arc::new(Latch::new(n));
        let pid = std::process::id();
        let switches_before = os::context_switches(pid).map_err(|e| e.to_string())?;
        let cpu_before = os::process_cpu_time();
        let start = Instant::now();
        rt.block_on({
            let (durations, lateness, latch) = (self.durations, lateness.clone(), latch.clone());
            async move {
                let done = latch.clone();
                R::spawn(async move {
                    for (i, &duration) in durations.iter().enumerate() {
                        let (lateness, latch) = (lateness.clone(), latch.clone());
                        R::spawn_sleeper(duration, move |late| {
                            let nanos = u64::try_from(late.as_nanos()).unwrap_or(u64::MAX);
                            lateness[i].store(nanos, Ordering::Relaxed);
                            latch.count_down();
                        });
                    }
                });
                done.wait().await;
            }
        });
        let wall = start.elapsed();
        let cpu = os::process_cpu_time().saturating_sub(cpu_before);
        let switches = os::context_switches(pid)
            .map_err(|e| e.to_string())?
            .since(switches_before);
        let mut late: Vec<u64> = lateness.iter().map(|l| l.load(Ordering::Relaxed)).collect();
        let late = Distribution::of(&mut late).ok_or("no sleeper")?;
        let ms = |nanos: u64| nanos as f64 / 1e6;
        Ok(Sample {
            value: wall.as_secs_f64() * 1e3,
            extras: vec![
                ("p50_lateness_ms", ms(late.p50)),
                ("p99_lateness_ms", ms(late.p99)),
                ("max_lateness_ms", ms(late.max)),
                ("mean_lateness_ms", late.mean / 1e6),
                ("cpu_us_per_timer", cpu.as_secs_f64() * 1e6 / n as f64),
                (
                    "wakeups_per_1k_timers",
                    switches.voluntary as f64 * 1e3 / n as f64,
                ),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_lengths_are_fixed_and_in_range() {
        let a = sleep_lengths(10_000, SEED);
        assert_eq!(a, sleep_lengths(10_000, SEED));
        assert_ne!(a, sleep_lengths(10_000, SEED + 1));
        let ms: Vec<u64> = a.iter().map(|d| d.as_millis() as u64).collect();
        assert_eq!(ms.iter().min(), Some(&1));
        assert_eq!(ms.iter().max(), Some(&MAX_MILLIS));
        // Roughly uniform: the mean of 1..=50 is 25.5.
        let mean = ms.iter().sum::<u64>() as f64 / ms.len() as f64;
        assert!((mean - 25.5).abs() < 1.0, "{mean}");
    }
}
