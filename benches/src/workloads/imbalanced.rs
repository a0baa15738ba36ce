//! imbalanced: a few producer tasks spawn nearly all the work, so stealing must spread it.
//!
//! One task spawns `producers` producers; each producer spawns `tasks_per_producer`
//! tasks of about `task_micros` calibrated CPU work. All the work is born on whichever
//! worker runs the producers; only work stealing gets the other workers busy. The
//! warm-up runs a tenth of the tasks.

use std::sync::Arc;

use super::{thousands, time_block_on, Phase, Sample, Scale, Workload};
use crate::cpu::burn_micros;
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Imbalanced {
    producers: usize,
    tasks_per_producer: usize,
    task_micros: u64,
}

impl Imbalanced {
    pub(crate) fn new(_scale: Scale) -> Self {
        Imbalanced {
            producers: 4,
            tasks_per_producer: 500,
            task_micros: 20,
        }
    }
}

impl Workload for Imbalanced {
    fn name(&self) -> &'static str {
        "imbalanced"
    }

    fn description(&self) -> String {
        format!(
            "{} producers each spawn {} tasks x ~{} us of CPU work; stealing must spread them",
            self.producers,
            thousands(self.tasks_per_producer),
            self.task_micros
        )
    }

    fn shows_speed_up(&self) -> bool {
        true
    }

    fn run(&self, rt: &mut AnyRuntime, phase: Phase) -> Result<Sample, String> {
        let tasks_per_producer = match phase {
            Phase::WarmUp => self.tasks_per_producer / 10,
            Phase::Measure => self.tasks_per_producer,
        };
        Ok(rt.visit(Job {
            producers: self.producers,
            tasks_per_producer,
            task_micros: self.task_micros,
        }))
    }
}

struct Job {
    producers: usize,
    tasks_per_producer: usize,
    task_micros: u64,
}

impl Visit for Job {
    type Output = Sample;

    fn visit<R: Rt>(self, rt: &mut R) -> Sample {
        let Job {
            producers,
            tasks_per_producer,
            task_micros,
        } = self;
        time_block_on(rt, async move {
            let latch = Arc::new(Latch::new(producers * tasks_per_producer));
            let root_latch = latch.clone();
            R::spawn(async move {
                for _ in 0..producers {
                    let producer_latch = root_latch.clone();
                    R::spawn(async move {
                        for _ in 0..tasks_per_producer {
                            let latch = producer_latch.clone();
                            R::spawn(async move {
                                burn_micros(task_micros);
                                latch.count_down();
                            });
                        }
                    });
                }
            });
            latch.wait().await;
        })
    }
}
