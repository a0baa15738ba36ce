//! spawn_many_remote: the thread that owns the runtime spawns many tasks from outside it,
//! then awaits every join handle.
//!
//! Measures the remote (injection) spawn path and join handles. monoio cannot spawn
//! from outside its thread's runtime context, so it does not take part.
//!
//! A spawn from outside wakes a parked worker. With its I/O driver enabled (as a server
//! has it), a parked tokio worker sleeps in `epoll_wait`, and each such wake is an eventfd
//! write and an `epoll_wait` return: on this workload that is most of tokio's time.
//! `spawn_many_remote_tokio_no_io` runs tokio with timers only (a parked worker sleeps on a
//! condition variable; a wake is a futex call), beside it; ringloop cannot leave out its
//! ring and runs as in `spawn_many_remote`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{thousands, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, RemoteSpawn, RuntimeKind, VisitRemote};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct SpawnManyRemote {
    tasks: usize,
    tokio_without_io: bool,
}

impl SpawnManyRemote {
    /// Every runtime as a server has it.
    pub(crate) fn new(_scale: Scale) -> Self {
        SpawnManyRemote {
            tasks: 100_000,
            tokio_without_io: false,
        }
    }

    /// tokio without its I/O driver.
    pub(crate) fn tokio_without_io(scale: Scale) -> Self {
        SpawnManyRemote {
            tokio_without_io: true,
            ..SpawnManyRemote::new(scale)
        }
    }
}

impl Workload for SpawnManyRemote {
    fn name(&self) -> &'static str {
        if self.tokio_without_io {
            "spawn_many_remote_tokio_no_io"
        } else {
            "spawn_many_remote"
        }
    }

    fn description(&self) -> String {
        format!(
            "{} tasks spawned from outside the runtime (its owning thread), then each \
             awaited; {}",
            thousands(self.tasks),
            if self.tokio_without_io {
                "tokio with timers only, no I/O driver (a remote spawn's wake is a futex \
                 call, not an eventfd write)"
            } else {
                "tokio with its I/O driver, as a server has it (a remote spawn that wakes a \
                 parked worker writes its eventfd: most of tokio's time here)"
            }
        )
    }

    fn tokio_without_io(&self) -> bool {
        self.tokio_without_io
    }

    fn applies_to(&self, kind: RuntimeKind, _workers: usize) -> bool {
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
