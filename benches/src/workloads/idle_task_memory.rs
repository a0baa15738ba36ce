//! idle_task_memory: heap bytes per task parked forever.
//!
//! One task spawns `tasks` tasks; each counts down a [`Latch`] on its first poll and then
//! parks on [`ParkForever`], which keeps its waker the way a task waiting on a socket or
//! a channel has its waker registered somewhere. (A future that drops its waker, like
//! `std::future::pending()`, is not idle but unreachable: monoio frees such a task at
//! once, tokio keeps it in its task list.) With the counting allocator on, the figure
//! is the bytes still live after every task has parked, divided by `tasks`; allocations
//! freed again, such as a queue's old buffer, do not count. The warm-up spawns the same
//! number first, so run-queue growth is already paid for and the figure is the steady
//! cost of one more idle task. Needs the binary's `#[global_allocator]`; elsewhere it
//! reports an error. Deterministic, so few repetitions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::{thousands, Phase, Sample, Scale, Unit, Workload};
use crate::alloc::measure_allocations;
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct IdleTaskMemory {
    tasks: usize,
}

impl IdleTaskMemory {
    pub(crate) fn new(_scale: Scale) -> Self {
        IdleTaskMemory { tasks: 10_000 }
    }
}

impl Workload for IdleTaskMemory {
    fn name(&self) -> &'static str {
        "idle_task_memory"
    }

    fn description(&self) -> String {
        format!(
            "live heap bytes per idle task, {} tasks parked forever holding their waker \
             (counting allocator)",
            thousands(self.tasks)
        )
    }

    fn unit(&self) -> Unit {
        Unit::BytesPerTask
    }

    fn max_repetitions(&self) -> Option<usize> {
        Some(3)
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        rt.visit(Job { tasks: self.tasks })
    }
}

/// Never completes; keeps the latest waker, as a registered I/O or channel wait would.
#[derive(Debug, Default)]
struct ParkForever {
    waker: Option<Waker>,
}

impl Future for ParkForever {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

struct Job {
    tasks: usize,
}

/// What each idle task runs: counts down, then parks forever holding its waker.
async fn idle_task(latch: Arc<Latch>) {
    latch.count_down();
    ParkForever::default().await;
}

impl Visit for Job {
    type Output = Result<Sample, String>;

    fn visit<R: Rt>(self, rt: &mut R) -> Result<Sample, String> {
        let tasks = self.tasks;
        let latch = Arc::new(Latch::new(tasks));
        let ((), delta) = measure_allocations(|| {
            rt.block_on(async {
                let spawner_latch = latch.clone();
                R::spawn(async move {
                    for _ in 0..tasks {
                        R::spawn(idle_task(spawner_latch.clone()));
                    }
                });
                latch.wait().await;
            })
        });
        let delta = delta.ok_or("the counting allocator is not installed")?;
        let per_task = |x: f64| x / tasks as f64;
        // The same future type the tasks hold, to tell the runtime's share from the future's.
        let future_bytes = std::mem::size_of_val(&idle_task(latch.clone())) as f64;
        let live = per_task(delta.live_bytes as f64);
        Ok(Sample {
            value: live,
            extras: vec![
                ("future_bytes", future_bytes),
                ("runtime_bytes_per_task", live - future_bytes),
                (
                    "allocated_bytes_per_task",
                    per_task(delta.allocated_bytes as f64),
                ),
                ("allocations_per_task", per_task(delta.allocations as f64)),
            ],
        })
    }
}
