//! The markdown report (`report.md`), whose tables also read well in a terminal.

use std::fmt::Write;

use super::format;
use super::ReportMeta;
use crate::runner::{
    CellResult, Outcome, RatioInterval, WorkloadResult, BOOTSTRAP_RESAMPLES, CONFIDENCE_PERCENT,
};
use crate::runtimes::RuntimeKind;
use crate::workloads::ExtraMetric;

/// The ratio columns: (header, numerator, denominator).
const RATIOS: [(&str, RuntimeKind, RuntimeKind); 5] = [
    (
        "ringloop-multi / tokio-multi",
        RuntimeKind::RingloopMulti,
        RuntimeKind::TokioMulti,
    ),
    (
        "ringloop-multi / monoio-reuseport",
        RuntimeKind::RingloopMulti,
        RuntimeKind::MonoioReuseport,
    ),
    (
        "ringloop-single / tokio-current",
        RuntimeKind::RingloopSingle,
        RuntimeKind::TokioCurrent,
    ),
    (
        "ringloop-single / monoio",
        RuntimeKind::RingloopSingle,
        RuntimeKind::Monoio,
    ),
    (
        "ringloop-single / monoio-tuned",
        RuntimeKind::RingloopSingle,
        RuntimeKind::MonoioTuned,
    ),
];

/// The speed-up rows: (label, single-threaded kind, multi-threaded kind).
const SPEED_UPS: [(&str, RuntimeKind, RuntimeKind); 2] = [
    (
        "ringloop-single / ringloop-multi",
        RuntimeKind::RingloopSingle,
        RuntimeKind::RingloopMulti,
    ),
    (
        "tokio-current / tokio-multi",
        RuntimeKind::TokioCurrent,
        RuntimeKind::TokioMulti,
    ),
];

/// Below this fraction of `workers` CPUs of parallel capacity, the report warns.
const CAPACITY_WARNING: f64 = 0.9;

/// The whole `report.md`.
pub fn render_markdown(results: &[WorkloadResult], meta: &ReportMeta) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# ringloop benchmark report\n");
    out.push_str(&header(meta));
    let _ = writeln!(out, "\n## Results\n");
    out.push_str(&render_summary(results, meta));
    let _ = writeln!(out, "\n## Workloads\n");
    for r in results {
        let _ = writeln!(
            out,
            "- `{}`: {} ({} per sample, {} repetitions; {}).",
            r.name,
            r.description,
            plural(r.iterations, "run"),
            r.repetitions,
            if r.lower_is_better {
                "lower is better"
            } else {
                "higher is better"
            }
        );
    }
    let _ = writeln!(out, "\n## Spread\n");
    out.push_str(&spread_table(results));
    out
}

/// The claims, the results table, the speed-up table and any failures: what the binary
/// prints.
pub fn render_summary(results: &[WorkloadResult], meta: &ReportMeta) -> String {
    let mut out = claims(results, meta);
    out.push_str(&results_table(results, meta));
    let _ = writeln!(
        out,
        "\nCells: median ±half the min-max range over the repetitions. Ratios divide \
         medians (ringloop / the other): where lower is better, below 1.00x ringloop is \
         ahead; where higher is better (msg/s), above 1.00x. In brackets, the ratio's \
         {CONFIDENCE_PERCENT}% confidence interval (percentile bootstrap, \
         {BOOTSTRAP_RESAMPLES} resamples of each side's repetitions); **tie**: the interval \
         spans 1.00x, so the run cannot tell the two apart. n/a: the workload does not \
         apply (monoio cannot spawn from outside its thread; monoio-reuseport serves only \
         the in-process echo rows whose server has 2 workers or more); error: see below."
    );
    if let Some(note) = load_generator_note(results, meta) {
        let _ = writeln!(out, "\n{note}");
    }
    let extras = extras_tables(results, meta);
    if !extras.is_empty() {
        let _ = writeln!(out, "\nExtra metrics (medians):\n");
        out.push_str(&extras);
        let _ = writeln!(out, "\nWhat each extra metric is:\n");
        out.push_str(&extras_legend(results));
    }
    let primitives = primitives_table(results, meta);
    if !primitives.is_empty() {
        let _ = writeln!(
            out,
            "\nPrimitives on one runtime (the sync rows above run `ringloop::sync` on every \
             runtime; here each family on each, medians in ms, and the first family's time \
             over each other's with its {CONFIDENCE_PERCENT}% interval: below 1.00x the \
             first is faster):\n"
        );
        out.push_str(&primitives);
    }
    let speed_ups = speed_up_table(results, meta);
    if !speed_ups.is_empty() {
        let _ = writeln!(
            out,
            "\nMulti-threaded speed-up ({} workers): single-threaded time / multi-threaded \
             time, from the medians, with {CONFIDENCE_PERCENT}% intervals:\n",
            meta.workers
        );
        out.push_str(&speed_ups);
    }
    let problems = problems(results);
    if !problems.is_empty() {
        let _ = writeln!(out, "\nFailures and warnings:\n");
        out.push_str(&problems);
    }
    out
}

fn header(meta: &ReportMeta) -> String {
    let m = &meta.machine;
    let mut out = String::new();
    let budget = meta
        .budget_secs
        .map(|b| format!(", fewer if a {b} s budget runs short"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "Generated {} by `{}` ({} mode: {} interleaved repetitions per workload{budget}, \
         the runtimes in a shuffled order in each, seed {} (`--seed {}` replays the order); \
         took {:.0} s).\n",
        format::utc(meta.started_unix),
        meta.command,
        meta.mode,
        meta.repetitions,
        meta.seed,
        meta.seed,
        meta.duration_secs
    );
    let _ = writeln!(
        out,
        "- Machine: {}, {} logical CPUs, {} GiB RAM, Linux {}; load average at start: {}.",
        m.cpu_model,
        m.logical_cpus,
        m.memory_gib(),
        m.kernel,
        m.load_average
    );
    let multi: Vec<_> = meta
        .runtimes
        .iter()
        .filter(|k| k.is_multi_threaded())
        .map(|k| format!("`{k}`"))
        .collect();
    let per_core: Vec<_> = meta
        .runtimes
        .iter()
        .filter(|k| k.is_thread_per_core())
        .map(|k| format!("`{k}`"))
        .collect();
    let single: Vec<_> = meta
        .runtimes
        .iter()
        .filter(|k| !k.is_multi_threaded() && !k.is_thread_per_core())
        .map(|k| format!("`{k}`"))
        .collect();
    if !multi.is_empty() {
        let _ = writeln!(
            out,
            "- Workers: {} use {} worker threads, except where a row's set-up says otherwise \
             (the TCP rows; see below the results).",
            multi.join(" and "),
            meta.workers
        );
    }
    if !per_core.is_empty() {
        let _ = writeln!(
            out,
            "- Thread per core: {} runs one tuned monoio runtime per worker, each on its own \
             thread with its own listener on the server's port (`SO_REUSEPORT`: the kernel \
             spreads the connections); only on the in-process echo rows whose server has 2 \
             workers or more (the row's set-up says how many), n/a elsewhere.",
            per_core.join(", ")
        );
    }
    if !single.is_empty() {
        let _ = writeln!(
            out,
            "- Single-threaded: {} run every task on the `block_on` thread.",
            single.join(", ")
        );
    }
    let (before, after) = meta.parallel_capacity;
    let _ = writeln!(
        out,
        "- Parallel capacity (CPUs' worth that {w} spinning threads got): {before:.2} at the \
         start, {after:.2} at the end.{warn}",
        w = meta.workers,
        warn = if before.min(after) < CAPACITY_WARNING * meta.workers as f64 {
            " **The machine was busy for at least part of the run: treat the \
             multi-threaded figures and speed-ups with care.**"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "- Allocator: {} (all runtimes).", meta.allocator);
    let _ = writeln!(
        out,
        "- CPU work calibrated at {:.0} spin iterations per microsecond.",
        meta.spin_iterations_per_micro
    );
    if let Some(commit) = &meta.git_commit {
        let _ = writeln!(out, "- Workspace commit: `{commit}`.");
    }
    out
}

/// What the report says about the TCP workloads' load generator and the server's CPUs, if
/// any such workload ran.
fn load_generator_note(results: &[WorkloadResult], meta: &ReportMeta) -> Option<String> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for r in results.iter().filter(|r| r.uses_load_generator) {
        let set_up = r.placement.describe();
        let name = format!("`{}`", r.name);
        match groups.iter_mut().find(|(s, _)| *s == set_up) {
            Some((_, names)) => names.push(name),
            None => groups.push((set_up, vec![name])),
        }
    }
    if groups.is_empty() {
        return None;
    }
    let placements: Vec<String> = groups
        .iter()
        .map(|(set_up, names)| format!("{}: {set_up}", names.join(", ")))
        .collect();
    let pinned = match crate::os::client_cpu_override() {
        Some(cpu) => format!(
            " The client's CPU ({cpu}) was set by `RINGLOOP_BENCH_CLIENT_CPU` \
             (`benches/scripts/pin-server.sh`): not the suite's default set-up."
        ),
        None => String::new(),
    };
    Some(format!(
        "Load generator: one client thread of plain epoll code (mio), the same for every \
         server, pinned to one CPU, over loopback. The server runs on the CPUs the client \
         leaves free, and the multi-threaded runtimes get one worker per such CPU, except in \
         the rows marked `_oversubscribed`, where the server has every CPU of the machine's \
         {} and the suite's {} workers, so its workers and the client contend for CPUs. Set-up \
         per row: {}.{pinned}",
        meta.machine.logical_cpus,
        meta.workers,
        placements.join("; "),
    ))
}

/// Per comparison: where ringloop is ahead, where behind, and where the run cannot tell
/// (the ratio's interval spans 1.00x), each ratio with its interval.
fn claims(results: &[WorkloadResult], meta: &ReportMeta) -> String {
    let mut out = String::new();
    for (label, a, b) in RATIOS {
        if !meta.runtimes.contains(&a) || !meta.runtimes.contains(&b) {
            continue;
        }
        let (mut ahead, mut behind, mut ties) = (Vec::new(), Vec::new(), Vec::new());
        for r in results {
            let Some(i) = r.ratio_interval(a, b) else {
                continue;
            };
            let item = format!("`{}` {}", r.name, format::ratio_interval(&i));
            let ringloop_ahead = (i.high < 1.0) == r.lower_is_better;
            match () {
                _ if i.is_tie() => ties.push(item),
                _ if ringloop_ahead => ahead.push(item),
                _ => behind.push(item),
            }
        }
        if ahead.is_empty() && behind.is_empty() && ties.is_empty() {
            continue;
        }
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        let _ = writeln!(
            out,
            "- **{label}**: ringloop ahead on {} ({}); behind on {} ({}); tie on {} ({}).",
            ahead.len(),
            list(&ahead),
            behind.len(),
            list(&behind),
            ties.len(),
            list(&ties),
        );
    }
    if !out.is_empty() {
        out.insert_str(
            0,
            &format!(
                "Claims ({CONFIDENCE_PERCENT}% intervals; a tie is a ratio whose interval \
                 spans 1.00x):\n\n"
            ),
        );
        out.push('\n');
    }
    out
}

fn results_table(results: &[WorkloadResult], meta: &ReportMeta) -> String {
    let mut head = vec![
        "workload".to_owned(),
        "unit".to_owned(),
        "better".to_owned(),
    ];
    head.extend(meta.runtimes.iter().map(|k| k.name().to_owned()));
    let ratios: Vec<_> = RATIOS
        .iter()
        .filter(|(_, a, b)| meta.runtimes.contains(a) && meta.runtimes.contains(b))
        .collect();
    head.extend(ratios.iter().map(|(h, _, _)| (*h).to_owned()));
    let rows = results
        .iter()
        .map(|r| {
            let mut row = vec![
                r.name.to_owned(),
                r.unit.symbol().to_owned(),
                direction(r).to_owned(),
            ];
            row.extend(r.cells.iter().map(cell_text));
            row.extend(ratios.iter().map(|(_, a, b)| {
                r.ratio_interval(*a, *b)
                    .map_or_else(|| "-".to_owned(), |i| format::ratio_interval(&i))
            }));
            row
        })
        .collect();
    let mut align = vec![false, false, false];
    align.resize(head.len(), true);
    table(&head, rows, &align)
}

fn direction(r: &WorkloadResult) -> &'static str {
    if r.lower_is_better {
        "lower"
    } else {
        "higher"
    }
}

/// One table per workload that declares side figures: a row per figure, a column per
/// runtime, each cell the median over the repetitions.
fn extras_tables(results: &[WorkloadResult], meta: &ReportMeta) -> String {
    let mut head = vec![
        "workload".to_owned(),
        "metric".to_owned(),
        "unit".to_owned(),
    ];
    head.extend(meta.runtimes.iter().map(|k| k.name().to_owned()));
    let mut rows = Vec::new();
    for r in results {
        for extra in r.extra_metrics {
            let cells: Vec<String> = meta
                .runtimes
                .iter()
                .map(|&k| {
                    r.extra_median(k, extra.name)
                        .filter(|v| v.is_finite())
                        .map_or_else(|| "-".to_owned(), format::value)
                })
                .collect();
            if cells.iter().all(|c| c == "-") {
                continue;
            }
            let mut row = vec![
                r.name.to_owned(),
                extra.name.to_owned(),
                extra.unit.to_owned(),
            ];
            row.extend(cells);
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut align = vec![false, false, false];
    align.resize(head.len(), true);
    table(&head, rows, &align)
}

/// One row per sync workload and runtime: each primitive family's median, and the first
/// family's time over each other family's, with its interval.
fn primitives_table(results: &[WorkloadResult], meta: &ReportMeta) -> String {
    let families: Vec<&ExtraMetric> = {
        let mut all: Vec<&ExtraMetric> = Vec::new();
        for f in results.iter().flat_map(|r| r.primitive_families) {
            if !all.iter().any(|a| a.name == f.name) {
                all.push(f);
            }
        }
        all
    };
    let Some((first, others)) = families.split_first() else {
        return String::new();
    };
    let mut head = vec!["workload".to_owned(), "runtime".to_owned()];
    head.extend(families.iter().map(|f| f.about.to_owned()));
    head.extend(
        others
            .iter()
            .map(|f| format!("{} / {}", first.about, f.about)),
    );
    let mut rows = Vec::new();
    for r in results.iter().filter(|r| !r.primitive_families.is_empty()) {
        for &kind in &meta.runtimes {
            let median = |name| r.extra_median(kind, name).filter(|v| v.is_finite());
            if median(first.name).is_none() {
                continue;
            }
            let mut row = vec![r.name.to_owned(), kind.name().to_owned()];
            row.extend(
                families
                    .iter()
                    .map(|f| median(f.name).map_or_else(|| "-".to_owned(), format::value)),
            );
            row.extend(others.iter().map(|f| {
                let ratio = r
                    .extra_samples(kind, first.name)
                    .zip(r.extra_samples(kind, f.name))
                    .and_then(|(a, b)| RatioInterval::of(a, b));
                ratio.map_or_else(|| "-".to_owned(), |i| format::ratio_interval(&i))
            }));
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut align = vec![false, false];
    align.resize(head.len(), true);
    table(&head, rows, &align)
}

/// One line per extra metric name: what it measures and includes.
fn extras_legend(results: &[WorkloadResult]) -> String {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for extra in results.iter().flat_map(|r| r.extra_metrics) {
        if !seen
            .iter()
            .any(|(name, about)| *name == extra.name && *about == extra.about)
        {
            seen.push((extra.name, extra.about));
        }
    }
    let mut out = String::new();
    for (name, about) in seen {
        let _ = writeln!(out, "- `{name}`: {about}.");
    }
    out
}

fn cell_text(cell: &CellResult) -> String {
    match (&cell.outcome, cell.stats()) {
        (Outcome::Measured, Some(s)) => {
            format!("{} ±{:.0}%", format::value(s.median), s.spread_percent())
        }
        (Outcome::NotApplicable, _) => "n/a".to_owned(),
        _ => "error".to_owned(),
    }
}

fn speed_up_table(results: &[WorkloadResult], meta: &ReportMeta) -> String {
    let rows: Vec<Vec<String>> = results
        .iter()
        .filter(|r| r.shows_speed_up)
        .map(|r| {
            let mut row = vec![r.name.to_owned()];
            for (_, single, multi) in SPEED_UPS {
                row.push(
                    r.ratio_interval(single, multi)
                        .map_or_else(|| "-".to_owned(), |i| format::ratio_interval(&i)),
                );
            }
            row.push(format!("{}.00x", meta.workers));
            row.push(
                r.speed_up_target
                    .map_or_else(|| "-".to_owned(), |t| verdict(r, t)),
            );
            row
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut head = vec!["workload".to_owned()];
    for (label, _, _) in SPEED_UPS {
        head.push(label.to_owned());
    }
    head.push("ideal".to_owned());
    head.push("ringloop target".to_owned());
    table(&head, rows, &[false, true, true, true, false])
}

/// Whether ringloop reached `target`, judged on the speed-up's confidence interval, with
/// tokio's speed-up in the same run as the control: met if the interval lies above the
/// target, missed if it lies below while tokio's reached it; otherwise the run cannot say
/// (the interval spans the target, or tokio fell short too: the machine did not give the
/// run its cores).
fn verdict(r: &WorkloadResult, target: f64) -> String {
    let ringloop = r.ratio_interval(SPEED_UPS[0].1, SPEED_UPS[0].2);
    let tokio = r.ratio_interval(SPEED_UPS[1].1, SPEED_UPS[1].2);
    match (ringloop, tokio) {
        (None, _) => format!(">= {target}x: not measured"),
        (Some(s), _) if s.low >= target => format!(">= {target}x: met"),
        (Some(s), _) if s.high >= target => {
            format!(">= {target}x: not shown (the interval spans it)")
        }
        (Some(_), Some(k)) if k.ratio >= target => {
            format!(
                ">= {target}x: MISSED (tokio reached {})",
                format::ratio(k.ratio)
            )
        }
        (Some(_), _) => format!(">= {target}x: not judged (tokio fell short too: busy machine)"),
    }
}

fn spread_table(results: &[WorkloadResult]) -> String {
    let head: Vec<String> = ["workload", "runtime", "median", "min", "max", "samples"]
        .map(str::to_owned)
        .into();
    let mut rows = Vec::new();
    for r in results {
        for cell in &r.cells {
            let Some(s) = cell.stats() else { continue };
            rows.push(vec![
                r.name.to_owned(),
                cell.runtime.name().to_owned(),
                format!("{} {}", format::value(s.median), r.unit.symbol()),
                format::value(s.min),
                format::value(s.max),
                s.count.to_string(),
            ]);
        }
    }
    table(&head, rows, &[false, false, true, true, true, true])
}

fn problems(results: &[WorkloadResult]) -> String {
    let mut out = String::new();
    for r in results {
        for cell in &r.cells {
            if let Outcome::Failed(error) = &cell.outcome {
                let _ = writeln!(out, "- `{}` on `{}`: {}", r.name, cell.runtime, error);
            }
            for warning in &cell.warnings {
                let _ = writeln!(
                    out,
                    "- `{}` on `{}` (warning): {}",
                    r.name, cell.runtime, warning
                );
            }
        }
    }
    out
}

/// A markdown table padded so its columns line up in plain text too.
fn table(head: &[String], rows: Vec<Vec<String>>, right_align: &[bool]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([head[i].chars().count(), 3])
            .max()
            .unwrap_or(3)
    };
    let widths: Vec<usize> = (0..head.len()).map(width).collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if right_align.get(i).copied().unwrap_or(false) {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let mut out = line(head);
    let rule: Vec<String> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if right_align.get(i).copied().unwrap_or(false) {
                format!("{}:", "-".repeat(w + 1))
            } else {
                "-".repeat(w + 2)
            }
        })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("mean of {n} {what}s")
    }
}
