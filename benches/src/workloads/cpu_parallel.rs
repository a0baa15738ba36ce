//! cpu_parallel: many tasks of calibrated CPU work, to show the multi-threaded speed-up.
//!
//! Each task burns about `task_micros` of CPU with [`crate::burn_micros`] (calibrated once
//! per process, so every runtime does the same work). With `W` workers the ideal time is
//! `tasks * task_micros / W`; single-threaded runtimes give the baseline. The warm-up runs
//! a tenth of the tasks.

use std::sync::Arc;

use super::{thousands, time_block_on, Phase, Sample, Scale, Workload};
use crate::cpu::burn_micros;
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct CpuParallel {
    tasks: usize,
    task_micros: u64,
}

impl CpuParallel {
    pub(crate) fn new(_scale: Scale) -> Self {
        CpuParallel {
            tasks: 2_000,
            task_micros: 100,
        }
    }
}

impl Workload for CpuParallel {
    fn name(&self) -> &'static str {
        "cpu_parallel"
    }

    fn description(&self) -> String {
        format!(
            "{} tasks x ~{} us of calibrated CPU work, spawned from one task",
            thousands(self.tasks),
            self.task_micros
        )
    }

    fn shows_speed_up(&self) -> bool {
        true
    }

    fn speed_up_target(&self) -> Option<f64> {
        Some(1.8)
    }

    fn run(&self, rt: &mut AnyRuntime, phase: Phase) -> Result<Sample, String> {
        let tasks = match phase {
            Phase::WarmUp => self.tasks / 10,
            Phase::Measure => self.tasks,
        };
        Ok(rt.visit(Job {
            tasks,
            task_micros: self.task_micros,
        }))
    }
}

struct Job {
    tasks: usize,
    task_micros: u64,
}

impl Visit for Job {
    type Output = Sample;

    fn visit<R: Rt>(self, rt: &mut R) -> Sample {
        let Job { tasks, task_micros } = self;
        time_block_on(rt, async move {
            let latch = Arc::new(Latch::new(tasks));
            let spawner_latch = latch.clone();
            R::spawn(async move {
                for _ in 0..tasks {
                    let latch = spawner_latch.clone();
                    R::spawn(async move {
                        burn_micros(task_micros);
                        latch.count_down();
                    });
                }
            });
            latch.wait().await;
        })
    }
}
