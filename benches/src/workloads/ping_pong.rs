//! ping_pong: message round trips between freshly spawned task pairs.
//!
//! Shaped like tokio's `rt_multi_threaded` ping_pong benchmark: a task spawns `rounds`
//! tasks; each spawns a partner and the two exchange a message both ways over our
//! [`oneshot`] channels; a [`Latch`] signals when every round is done. Measures
//! spawn plus cross-task wake-up latency. One iteration is short, so a sample averages
//! several.

use std::sync::Arc;

use super::{thousands, time_block_on, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::{oneshot, Latch};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct PingPong {
    rounds: usize,
    iterations: usize,
}

impl PingPong {
    pub(crate) fn new(scale: Scale) -> Self {
        let iterations = match scale {
            Scale::Quick => 10,
            Scale::Full => 20,
        };
        PingPong {
            rounds: 1_000,
            iterations,
        }
    }
}

impl Workload for PingPong {
    fn name(&self) -> &'static str {
        "ping_pong"
    }

    fn description(&self) -> String {
        format!(
            "{} rounds: spawn a pair, one message each way over oneshots",
            thousands(self.rounds)
        )
    }

    fn iterations(&self) -> usize {
        self.iterations
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        Ok(rt.visit(Job {
            rounds: self.rounds,
        }))
    }
}

struct Job {
    rounds: usize,
}

impl Visit for Job {
    type Output = Sample;

    fn visit<R: Rt>(self, rt: &mut R) -> Sample {
        let rounds = self.rounds;
        time_block_on(rt, async move {
            let latch = Arc::new(Latch::new(rounds));
            let spawner_latch = latch.clone();
            R::spawn(async move {
                for _ in 0..rounds {
                    let latch = spawner_latch.clone();
                    R::spawn(async move {
                        let (ping_tx, ping_rx) = oneshot::channel::<()>();
                        let (pong_tx, pong_rx) = oneshot::channel::<()>();
                        R::spawn(async move {
                            ping_rx.await.expect("ping sender dropped");
                            pong_tx.send(()).expect("pong receiver dropped");
                        });
                        ping_tx.send(()).expect("ping receiver dropped");
                        pong_rx.await.expect("pong sender dropped");
                        latch.count_down();
                    });
                }
            });
            latch.wait().await;
        })
    }
}
