//! chained_spawn: chains of tasks where each task spawns the next.
//!
//! Measures the spawn-then-exit pattern that favours a LIFO slot or a local queue: each
//! chain is sequential, so parallelism comes only from running chains side by side.

use std::sync::Arc;

use super::{thousands, time_block_on, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ChainedSpawn {
    chains: usize,
    depth: usize,
}

impl ChainedSpawn {
    pub(crate) fn new(_scale: Scale) -> Self {
        ChainedSpawn {
            chains: 100,
            depth: 1_000,
        }
    }
}

impl Workload for ChainedSpawn {
    fn name(&self) -> &'static str {
        "chained_spawn"
    }

    fn description(&self) -> String {
        format!(
            "{} chains x depth {}: each task spawns the next, the last counts down a latch",
            thousands(self.chains),
            thousands(self.depth)
        )
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        Ok(rt.visit(Job {
            chains: self.chains,
            depth: self.depth,
        }))
    }
}

struct Job {
    chains: usize,
    depth: usize,
}

/// Spawns the next link of a chain, or counts down once `remaining` links are done.
fn link<R: Rt>(latch: Arc<Latch>, remaining: usize) {
    if remaining == 0 {
        latch.count_down();
    } else {
        R::spawn(async move { link::<R>(latch, remaining - 1) });
    }
}

impl Visit for Job {
    type Output = Sample;

    fn visit<R: Rt>(self, rt: &mut R) -> Sample {
        let Job { chains, depth } = self;
        time_block_on(rt, async move {
            let latch = Arc::new(Latch::new(chains));
            let spawner_latch = latch.clone();
            R::spawn(async move {
                for _ in 0..chains {
                    link::<R>(spawner_latch.clone(), depth);
                }
            });
            latch.wait().await;
        })
    }
}
