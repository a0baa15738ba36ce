//! The report: a markdown table, a JSON document and SVG plots.
//!
//! [`write_report`] writes `report.md`, `report.json` and `plots/*.svg` into the output
//! directory (see [`output_dir`]), and the JSON again wherever `--json` asked.

mod format;
mod json;
mod location;
mod machine;
mod markdown;
mod svg;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use location::output_dir;
pub use machine::Machine;
pub use markdown::{render_markdown, render_summary};

use crate::runner::WorkloadResult;
use crate::runtimes::RuntimeKind;

/// Everything about a run that is not a measurement.
#[derive(Debug, Clone)]
pub struct ReportMeta {
    /// The command line, as a user would retype it.
    pub command: String,
    /// `"quick"` or `"full"`.
    pub mode: &'static str,
    /// Repetitions requested per workload.
    pub repetitions: usize,
    /// The time budget that may have cut repetitions short, in seconds.
    pub budget_secs: Option<u64>,
    /// Worker threads of the multi-threaded runtimes.
    pub workers: usize,
    /// The runtimes run, in column order.
    pub runtimes: Vec<RuntimeKind>,
    /// The machine.
    pub machine: Machine,
    /// When the run started, in seconds since the Unix epoch.
    pub started_unix: u64,
    /// How long the whole run took.
    pub duration_secs: f64,
    /// [`crate::parallel_capacity`] of `workers` threads before and after the run.
    pub parallel_capacity: (f64, f64),
    /// The calibrated spin rate used by the CPU workloads.
    pub spin_iterations_per_micro: f64,
    /// The commit of the workspace, if git could tell.
    pub git_commit: Option<String>,
    /// The global allocator the bench was built with ([`crate::allocator_name`]).
    pub allocator: &'static str,
    /// The seed of the runtime order ([`crate::runner::RunConfig::seed`]).
    pub seed: u64,
}

/// Writes every report file; returns the paths written.
pub fn write_report(
    results: &[WorkloadResult],
    meta: &ReportMeta,
    dir: &Path,
    extra_json: Option<&Path>,
) -> io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let mut written = Vec::new();

    let md = dir.join("report.md");
    fs::write(&md, render_markdown(results, meta))?;
    written.push(md);

    let json = json::render(results, meta);
    let json_path = dir.join("report.json");
    fs::write(&json_path, &json)?;
    written.push(json_path);
    if let Some(path) = extra_json {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent)?;
        }
        fs::write(path, &json)?;
        written.push(path.to_path_buf());
    }

    let plots = dir.join("plots");
    fs::create_dir_all(&plots)?;
    written.extend(svg::write_plots(results, &plots)?);
    Ok(written)
}
