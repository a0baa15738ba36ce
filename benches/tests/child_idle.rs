//! The server child end to end: `idle_connections` on every runtime, through the real
//! `ringloop-bench` binary as the child.
//!
//! Checks that the child accepts every connection, that every connection's first read is
//! pending before and after the window (the workload fails otherwise), that the child stops
//! without a timer once its input ends, and that a runtime known to sleep when idle (tokio)
//! reads as idle: the measurement itself is sound. ringloop's figure is not asserted here;
//! the suite reports it.

use ringloop_bench::{all_workloads, set_child_exe, Phase, RuntimeKind, Scale, Workload};

fn idle_connections() -> std::sync::Arc<dyn Workload> {
    all_workloads(Scale::Quick)
        .into_iter()
        .find(|w| w.name() == "idle_connections")
        .expect("idle_connections is in the suite")
}

#[test]
fn idle_connections_runs_on_every_runtime() {
    set_child_exe(env!("CARGO_BIN_EXE_ringloop-bench"));
    let workload = idle_connections();
    for kind in RuntimeKind::ALL {
        if !workload.applies_to(kind, 2) {
            continue;
        }
        let mut rt = kind.build(2).expect("runtime builds");
        let sample = workload
            .run(&mut rt, Phase::Measure)
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(sample.value.is_finite() && sample.value >= 0.0, "{kind}");
        for extra in workload.extra_metrics() {
            assert!(
                sample.extras.iter().any(|(name, _)| *name == extra.name),
                "{kind}: no {}",
                extra.name
            );
        }
        if matches!(kind, RuntimeKind::TokioMulti | RuntimeKind::TokioCurrent) {
            // tokio blocks in epoll_wait with no timeout: nothing should run at all.
            assert!(
                sample.value < 5.0,
                "{kind} idle at {:.2}% CPU",
                sample.value
            );
        }
    }
}
