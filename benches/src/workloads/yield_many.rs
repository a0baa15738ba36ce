//! yield_many and yield_many_native: many tasks each yield to the scheduler many times.
//!
//! Measures the cost of a reschedule. `yield_many` uses the same plain yield on every
//! runtime ([`crate::YieldNow`]: wake the task, return `Pending` once), so every scheduler
//! does the same work. `yield_many_native` uses each runtime's own `yield_now`, which do
//! not: tokio's defers its wake until after the next poll of its I/O driver and timers,
//! ringloop's wakes at once (after whatever else is runnable), and monoio has none (it uses
//! the plain yield).

use std::sync::Arc;

use super::{thousands, time_block_on, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::{Latch, YieldNow};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct YieldMany {
    tasks: usize,
    yields: usize,
    native: bool,
}

impl YieldMany {
    /// The same plain yield on every runtime.
    pub(crate) fn new(_scale: Scale) -> Self {
        YieldMany {
            tasks: 200,
            yields: 1_000,
            native: false,
        }
    }

    /// Each runtime's own `yield_now`.
    pub(crate) fn native(scale: Scale) -> Self {
        YieldMany {
            native: true,
            ..YieldMany::new(scale)
        }
    }
}

impl Workload for YieldMany {
    fn name(&self) -> &'static str {
        if self.native {
            "yield_many_native"
        } else {
            "yield_many"
        }
    }

    fn description(&self) -> String {
        format!(
            "{} tasks x {} yields each, {}",
            thousands(self.tasks),
            thousands(self.yields),
            if self.native {
                "each runtime's own `yield_now()` (tokio's defers its wake past an I/O poll; \
                 monoio has none and uses the plain one)"
            } else {
                "the same plain yield on every runtime (wake, return `Pending` once)"
            }
        )
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        Ok(rt.visit(Job {
            tasks: self.tasks,
            yields: self.yields,
            native: self.native,
        }))
    }
}

struct Job {
    tasks: usize,
    yields: usize,
    native: bool,
}

impl Visit for Job {
    type Output = Sample;

    fn visit<R: Rt>(self, rt: &mut R) -> Sample {
        let Job {
            tasks,
            yields,
            native,
        } = self;
        time_block_on(rt, async move {
            let latch = Arc::new(Latch::new(tasks));
            let spawner_latch = latch.clone();
            R::spawn(async move {
                for _ in 0..tasks {
                    let latch = spawner_latch.clone();
                    R::spawn(async move {
                        for _ in 0..yields {
                            if native {
                                R::yield_now().await;
                            } else {
                                YieldNow::new().await;
                            }
                        }
                        latch.count_down();
                    });
                }
            });
            latch.wait().await;
        })
    }
}
