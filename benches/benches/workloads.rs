//! The suite's timed workloads under criterion: `cargo bench -p ringloop-bench`.
//!
//! One benchmark group per workload, one benchmark per runtime
//! (`spawn_many/tokio-multi`, ...), so criterion's filter selects either
//! (`cargo bench -p ringloop-bench -- ping_pong`). The workload code is the same as the
//! `ringloop-bench` binary's. `idle_task_memory` is not a time and needs the binary's
//! counting allocator, so it is left out here. A runtime that fails to build or to run
//! the warm-up is skipped with a message rather than aborting the whole run.

use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ringloop_bench::{all_workloads, calibrate, Phase, RuntimeKind, Scale, Unit, DEFAULT_WORKERS};

fn workloads(c: &mut Criterion) {
    calibrate();
    for workload in all_workloads(Scale::Full) {
        if workload.unit() != Unit::Millis {
            continue;
        }
        let mut group = c.benchmark_group(workload.name());
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        for kind in RuntimeKind::ALL {
            if !workload.applies_to(kind, DEFAULT_WORKERS) {
                continue;
            }
            let ready = panic::catch_unwind(AssertUnwindSafe(|| {
                let mut rt = kind.build(DEFAULT_WORKERS).map_err(|e| e.to_string())?;
                workload.run(&mut rt, Phase::WarmUp)?;
                Ok::<_, String>(rt)
            }));
            let mut rt = match ready {
                Ok(Ok(rt)) => rt,
                Ok(Err(error)) => {
                    eprintln!("skipping {}/{kind}: {error}", workload.name());
                    continue;
                }
                Err(_) => {
                    eprintln!("skipping {}/{kind}: it panicked", workload.name());
                    continue;
                }
            };
            group.bench_function(kind.name(), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            let sample = workload
                                .run(&mut rt, Phase::Measure)
                                .expect("the warm-up of this workload succeeded");
                            Duration::from_secs_f64(sample.value / 1e3)
                        })
                        .sum()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, workloads);
criterion_main!(benches);
