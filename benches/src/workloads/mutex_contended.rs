//! mutex_contended: many tasks increment one counter under an async mutex.
//!
//! 64 tasks, spawned from `block_on`, each lock the mutex 1,000 times and increment the
//! counter it guards. On the multi-threaded runtimes the tasks run on both workers and
//! contend; on the single-threaded ones the lock is never held across an await, so this
//! measures the uncontended path. `ringloop::sync::Mutex<u64>` against
//! `tokio::sync::Mutex<u64>` (see `sync_family.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use super::sync_family::{
    millis_since, run_families, Family, FAMILIES, TWO_FAMILIES, TWO_FAMILY_METRICS,
};
use super::{thousands, ExtraMetric, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct MutexContended {
    tasks: usize,
    increments: usize,
}

impl MutexContended {
    pub(crate) fn new(_scale: Scale) -> Self {
        MutexContended {
            tasks: 64,
            increments: 1_000,
        }
    }
}

impl Workload for MutexContended {
    fn name(&self) -> &'static str {
        "mutex_contended"
    }

    fn description(&self) -> String {
        format!(
            "{} tasks x {} increments of one counter under an async mutex ({FAMILIES})",
            self.tasks,
            thousands(self.increments)
        )
    }

    fn primitive_families(&self) -> &'static [ExtraMetric] {
        TWO_FAMILY_METRICS
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        run_families(rt, TWO_FAMILIES, |rt, family| {
            let (tasks, increments) = (self.tasks, self.increments);
            match family {
                Family::Ringloop => {
                    rt.visit(Job::<ringloop::sync::Mutex<u64>>::new(tasks, increments))
                }
                Family::Tokio => rt.visit(Job::<tokio::sync::Mutex<u64>>::new(tasks, increments)),
                Family::AsyncChannel => Err("not a mutex".to_owned()),
            }
        })
    }
}

/// An async mutex around a counter.
trait Counter: Send + Sync + 'static {
    fn new() -> Self;
    fn increment(&self) -> impl Future<Output = ()> + Send + '_;
    fn value(&self) -> u64;
}

impl Counter for ringloop::sync::Mutex<u64> {
    fn new() -> Self {
        ringloop::sync::Mutex::new(0)
    }

    async fn increment(&self) {
        *self.lock().await += 1;
    }

    fn value(&self) -> u64 {
        *self.try_lock().expect("unlocked at the end")
    }
}

impl Counter for tokio::sync::Mutex<u64> {
    fn new() -> Self {
        tokio::sync::Mutex::new(0)
    }

    async fn increment(&self) {
        *self.lock().await += 1;
    }

    fn value(&self) -> u64 {
        *self.try_lock().expect("unlocked at the end")
    }
}

struct Job<M> {
    tasks: usize,
    increments: usize,
    mutex: std::marker::PhantomData<M>,
}

impl<M> Job<M> {
    fn new(tasks: usize, increments: usize) -> Self {
        Job {
            tasks,
            increments,
            mutex: std::marker::PhantomData,
        }
    }
}

impl<M: Counter> Visit for Job<M> {
    type Output = Result<f64, String>;

    fn visit<R: Rt>(self, rt: &mut R) -> Result<f64, String> {
        let counter = Arc::new(M::new());
        let latch = Arc::new(Latch::new(self.tasks));
        let increments = self.increments;
        let start = Instant::now();
        rt.block_on(async {
            for _ in 0..self.tasks {
                let (counter, latch) = (counter.clone(), latch.clone());
                R::spawn(async move {
                    for _ in 0..increments {
                        counter.increment().await;
                    }
                    latch.count_down();
                });
            }
            latch.wait().await;
        });
        let elapsed = millis_since(start);
        let expected = (self.tasks * self.increments) as u64;
        match counter.value() {
            n if n == expected => Ok(elapsed),
            n => Err(format!("the counter reached {n}, expected {expected}")),
        }
    }
}
