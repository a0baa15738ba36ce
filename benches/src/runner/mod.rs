//! Runs workloads on runtimes: interleaved repetitions, isolated samples, statistics.
//!
//! For each workload, every repetition runs each runtime once, in an order shuffled afresh
//! for each repetition (seeded by [`RunConfig::seed`], so a run's order can be replayed):
//! no runtime is always first after a workload switch, or always right after the same
//! neighbour, whose leftovers (sockets in `TIME_WAIT`, a warm allocator) it would inherit.
//! Each sample runs on a fresh thread with a freshly built runtime (see `isolate.rs`): a
//! runtime that panics, hangs or fails to build marks its cell as failed and is skipped
//! for the rest of that workload, and the suite goes on. Where the sample's threads run
//! and how many workers they get is the workload's [`Placement`].
//!
//! With a time budget (`--quick` sets one), each workload the budget can shorten gets an
//! equal share of what is left of it; once [`MIN_REPETITIONS`] are done, such a workload
//! stops early when another repetition would overrun its share. Workloads capped at
//! [`MIN_REPETITIONS`] or fewer (the fixed-window I/O workloads) cannot be shortened: they
//! take no share, and their time simply comes out of what is left. On a quiet machine every
//! repetition fits; on a busy one the run still ends in time, with fewer repetitions (the
//! report says how many).

mod isolate;
mod panic_log;
mod placement;
mod random;
mod stats;
mod warnings;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) use panic_log::payload_message;
pub use placement::Placement;
pub(crate) use random::SplitMix64;
pub use stats::{RatioInterval, Stats, BOOTSTRAP_RESAMPLES, CONFIDENCE_PERCENT};
pub(crate) use warnings::warn;

use crate::cpu;
use crate::runtimes::RuntimeKind;
use crate::workloads::{ExtraMetric, Sample, Unit, Workload};

/// How the suite runs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Repetitions per workload and runtime (a workload may cap it).
    pub repetitions: usize,
    /// The runtimes to run, in column order.
    pub runtimes: Vec<RuntimeKind>,
    /// Worker threads of the multi-threaded runtimes.
    pub workers: usize,
    /// How long one sample may take before its cell is marked as failed.
    pub timeout: Duration,
    /// How long the whole suite should take at most, if limited (see the module docs).
    pub budget: Option<Duration>,
    /// Seeds the runtime order of every repetition (see the module docs).
    pub seed: u64,
}

/// Repetitions a workload always gets, whatever the budget says.
pub const MIN_REPETITIONS: usize = 3;

/// What happened to one runtime on one workload.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every repetition produced a sample.
    Measured,
    /// The workload does not apply to this runtime (e.g. monoio has no remote spawn).
    NotApplicable,
    /// A sample failed (panic, timeout, build error); the message says which.
    Failed(String),
}

/// One cell of the result table: a workload on a runtime.
#[derive(Debug, Clone)]
pub struct CellResult {
    /// The runtime.
    pub runtime: RuntimeKind,
    /// Whether it was measured.
    pub outcome: Outcome,
    /// One value per repetition, in the workload's unit.
    pub samples: Vec<f64>,
    /// Side figures by name, one value per repetition.
    pub extras: Vec<(&'static str, Vec<f64>)>,
    /// Things that went wrong without invalidating the samples.
    pub warnings: Vec<String>,
}

impl CellResult {
    fn new(runtime: RuntimeKind, applies: bool) -> Self {
        CellResult {
            runtime,
            outcome: if applies {
                Outcome::Measured
            } else {
                Outcome::NotApplicable
            },
            samples: Vec::new(),
            extras: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn record(&mut self, sample: Sample) {
        self.samples.push(sample.value);
        for (name, value) in sample.extras {
            match self.extras.iter_mut().find(|(n, _)| *n == name) {
                Some((_, values)) => values.push(value),
                None => self.extras.push((name, vec![value])),
            }
        }
    }

    /// Median, min and max of the samples, if the cell was measured.
    pub fn stats(&self) -> Option<Stats> {
        match self.outcome {
            Outcome::Measured => Stats::of(&self.samples),
            _ => None,
        }
    }

    /// The median, if the cell was measured.
    pub fn median(&self) -> Option<f64> {
        self.stats().map(|s| s.median)
    }
}

/// One workload's results on every configured runtime.
#[derive(Debug, Clone)]
pub struct WorkloadResult {
    /// The workload's name.
    pub name: &'static str,
    /// What it measures, with sizes.
    pub description: String,
    /// The unit of every sample.
    pub unit: Unit,
    /// Whether smaller is better.
    pub lower_is_better: bool,
    /// Timed iterations averaged into each sample.
    pub iterations: usize,
    /// Whether the report shows the multi-threaded speed-up ([`Workload::shows_speed_up`]).
    pub shows_speed_up: bool,
    /// The speed-up ringloop should reach ([`Workload::speed_up_target`]).
    pub speed_up_target: Option<f64>,
    /// The side figures the report shows ([`Workload::extra_metrics`]).
    pub extra_metrics: &'static [ExtraMetric],
    /// The side figures of the primitives table ([`Workload::primitive_families`]).
    pub primitive_families: &'static [ExtraMetric],
    /// Whether the TCP load generator shared the machine ([`Workload::uses_load_generator`]).
    pub uses_load_generator: bool,
    /// Repetitions run (fewer than asked if the time budget ran short).
    pub repetitions: usize,
    /// Where the server ran, and with how many workers.
    pub placement: Placement,
    /// One cell per configured runtime, in column order.
    pub cells: Vec<CellResult>,
}

impl WorkloadResult {
    /// The cell of `kind`, if that runtime was configured.
    pub fn cell(&self, kind: RuntimeKind) -> Option<&CellResult> {
        self.cells.iter().find(|c| c.runtime == kind)
    }

    /// The median of `kind`, if measured.
    pub fn median(&self, kind: RuntimeKind) -> Option<f64> {
        self.cell(kind).and_then(CellResult::median)
    }

    /// The samples of side figure `name` on `kind`, if measured.
    pub fn extra_samples(&self, kind: RuntimeKind, name: &str) -> Option<&[f64]> {
        let cell = self.cell(kind).filter(|c| c.outcome == Outcome::Measured)?;
        let (_, values) = cell.extras.iter().find(|(n, _)| *n == name)?;
        Some(values)
    }

    /// The median of side figure `name` on `kind`, if measured.
    pub fn extra_median(&self, kind: RuntimeKind, name: &str) -> Option<f64> {
        Stats::of(self.extra_samples(kind, name)?).map(|s| s.median)
    }

    /// `median(numerator) / median(denominator)`, if both were measured.
    pub fn ratio(&self, numerator: RuntimeKind, denominator: RuntimeKind) -> Option<f64> {
        let (n, d) = (self.median(numerator)?, self.median(denominator)?);
        (d != 0.0).then(|| n / d)
    }

    /// [`WorkloadResult::ratio`] with its bootstrap confidence interval ([`RatioInterval`]),
    /// if both were measured.
    pub fn ratio_interval(
        &self,
        numerator: RuntimeKind,
        denominator: RuntimeKind,
    ) -> Option<RatioInterval> {
        let samples = |kind| {
            let cell = self.cell(kind)?;
            (cell.outcome == Outcome::Measured).then_some(cell.samples.as_slice())
        };
        RatioInterval::of(samples(numerator)?, samples(denominator)?)
    }
}

/// One finished sample, as reported to the progress callback of [`run_suite`].
#[derive(Debug)]
pub struct SampleEvent<'a> {
    /// The workload's name.
    pub workload: &'a str,
    /// The repetition, from 0.
    pub repetition: usize,
    /// The runtime.
    pub runtime: RuntimeKind,
    /// The sample, or why there is none.
    pub result: &'a Result<Sample, String>,
}

/// Runs `workloads` as configured; `on_sample` hears about every sample as it ends.
///
/// Calibrates the CPU spin first, so the calibration is not inside any sample.
pub fn run_suite(
    workloads: &[Arc<dyn Workload>],
    config: &RunConfig,
    on_sample: &mut dyn FnMut(&SampleEvent<'_>),
) -> Vec<WorkloadResult> {
    panic_log::install();
    let start = Instant::now();
    cpu::calibrate();
    let mut results = Vec::with_capacity(workloads.len());
    for (i, workload) in workloads.iter().enumerate() {
        let share = config.budget.map(|budget| {
            budget_share(
                budget.saturating_sub(start.elapsed()),
                &workloads[i..],
                config,
            )
        });
        results.push(run_workload(workload, config, share, on_sample));
    }
    results
}

/// The share of `left` for the first of the `remaining` workloads: an equal part among
/// those the budget can shorten (that want more than [`MIN_REPETITIONS`]).
fn budget_share(left: Duration, remaining: &[Arc<dyn Workload>], config: &RunConfig) -> Duration {
    let shortenable = remaining
        .iter()
        .filter(|w| wanted_repetitions(w.as_ref(), config) > MIN_REPETITIONS)
        .count();
    left / shortenable.max(1) as u32
}

/// The repetitions `workload` asks for under `config` (its cap, if lower).
fn wanted_repetitions(workload: &dyn Workload, config: &RunConfig) -> usize {
    workload
        .max_repetitions()
        .map_or(config.repetitions, |cap| cap.min(config.repetitions))
        .max(1)
}

fn run_workload(
    workload: &Arc<dyn Workload>,
    config: &RunConfig,
    share: Option<Duration>,
    on_sample: &mut dyn FnMut(&SampleEvent<'_>),
) -> WorkloadResult {
    let start = Instant::now();
    let wanted = wanted_repetitions(workload.as_ref(), config);
    // First: whether a runtime applies may depend on the server's worker count.
    let placement = Placement::of(workload.as_ref(), config.workers);
    let mut cells: Vec<CellResult> = config
        .runtimes
        .iter()
        .map(|&kind| CellResult::new(kind, workload.applies_to(kind, placement.workers)))
        .collect();
    let mut repetitions = 0;
    let mut order: Vec<usize> = (0..cells.len()).collect();
    for rep in 0..wanted {
        if let Some(share) = share.filter(|_| rep >= MIN_REPETITIONS) {
            let spent = start.elapsed();
            if spent + spent / rep as u32 > share {
                break;
            }
        }
        repetitions += 1;
        random::SplitMix64::new(random::mix(&[
            config.seed,
            random::seed_of(workload.name()),
            rep as u64,
        ]))
        .shuffle(&mut order);
        for &index in &order {
            let cell = &mut cells[index];
            if cell.outcome != Outcome::Measured {
                continue;
            }
            let run = isolate::run_sample(workload, cell.runtime, &placement, config.timeout);
            on_sample(&SampleEvent {
                workload: workload.name(),
                repetition: rep,
                runtime: cell.runtime,
                result: &run.result,
            });
            for warning in run.warnings {
                if !cell.warnings.contains(&warning) {
                    cell.warnings.push(warning);
                }
            }
            match run.result {
                Ok(sample) => cell.record(sample),
                Err(error) => cell.outcome = Outcome::Failed(error),
            }
        }
    }
    WorkloadResult {
        name: workload.name(),
        description: workload.description(),
        unit: workload.unit(),
        lower_is_better: workload.lower_is_better(),
        iterations: workload.iterations().max(1),
        shows_speed_up: workload.shows_speed_up(),
        speed_up_target: workload.speed_up_target(),
        extra_metrics: workload.extra_metrics(),
        primitive_families: workload.primitive_families(),
        uses_load_generator: workload.uses_load_generator(),
        repetitions,
        placement,
        cells,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtimes::AnyRuntime;
    use crate::workloads::Phase;

    /// Measures 1.0 on tokio-current, panics on tokio-multi, hangs on monoio.
    #[derive(Debug)]
    struct Misbehaving;

    impl Workload for Misbehaving {
        fn name(&self) -> &'static str {
            "misbehaving"
        }

        fn description(&self) -> String {
            "fails in two ways".to_owned()
        }

        fn run(&self, _rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
            // Sample threads are named after their runtime (see `isolate.rs`).
            match std::thread::current().name() {
                Some("bench-tokio-multi") => panic!("deliberate"),
                Some("bench-monoio") => loop {
                    std::thread::park();
                },
                _ => Ok(Sample::new(1.0)),
            }
        }
    }

    /// A workload that only describes itself, with a repetition cap.
    #[derive(Debug)]
    struct Capped(Option<usize>);

    impl Workload for Capped {
        fn name(&self) -> &'static str {
            "capped"
        }

        fn description(&self) -> String {
            String::new()
        }

        fn max_repetitions(&self) -> Option<usize> {
            self.0
        }

        fn run(&self, _rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
            Ok(Sample::new(1.0))
        }
    }

    #[test]
    fn only_shortenable_workloads_share_the_budget() {
        let config = RunConfig {
            repetitions: 5,
            runtimes: vec![RuntimeKind::TokioCurrent],
            workers: 2,
            timeout: Duration::from_secs(1),
            budget: Some(Duration::from_secs(60)),
            seed: 1,
        };
        let w = |cap| -> Arc<dyn Workload> { Arc::new(Capped(cap)) };
        let left = Duration::from_secs(60);
        // Two uncapped, one capped at the minimum, one below it: two shares.
        let remaining = [w(None), w(Some(MIN_REPETITIONS)), w(Some(2)), w(None)];
        assert_eq!(budget_share(left, &remaining, &config), left / 2);
        // A cap above the minimum can still be cut.
        let remaining = [w(Some(MIN_REPETITIONS + 1)), w(None), w(None)];
        assert_eq!(budget_share(left, &remaining, &config), left / 3);
        // With 3 repetitions asked, nothing can be cut: the whole rest.
        let config = RunConfig {
            repetitions: MIN_REPETITIONS,
            ..config
        };
        assert_eq!(budget_share(left, &[w(None), w(None)], &config), left);
    }

    #[test]
    fn ratios_of_medians_with_intervals() {
        let cell = |runtime, samples: &[f64]| CellResult {
            samples: samples.to_vec(),
            ..CellResult::new(runtime, true)
        };
        let result = WorkloadResult {
            name: "w",
            description: String::new(),
            unit: crate::workloads::Unit::Millis,
            lower_is_better: true,
            iterations: 1,
            shows_speed_up: true,
            speed_up_target: None,
            extra_metrics: &[],
            primitive_families: &[],
            uses_load_generator: false,
            repetitions: 3,
            placement: Placement {
                workers: 2,
                server_cpus: None,
                client_cpu: None,
            },
            cells: vec![
                cell(RuntimeKind::TokioMulti, &[100.0, 190.0, 200.0]),
                cell(RuntimeKind::TokioCurrent, &[200.0, 210.0, 220.0]),
            ],
        };
        let (multi, current) = (RuntimeKind::TokioMulti, RuntimeKind::TokioCurrent);
        assert_eq!(result.ratio(current, multi), Some(210.0 / 190.0));
        let interval = result.ratio_interval(current, multi).unwrap();
        assert_eq!(interval.ratio, 210.0 / 190.0);
        // Resampling 3 samples a side: the extremes are 200/200 and 220/100.
        assert!(interval.low >= 1.0 && interval.high <= 2.2, "{interval:?}");
        assert!(result
            .ratio_interval(current, RuntimeKind::Monoio)
            .is_none());
        assert_eq!(result.ratio(current, RuntimeKind::Monoio), None);
    }

    #[test]
    fn failures_are_contained_to_their_cell() {
        let config = RunConfig {
            repetitions: 3,
            runtimes: vec![
                RuntimeKind::TokioMulti,
                RuntimeKind::TokioCurrent,
                RuntimeKind::Monoio,
            ],
            workers: 2,
            timeout: Duration::from_millis(300),
            budget: None,
            seed: 7,
        };
        let workloads: Vec<Arc<dyn Workload>> = vec![Arc::new(Misbehaving)];
        let mut events = 0;
        let results = run_suite(&workloads, &config, &mut |_| events += 1);
        let result = &results[0];
        assert_eq!(result.repetitions, 3);
        let current = result.cell(RuntimeKind::TokioCurrent).unwrap();
        assert_eq!(current.outcome, Outcome::Measured);
        assert_eq!(current.samples, [1.0, 1.0, 1.0]);
        let Outcome::Failed(panic) = &result.cell(RuntimeKind::TokioMulti).unwrap().outcome else {
            panic!("the panicking cell should have failed");
        };
        assert!(panic.contains("deliberate"), "{panic}");
        let Outcome::Failed(hang) = &result.cell(RuntimeKind::Monoio).unwrap().outcome else {
            panic!("the hanging cell should have failed");
        };
        assert!(hang.contains("timed out"), "{hang}");
        // Each failed cell is tried once, the measured one every repetition.
        assert_eq!(events, 3 + 1 + 1);
        assert_eq!(
            result.ratio(RuntimeKind::TokioMulti, RuntimeKind::TokioCurrent),
            None
        );
    }
}
