//! `ringloop-bench`: runs the benchmark suite and writes the report.
//!
//! `cargo run --release -p ringloop-bench -- [--quick] [--json PATH] [FILTER]...`;
//! `--help` lists every option.

use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ringloop_bench::{
    all_workloads, output_dir, parallel_capacity, parse_args, render_summary, run_suite,
    write_report, CountingAlloc, Machine, Outcome, ReportMeta, RunConfig, SampleEvent, USAGE,
};

// Counts allocations for the `idle_task_memory` workload; a plain forward otherwise. The
// `jemalloc` and `mimalloc` features put that allocator underneath (the report says which).
#[cfg(all(feature = "jemalloc", feature = "mimalloc"))]
compile_error!("choose one of the features `jemalloc` and `mimalloc`");

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: CountingAlloc<tikv_jemallocator::Jemalloc> =
    CountingAlloc::new(tikv_jemallocator::Jemalloc);

#[cfg(all(feature = "mimalloc", not(feature = "jemalloc")))]
#[global_allocator]
static ALLOC: CountingAlloc<mimalloc::MiMalloc> = CountingAlloc::new(mimalloc::MiMalloc);

#[cfg(not(any(feature = "jemalloc", feature = "mimalloc")))]
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new(std::alloc::System);

fn main() -> ExitCode {
    // The I/O workloads start this binary again as their server process.
    if let Some(code) = ringloop_bench::serve_child_if_asked() {
        return code;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(args.clone()) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if options.help {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let workloads = options.select(all_workloads(options.scale()));
    if options.list {
        for w in &workloads {
            println!(
                "{:<18} {} [{}]",
                w.name(),
                w.description(),
                w.unit().symbol()
            );
        }
        return ExitCode::SUCCESS;
    }
    if workloads.is_empty() {
        eprintln!(
            "error: no workload matches {:?} (see --list)",
            options.filters
        );
        return ExitCode::from(2);
    }

    let config = RunConfig {
        repetitions: options.repetitions(),
        runtimes: options.runtimes.clone(),
        workers: options.workers,
        timeout: options.timeout,
        budget: options.budget(),
        seed: options.seed.unwrap_or_else(clock_seed),
    };
    let machine = Machine::detect();
    let started_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    eprintln!(
        "ringloop-bench: {} workloads x {} runtimes, {} repetitions ({} mode), {} workers; {}, {} CPUs",
        workloads.len(),
        config.runtimes.len(),
        config.repetitions,
        if options.quick { "quick" } else { "full" },
        config.workers,
        machine.cpu_model,
        machine.logical_cpus,
    );

    let start = Instant::now();
    ringloop_bench::calibrate();
    let capacity_before = parallel_capacity(config.workers);
    eprintln!(
        "parallel capacity at start: {capacity_before:.2} CPUs for {} spinning threads",
        config.workers
    );
    let mut progress = Progress::default();
    let results = run_suite(&workloads, &config, &mut |event| progress.sample(event));
    progress.finish();
    let capacity_after = parallel_capacity(config.workers);

    let meta = ReportMeta {
        command: command_line(&args),
        mode: if options.quick { "quick" } else { "full" },
        repetitions: config.repetitions,
        budget_secs: config.budget.map(|b| b.as_secs()),
        workers: config.workers,
        runtimes: config.runtimes.clone(),
        machine,
        started_unix,
        duration_secs: start.elapsed().as_secs_f64(),
        parallel_capacity: (capacity_before, capacity_after),
        spin_iterations_per_micro: ringloop_bench::iterations_per_micro(),
        git_commit: git_commit(),
        seed: config.seed,
        allocator: ringloop_bench::allocator_name(),
    };
    println!("\n{}", render_summary(&results, &meta));
    println!(
        "Parallel capacity for {} threads: {capacity_before:.2} CPUs at the start, \
         {capacity_after:.2} at the end (a busy machine shows less).\n",
        config.workers
    );

    let dir = output_dir(options.out_dir.as_deref());
    match write_report(&results, &meta, &dir, options.json.as_deref()) {
        Ok(paths) => {
            println!("Report written to {}:", dir.display());
            for path in paths {
                println!("  {}", path.display());
            }
        }
        Err(error) => {
            eprintln!(
                "error: could not write the report to {}: {error}",
                dir.display()
            );
            return ExitCode::FAILURE;
        }
    }

    let failed = results
        .iter()
        .flat_map(|r| &r.cells)
        .any(|c| matches!(c.outcome, Outcome::Failed(_)));
    if failed && options.strict {
        eprintln!("error: some samples failed (--strict)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Prints a line per workload and one per repetition as samples come in.
#[derive(Default)]
struct Progress {
    workload: Option<String>,
    rep: Option<usize>,
}

impl Progress {
    fn sample(&mut self, event: &SampleEvent<'_>) {
        let SampleEvent {
            workload: name,
            repetition: rep,
            runtime: kind,
            result,
        } = *event;
        if self.workload.as_deref() != Some(name) {
            self.finish();
            eprintln!("{name}");
            self.workload = Some(name.to_owned());
        }
        if self.rep != Some(rep) {
            self.finish();
            eprint!("  rep {:>2}:", rep + 1);
            self.rep = Some(rep);
        }
        match result {
            Ok(sample) => eprint!("  {kind} {:.3}", sample.value),
            Err(_) => eprint!("  {kind} error"),
        }
        let _ = std::io::stderr().flush();
    }

    /// Ends the current repetition's line.
    fn finish(&mut self) {
        if self.rep.take().is_some() {
            eprintln!();
        }
    }
}

/// The command as a user would retype it.
fn command_line(args: &[String]) -> String {
    let mut command = "cargo run --release -p ringloop-bench".to_owned();
    if !args.is_empty() {
        command.push_str(" -- ");
        command.push_str(&args.join(" "));
    }
    command
}

/// The workspace's current commit, if git is available.
fn git_commit() -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

/// A seed for the runtime order when `--seed` gave none: the clock's nanoseconds.
fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
