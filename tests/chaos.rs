//! The chaos test: a seeded, randomized stress of the runtime's guarantees under abuse.
//!
//! Each seed makes a [`plan`]: a few TCP and Unix connections (accepted from listeners, or
//! `UnixStream::pair()`), each side writing a deterministic byte sequence and reading the
//! other's at once, plus tasks that only sleep, tasks that block their worker in
//! `std::thread::sleep` (so the other worker steals their queue and rescues their timers and
//! I/O), and a monkey that cancels tasks. Along the way, at random: reads, accepts, writes and
//! sleeps are dropped in flight (raced against short timeouts), ops are polled through wakers
//! that panic in `wake`, `wake_by_ref` or `Drop` ([`hostile`]), buffers panic when the
//! runtime drops them ([`poison_buf`]), sides panic, and every fourth seed drops the runtime
//! with all of it in flight. The chaos of an op fires only where the runtime, not the op's
//! own task, runs it ([`scope`]). Each seed runs on a single-threaded runtime and on a
//! multi-threaded one with two workers.
//!
//! After the runtime is dropped, the checks ([`checks`]):
//!
//! - no byte was lost, repeated or reordered on any stream (each read is checked as it
//!   arrives; a writer that dropped a write stops, and its reader must hold an exact prefix
//!   with every byte of the completed writes: see [`streams`] for the protocol);
//! - every connection was accepted exactly once, and the work finished (nothing stuck);
//! - the process has as many open descriptors as before the runtime was built;
//! - every buffer was dropped exactly once and never written after its drop;
//! - every task's join resolved (returned; cancelled only by the monkey or the shutdown;
//!   panicked only at its planned step or while cancelled), every task future was dropped
//!   once, and no task was left (`all_tasks()`);
//! - no panic other than ours, and no error logged by the runtime other than those reporting
//!   our panics, happened anywhere (a worker thread, the driver).
//!
//! # Running it
//!
//! ```text
//! cargo test --test chaos                       # the short run: seeds 0..8, both flavours
//! cargo test --test chaos -- --seeds 200        # seeds 0..200 on both flavours
//! cargo test --test chaos -- --soak 300         # random seeds for 300 s
//! cargo test --test chaos -- --seed 17 --flavor multi --repeat 20 -v   # replay one
//! cargo test --test chaos -- --seed 17 --without hostile,armed          # narrow it down
//! ```
//!
//! A failure prints its seed, its flavour, what broke, and the command that replays it. The
//! plan is deterministic, the interleaving is not: replay with `--repeat`. `--without NAME`
//! turns one kind of chaos off (see `plan::WITHOUT`), to find which one a failure needs.
//!
//! # Concurrent accepts
//!
//! Each listener has one to three accepting tasks, each with its share of the connections
//! (`--with concurrent_accepts` makes it two or three, `--without concurrent_accepts` one).
//! Several used to fail now and then on the two-worker flavour: an accept stayed armed in the
//! kernel beside a connection waiting in the listener's queue after another accept on the
//! listener was cancelled (the kernel wakes one exclusive accept poll per connection). A
//! listener now has one accept in the kernel at a time; `tests/tcp_accept_concurrent.rs`
//! reproduces the old failure alone.

#[macro_use]
#[allow(unused_macros)]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

#[path = "chaos/checks.rs"]
mod checks;
#[path = "chaos/hostile.rs"]
mod hostile;
#[path = "chaos/ops.rs"]
mod ops;
#[path = "chaos/plan.rs"]
mod plan;
#[path = "chaos/poison_buf.rs"]
mod poison_buf;
#[path = "chaos/rng.rs"]
mod rng;
#[path = "chaos/scenario.rs"]
mod scenario;
#[path = "chaos/scope.rs"]
mod scope;
#[path = "chaos/streams.rs"]
mod streams;
#[path = "chaos/world.rs"]
mod world;

use plan::{Flavor, Plan};
use poison_buf::BufPool;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::counting::Counters;
use world::World;

/// The seeds of the short run (seeds 3 and 7 shut the runtime down mid-flight).
const DEFAULT_SEEDS: std::ops::Range<u64> = 0..8;

/// Longer than a seed ever takes: then the process aborts, naming the seed.
const WATCHDOG: Duration = Duration::from_secs(90);

/// Dropping the runtime cancels every task and waits for every op, for at most its
/// shutdown timeout (5 s); nothing here should come near it.
const DROP_LIMIT: Duration = Duration::from_secs(3);

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chaos: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    install_panic_hook();
    install_logger();
    let start = Instant::now();
    let mut runs = 0;
    for (seed, flavor) in args.runs() {
        if args.soak.is_some_and(|limit| start.elapsed() > limit) {
            break;
        }
        for _ in 0..args.repeat {
            runs += 1;
            if let Err(failure) = run_seed(seed, flavor, &args) {
                eprintln!("{failure}");
                eprintln!("chaos: FAILED after {runs} runs in {:.1?}", start.elapsed());
                return ExitCode::FAILURE;
            }
        }
        if args.progress() && !args.verbose {
            eprint!(
                "\rchaos: {runs} runs, seed {seed} ({flavor:?}), {:.0?}   ",
                start.elapsed()
            );
        }
    }
    eprintln!("\nchaos: {runs} runs passed in {:.1?}", start.elapsed());
    ExitCode::SUCCESS
}

const USAGE: &str = "usage: chaos [--seeds N | --seed N | --soak SECS] [--from SEED] \
                     [--flavor single|multi] [--repeat N] [--without NAME,...] [--with NAME,...] \
                     [-v]";

/// The command line; see the module docs.
#[derive(Debug)]
struct Args {
    seeds: std::ops::Range<u64>,
    /// Random seeds until this much time has passed.
    soak: Option<Duration>,
    flavors: Vec<Flavor>,
    repeat: usize,
    verbose: bool,
    /// Kinds of chaos turned off (see `plan::WITHOUT`), and on (`plan::WITH`).
    without: Vec<String>,
    with: Vec<String>,
}

impl Args {
    /// `Ok(None)`: nothing to run (`--list`, or a test name filter that is not ours).
    fn parse(args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
        let mut parsed = Args {
            seeds: DEFAULT_SEEDS,
            soak: None,
            flavors: Flavor::ALL.to_vec(),
            repeat: 1,
            verbose: false,
            without: Vec::new(),
            with: Vec::new(),
        };
        let mut from = None;
        let mut args = args;
        while let Some(arg) = args.next() {
            let mut value = |name: &str| -> Result<u64, String> {
                let v = args.next().ok_or(format!("{name} needs a value"))?;
                v.parse().map_err(|e| format!("{name} {v}: {e}"))
            };
            match arg.as_str() {
                "--seeds" => parsed.seeds = 0..value("--seeds")?,
                "--seed" => {
                    let seed = value("--seed")?;
                    parsed.seeds = seed..seed + 1;
                }
                "--from" => from = Some(value("--from")?),
                "--soak" => parsed.soak = Some(Duration::from_secs(value("--soak")?)),
                "--repeat" => parsed.repeat = value("--repeat")? as usize,
                "--flavor" => {
                    let name = args.next().ok_or("--flavor needs a value")?;
                    let flavor = Flavor::parse(&name).ok_or(format!("no flavor {name}"))?;
                    parsed.flavors = vec![flavor];
                }
                "--without" => {
                    let names = args.next().ok_or("--without needs a value")?;
                    parsed.without.extend(names.split(',').map(str::to_owned));
                }
                "--with" => {
                    let names = args.next().ok_or("--with needs a value")?;
                    parsed.with.extend(names.split(',').map(str::to_owned));
                }
                "-v" | "--verbose" => parsed.verbose = true,
                "--list" => {
                    println!("chaos: test");
                    return Ok(None);
                }
                // What `cargo test -- ...` passes to every test binary, said in libtest's terms:
                // this binary is one test, named `chaos`, not ignored.
                "--ignored" => return Ok(None),
                "--skip" => {
                    let skip = args.next().unwrap_or_default();
                    if "chaos".contains(&skip) {
                        return Ok(None);
                    }
                }
                "--test-threads" | "--format" | "--color" | "--logfile" | "-Z" => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                filter if !"chaos".contains(filter) => return Ok(None),
                _ => {}
            }
        }
        if let Some(from) = from {
            parsed.seeds = from..from + (parsed.seeds.end - parsed.seeds.start);
        }
        if parsed.soak.is_some() {
            let random = rng::mix(wall_clock_nanos() ^ u64::from(std::process::id()));
            let start = from.unwrap_or(random % 1_000_000_000);
            eprintln!("chaos: soak from seed {start}");
            parsed.seeds = start..u64::MAX;
        }
        Ok(Some(parsed))
    }

    fn runs(&self) -> impl Iterator<Item = (u64, Flavor)> + '_ {
        self.seeds
            .clone()
            .flat_map(|seed| self.flavors.iter().map(move |&flavor| (seed, flavor)))
    }

    /// Per-seed progress: for the long runs only.
    fn progress(&self) -> bool {
        self.soak.is_some() || self.seeds.end - self.seeds.start > DEFAULT_SEEDS.end
    }
}

fn wall_clock_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Panics that are not ours (their message does not start with `chaos:`), anywhere.
static FOREIGN_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps our own panics quiet (there are hundreds), and records the others, which are also
/// printed as usual.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = support::panic_message(info.payload());
        if message.starts_with("chaos:") {
            return;
        }
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("<unnamed>");
        FOREIGN_PANICS
            .lock()
            .unwrap()
            .push(format!("thread {name}: {message} at {:?}", info.location()));
        default(info);
    }));
}

/// Counts the runtime's error logs, and keeps those that do not report one of our panics.
struct ChaosLogger {
    errors: AtomicUsize,
    foreign: Mutex<Vec<String>>,
}

static LOGGER: ChaosLogger = ChaosLogger {
    errors: AtomicUsize::new(0),
    foreign: Mutex::new(Vec::new()),
};

impl log::Log for ChaosLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Error
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        self.errors.fetch_add(1, Ordering::Relaxed);
        let message = record.args().to_string();
        if !message.contains("chaos:") {
            self.foreign.lock().unwrap().push(message);
        }
    }

    fn flush(&self) {}
}

fn install_logger() {
    log::set_logger(&LOGGER).expect("no other logger");
    log::set_max_level(log::LevelFilter::Error);
}

/// Runs one seed on one flavour, then makes every check; the error names the seed, what
/// broke and how to replay it.
fn run_seed(seed: u64, flavor: Flavor, args: &Args) -> Result<(), String> {
    let (plan, replay) = plan(seed, flavor, args)?;
    let _watchdog = support::Watchdog::start(
        Box::leak(format!("chaos seed {seed} ({flavor:?}); replay: {replay}").into_boxed_str()),
        WATCHDOG,
    );
    FOREIGN_PANICS.lock().unwrap().clear();
    LOGGER.foreign.lock().unwrap().clear();
    let errors_before = LOGGER.errors.load(Ordering::SeqCst);
    let started = Instant::now();
    let shutdown = plan.shutdown_after.is_some();
    let unix_path = io_support::socket_path("chaos");
    let _remove = io_support::RemoveOnDrop(unix_path.clone());
    let fds_before = io_support::open_fds();
    let pool = BufPool::default();
    let world = Arc::new(World::new(plan, pool.clone(), Counters::new(), unix_path));

    let rt = runtime(flavor);
    rt.block_on(scenario::scenario(world.clone()));
    let metrics = rt.metrics();
    world.dropping.store(true, Ordering::SeqCst);
    let dropping = Instant::now();
    drop(rt);
    let drop_took = dropping.elapsed();

    if drop_took > DROP_LIMIT {
        world.violation(format!("dropping the runtime took {drop_took:?}"));
    }
    let sides = checks::every_join_resolved(&world, shutdown);
    checks::futures_dropped_once(&world);
    checks::streams_intact(&world, &sides, shutdown);
    if !shutdown {
        checks::no_connection_lost(&world);
    }
    let buffers = pool.check_and_free();
    checks::buffers_dropped_once_and_untouched(&world, &buffers);
    descriptors_closed(&world, &fds_before);
    nothing_foreign(&world);

    if args.verbose {
        let logged = LOGGER.errors.load(Ordering::SeqCst) - errors_before;
        let sum =
            |f: fn(&ringloop::WorkerMetrics) -> u64| -> u64 { metrics.workers.iter().map(f).sum() };
        eprintln!(
            "seed {seed} {flavor:?}{}: {:.0?} (drop {drop_took:.1?}); {} conns, {} buffers \
             ({} drop panics), {logged} runtime error logs, {} steals, {} rescues; {}",
            if shutdown { " (shutdown)" } else { "" },
            started.elapsed(),
            world.conns.len(),
            buffers.created,
            buffers.drop_panics,
            sum(|w| w.steals),
            sum(|w| w.rescues),
            world.stats
        );
    }
    failure_report(&world, flavor, &replay).map_or(Ok(()), Err)
}

/// The seed's plan, as the command line changes it, and the command that replays it.
fn plan(seed: u64, flavor: Flavor, args: &Args) -> Result<(Plan, String), String> {
    let mut plan = Plan::new(seed, flavor);
    let mut replay = format!(
        "cargo test --test chaos -- --seed {seed} --flavor {}",
        flavor.name()
    );
    for name in &args.without {
        plan.without(name)?;
    }
    for name in &args.with {
        plan.with(name)?;
    }
    if !args.without.is_empty() {
        replay += &format!(" --without {}", args.without.join(","));
    }
    if !args.with.is_empty() {
        replay += &format!(" --with {}", args.with.join(","));
    }
    Ok((plan, replay))
}

fn runtime(flavor: Flavor) -> ringloop::Runtime {
    let mut builder = ringloop::Runtime::builder();
    match flavor {
        Flavor::Single => builder.single_threaded(),
        Flavor::Multi => builder.worker_threads(2),
    };
    builder.build().expect("the runtime builds")
}

/// The process has as many open descriptors as before the runtime was built.
fn descriptors_closed(world: &World, before: &[i32]) {
    let after = io_support::open_fds();
    if after.len() != before.len() {
        world.violation(format!(
            "open descriptors: {} before, {} after ({before:?} -> {after:?})",
            before.len(),
            after.len(),
        ));
    }
}

/// No panic but ours happened, anywhere, and the runtime logged no error but those that
/// report ours.
fn nothing_foreign(world: &World) {
    for panic in FOREIGN_PANICS.lock().unwrap().drain(..) {
        world.violation(format!("a panic that is not ours: {panic}"));
    }
    for error in LOGGER.foreign.lock().unwrap().drain(..) {
        world.violation(format!("the runtime logged an error: {error}"));
    }
}

/// What broke, what happened, the plan and the replay command; `None` if nothing broke.
fn failure_report(world: &World, flavor: Flavor, replay: &str) -> Option<String> {
    let violations = world.violations();
    if violations.is_empty() {
        return None;
    }
    let shutdown = world.plan.shutdown_after.is_some();
    let mut report = format!(
        "\nchaos: seed {} FAILED on the {flavor:?} flavour{}:\n",
        world.plan.seed,
        if shutdown { " (a shutdown seed)" } else { "" }
    );
    for v in &violations {
        report += &format!("  - {v}\n");
    }
    for note in world.notes() {
        report += &format!("  note: {note}\n");
    }
    report += &format!(
        "  plan: {:?}\n  replay: {replay} --repeat 20 -v\n",
        world.plan
    );
    Some(report)
}
