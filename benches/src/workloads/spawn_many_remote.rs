//! spawn_many_remote: the thread that owns the runtime spawns many tasks from outside it,
//! then awaits every join handle.
//!
//! Measures the remote (injection) spawn path and join handles. monoio cannot spawn
//! from outside its thread's runtime context, so it does not take part.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{thousands, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, RemoteSpawn, RuntimeKind, VisitRemote};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct SpawnManyRemote {
    tasks: usize,
}

impl SpawnManyRemote {
    pub(crate) fn new(_scale: Scale) -> Self {
        SpawnManyRemote { tasks: 100_000 }
    }
}

impl Workload for SpawnManyRemote {
    fn name(&self) -> &'static str {
        "spawn_many_remote"
    }

    fn description(&self) -> String {
        format!(
            "{} tasks spawned from outside the runtime (its owning thread), then each awaited",
            thousands(self.tasks)
        )
    }

    fn applies_to(&self, kind: RuntimeKind) -> bool {
        kind.spawns_remotely()
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        rt.visit_remote(Job { tasks: self.tasks })
            .ok_or_else(|| "the runtime cannot spawn from outside".to_owned())
    }
}

struct Job {
    tasks: usize,
}

impl VisitRemote for Job {
    type Output = Sample;

    fn visit<R: RemoteSpawn>(self, rt: &mut R) -> Sample {
        let remaining = Arc::new(AtomicUsize::new(self.tasks));
        let start = Instant::now();
        let handles: Vec<R::Join> = (0..self.tasks)
            .map(|_| {
                let remaining = remaining.clone();
                rt.spawn_remote(async move {
                    remaining.fetch_sub(1, Ordering::Relaxed);
                })
            })
            .collect();
        rt.block_on(async move {
            for handle in handles {
                handle.await.expect("a spawned task failed");
            }
        });
        let elapsed = start.elapsed();
        assert_eq!(remaining.load(Ordering::Relaxed), 0, "a task did not run");
        Sample::new(elapsed.as_secs_f64() * 1e3)
    }
}
