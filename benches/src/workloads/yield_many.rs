//! yield_many: many tasks each yield to the scheduler many times.
//!
//! Measures the cost of a reschedule (wake-by-ref of the running task). tokio and
//! ringloop use their own `yield_now`; monoio, which has none, uses [`crate::YieldNow`].

use std::sync::Arc;

use super::{thousands, time_block_on, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct YieldMany {
    tasks: usize,
    yields: usize,
}

impl YieldMany {
    pub(crate) fn new(_scale: Scale) -> Self {
        YieldMany {
            tasks: 200,
            yields: 1_000,
        }
    }
}

impl Workload for YieldMany {
    fn name(&self) -> &'static str {
        "yield_many"
    }

    fn description(&self) -> String {
        format!(
            "{} tasks x {} `yield_now()` each",
            thousands(self.tasks),
            thousands(self.yields)
        )
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        Ok(rt.visit(Job {
            tasks: self.tasks,
            yields: self.yields,
        }))
    }
}

struct Job {
    tasks: usize,
    yields: usize,
}

impl Visit for Job {
    type Output = Sample;

    fn visit<R: Rt>(self, rt: &mut R) -> Sample {
        let Job { tasks, yields } = self;
        time_block_on(rt, async move {
            let latch = Arc::new(Latch::new(tasks));
            let spawner_latch = latch.clone();
            R::spawn(async move {
                for _ in 0..tasks {
                    let latch = spawner_latch.clone();
                    R::spawn(async move {
                        for _ in 0..yields {
                            R::yield_now().await;
                        }
                        latch.count_down();
                    });
                }
            });
            latch.wait().await;
        })
    }
}
