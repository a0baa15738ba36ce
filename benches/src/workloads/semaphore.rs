//! semaphore: many tasks share a few permits.
//!
//! 64 tasks, spawned from `block_on`, each acquire one of 8 permits 1,000 times, yield once
//! to the scheduler while holding it (the runtime's `yield_now`), and release it. At most 8
//! tasks hold a permit at a time and the others queue, on every runtime, so each release
//! wakes a waiter. `ringloop::sync::Semaphore` against `tokio::sync::Semaphore` (see
//! `sync_family.rs`).

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use super::sync_family::{
    millis_since, run_families, Family, FAMILIES, TWO_FAMILIES, TWO_FAMILY_METRICS,
};
use super::{thousands, ExtraMetric, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

const PERMITS: usize = 8;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct SemaphoreWorkload {
    tasks: usize,
    rounds: usize,
}

impl SemaphoreWorkload {
    pub(crate) fn new(_scale: Scale) -> Self {
        SemaphoreWorkload {
            tasks: 64,
            rounds: 1_000,
        }
    }
}

impl Workload for SemaphoreWorkload {
    fn name(&self) -> &'static str {
        "semaphore"
    }

    fn description(&self) -> String {
        format!(
            "{} tasks x {} acquire, yield, release of a semaphore with {PERMITS} permits \
             ({FAMILIES})",
            self.tasks,
            thousands(self.rounds)
        )
    }

    fn primitive_families(&self) -> &'static [ExtraMetric] {
        TWO_FAMILY_METRICS
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        run_families(rt, TWO_FAMILIES, |rt, family| {
            let (tasks, rounds) = (self.tasks, self.rounds);
            match family {
                Family::Ringloop => rt.visit(Job::<ringloop::sync::Semaphore>::new(tasks, rounds)),
                Family::Tokio => rt.visit(Job::<tokio::sync::Semaphore>::new(tasks, rounds)),
                Family::AsyncChannel => Err("not a semaphore".to_owned()),
            }
        })
    }
}

/// An async counting semaphore.
trait Permits: Send + Sync + 'static {
    fn new(permits: usize) -> Self;
    /// Acquires a permit, yields once to `R`'s scheduler, releases the permit.
    fn hold_across_yield<R: Rt>(&self) -> impl Future<Output = ()> + Send + '_;
    fn available(&self) -> usize;
}

impl Permits for ringloop::sync::Semaphore {
    fn new(permits: usize) -> Self {
        ringloop::sync::Semaphore::new(permits)
    }

    async fn hold_across_yield<R: Rt>(&self) {
        let _permit = self.acquire().await;
        R::yield_now().await;
    }

    fn available(&self) -> usize {
        self.available_permits()
    }
}

impl Permits for tokio::sync::Semaphore {
    fn new(permits: usize) -> Self {
        tokio::sync::Semaphore::new(permits)
    }

    async fn hold_across_yield<R: Rt>(&self) {
        let _permit = self.acquire().await.expect("never closed");
        R::yield_now().await;
    }

    fn available(&self) -> usize {
        self.available_permits()
    }
}

struct Job<S> {
    tasks: usize,
    rounds: usize,
    semaphore: PhantomData<S>,
}

impl<S> Job<S> {
    fn new(tasks: usize, rounds: usize) -> Self {
        Job {
            tasks,
            rounds,
            semaphore: PhantomData,
        }
    }
}

impl<S: Permits> Visit for Job<S> {
    type Output = Result<f64, String>;

    fn visit<R: Rt>(self, rt: &mut R) -> Result<f64, String> {
        let semaphore = Arc::new(S::new(PERMITS));
        let latch = Arc::new(Latch::new(self.tasks));
        let rounds = self.rounds;
        let start = Instant::now();
        rt.block_on(async {
            for _ in 0..self.tasks {
                let (semaphore, latch) = (semaphore.clone(), latch.clone());
                R::spawn(async move {
                    for _ in 0..rounds {
                        semaphore.hold_across_yield::<R>().await;
                    }
                    latch.count_down();
                });
            }
            latch.wait().await;
        });
        let elapsed = millis_since(start);
        if semaphore.available() != PERMITS {
            return Err(format!(
                "{} of {PERMITS} permits left at the end",
                semaphore.available()
            ));
        }
        Ok(elapsed)
    }
}
