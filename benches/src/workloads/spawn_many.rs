//! spawn_many: a task spawns many trivial tasks and waits until all have run.
//!
//! Measures the local spawn path: allocation, queueing on the spawning worker, stealing
//! (multi-threaded runtimes) and completion. Each task counts down a shared [`Latch`];
//! the `block_on` future waits on it.

use std::sync::Arc;

use super::{thousands, time_block_on, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct SpawnMany {
    tasks: usize,
}

impl SpawnMany {
    pub(crate) fn new(_scale: Scale) -> Self {
        SpawnMany { tasks: 100_000 }
    }
}

impl Workload for SpawnMany {
    fn name(&self) -> &'static str {
        "spawn_many"
    }

    fn description(&self) -> String {
        format!(
            "{} tasks spawned from inside a task, each counting down a latch",
            thousands(self.tasks)
        )
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        Ok(rt.visit(Job { tasks: self.tasks }))
    }
}

struct Job {
    tasks: usize,
}

impl Visit for Job {
    type Output = Sample;

    fn visit<R: Rt>(self, rt: &mut R) -> Sample {
        let tasks = self.tasks;
        time_block_on(rt, async move {
            let latch = Arc::new(Latch::new(tasks));
            let spawner_latch = latch.clone();
            R::spawn(async move {
                for _ in 0..tasks {
                    let latch = spawner_latch.clone();
                    R::spawn(async move { latch.count_down() });
                }
            });
            latch.wait().await;
        })
    }
}
