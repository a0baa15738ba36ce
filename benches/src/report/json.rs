//! `report.json`: machine-readable results.
//!
//! Shape (schema 2):
//!
//! ```text
//! { "schema": 2, "generated_unix", "command", "mode", "repetitions", "budget_s", "workers",
//!   "seed", "allocator", "confidence_percent", "bootstrap_resamples",
//!   "runtimes": { "<runtime>": { "worker_threads", "multi_threaded", "thread_per_core" } },
//!   "machine": { ... },
//!   "parallel_capacity": { "threads", "at_start", "at_end" },
//!   "spin_iterations_per_us", "git_commit", "duration_s",
//!   "workloads": [ { "name", "description", "unit", "lower_is_better",
//!                    "iterations_per_sample", "repetitions", "ringloop_speed_up_target"?,
//!                    "extra_metrics"?: { "<name>": { "unit", "about" } },
//!                    "workers",                              // of the multi-threaded runtimes
//!                    "server_cpus"?: [..], "client_cpu"?,     // TCP workloads
//!                    "client_shares_cpus_with_server"?,       // TCP workloads
//!                    "<runtime>": median or null,            // one key per runtime
//!                    "ratios": { "ringloop-multi/tokio-multi":   // ratio of medians
//!                                  { "ratio", "low", "high", "tie" } or null, .. },
//!                    "results": { "<runtime>": { "status", "median", "min", "max",
//!                                                "samples", "extras", "error", "warnings" } } } ] }
//! ```
//!
//! `status` is `"ok"`, `"n/a"` or `"error"`; a runtime's median is `null` unless `"ok"`.
//! A ratio's `low`..`high` is its bootstrap confidence interval (`RatioInterval`); `tie`
//! says the interval spans 1.0.

use serde_json::{json, Map, Value};

use super::ReportMeta;
use crate::runner::{
    CellResult, Outcome, RatioInterval, Stats, WorkloadResult, BOOTSTRAP_RESAMPLES,
    CONFIDENCE_PERCENT,
};
use crate::runtimes::RuntimeKind;

/// The ratios recorded per workload: (key, numerator, denominator).
const RATIOS: [(&str, RuntimeKind, RuntimeKind); 6] = [
    (
        "ringloop-multi/tokio-multi",
        RuntimeKind::RingloopMulti,
        RuntimeKind::TokioMulti,
    ),
    (
        "ringloop-multi/monoio-reuseport",
        RuntimeKind::RingloopMulti,
        RuntimeKind::MonoioReuseport,
    ),
    (
        "ringloop-single/tokio-current",
        RuntimeKind::RingloopSingle,
        RuntimeKind::TokioCurrent,
    ),
    (
        "ringloop-single/monoio",
        RuntimeKind::RingloopSingle,
        RuntimeKind::Monoio,
    ),
    (
        "ringloop-single/monoio-tuned",
        RuntimeKind::RingloopSingle,
        RuntimeKind::MonoioTuned,
    ),
    (
        "ringloop-single/ringloop-multi",
        RuntimeKind::RingloopSingle,
        RuntimeKind::RingloopMulti,
    ),
];

/// The JSON document, pretty-printed.
pub(super) fn render(results: &[WorkloadResult], meta: &ReportMeta) -> String {
    let runtimes: Map<String, Value> = meta
        .runtimes
        .iter()
        .map(|k| {
            let info = json!({
                "worker_threads": k.task_threads(meta.workers),
                "multi_threaded": k.is_multi_threaded(),
                "thread_per_core": k.is_thread_per_core(),
            });
            (k.name().to_owned(), info)
        })
        .collect();
    let m = &meta.machine;
    let doc = json!({
        "schema": 2,
        "seed": meta.seed,
        "allocator": meta.allocator,
        "confidence_percent": CONFIDENCE_PERCENT,
        "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
        "generated_unix": meta.started_unix,
        "command": meta.command,
        "mode": meta.mode,
        "repetitions": meta.repetitions,
        "budget_s": meta.budget_secs,
        "workers": meta.workers,
        "runtimes": runtimes,
        "machine": {
            "cpu_model": m.cpu_model,
            "logical_cpus": m.logical_cpus,
            "kernel": m.kernel,
            "memory_bytes": m.memory_bytes,
            "load_average_at_start": m.load_average,
        },
        "parallel_capacity": {
            "threads": meta.workers,
            "at_start": meta.parallel_capacity.0,
            "at_end": meta.parallel_capacity.1,
        },
        "spin_iterations_per_us": meta.spin_iterations_per_micro,
        "git_commit": meta.git_commit,
        "duration_s": meta.duration_secs,
        "workloads": results.iter().map(workload).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON values always serialise");
    text.push('\n');
    text
}

fn workload(r: &WorkloadResult) -> Value {
    let mut obj = Map::new();
    obj.insert("name".into(), r.name.into());
    obj.insert("description".into(), r.description.clone().into());
    obj.insert("unit".into(), r.unit.symbol().into());
    obj.insert("lower_is_better".into(), r.lower_is_better.into());
    obj.insert("iterations_per_sample".into(), r.iterations.into());
    obj.insert("repetitions".into(), r.repetitions.into());
    if let Some(target) = r.speed_up_target {
        obj.insert("ringloop_speed_up_target".into(), target.into());
    }
    if !r.extra_metrics.is_empty() {
        let extras: Map<String, Value> = r
            .extra_metrics
            .iter()
            .map(|e| {
                let about = json!({ "unit": e.unit, "about": e.about });
                (e.name.to_owned(), about)
            })
            .collect();
        obj.insert("extra_metrics".into(), extras.into());
    }
    obj.insert("workers".into(), r.placement.workers.into());
    if r.uses_load_generator {
        if let Some(cpus) = &r.placement.server_cpus {
            obj.insert("server_cpus".into(), cpus.clone().into());
        }
        if let Some(cpu) = r.placement.client_cpu {
            obj.insert("client_cpu".into(), cpu.into());
        }
        let shares = r.placement.server_cpus.is_none();
        obj.insert("client_shares_cpus_with_server".into(), shares.into());
    }
    for kind in RuntimeKind::ALL {
        obj.insert(kind.name().into(), number(r.median(kind)));
    }
    let ratios: Map<String, Value> = RATIOS
        .iter()
        .map(|(key, a, b)| ((*key).to_owned(), interval(r.ratio_interval(*a, *b))))
        .collect();
    obj.insert("ratios".into(), ratios.into());
    let cells: Map<String, Value> = r
        .cells
        .iter()
        .map(|c| (c.runtime.name().to_owned(), cell(c)))
        .collect();
    obj.insert("results".into(), cells.into());
    obj.into()
}

fn cell(c: &CellResult) -> Value {
    let (status, error) = match &c.outcome {
        Outcome::Measured => ("ok", None),
        Outcome::NotApplicable => ("n/a", None),
        Outcome::Failed(e) => ("error", Some(e.clone())),
    };
    let stats = c.stats();
    let extras: Map<String, Value> = c
        .extras
        .iter()
        .map(|(name, values)| {
            let median = Stats::of(values).map(|s| s.median);
            ((*name).to_owned(), number(median))
        })
        .collect();
    json!({
        "status": status,
        "median": number(stats.map(|s| s.median)),
        "min": number(stats.map(|s| s.min)),
        "max": number(stats.map(|s| s.max)),
        "samples": c.samples,
        "extras": extras,
        "error": error,
        "warnings": c.warnings,
    })
}

/// A ratio with its interval, or `null`.
fn interval(r: Option<RatioInterval>) -> Value {
    match r.filter(|r| r.ratio.is_finite() && r.low.is_finite() && r.high.is_finite()) {
        Some(r) => json!({ "ratio": r.ratio, "low": r.low, "high": r.high, "tie": r.is_tie() }),
        None => Value::Null,
    }
}

/// A finite number, or `null` (JSON has no NaN).
fn number(v: Option<f64>) -> Value {
    v.filter(|v| v.is_finite()).map_or(Value::Null, Value::from)
}
