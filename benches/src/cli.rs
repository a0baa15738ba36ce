//! Command-line options of the `ringloop-bench` binary.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::runtimes::{RuntimeKind, DEFAULT_WORKERS};
use crate::workloads::{Scale, Workload};

/// Repetitions per workload in a full run.
const FULL_REPETITIONS: usize = 21;
/// Repetitions per workload with `--quick`.
const QUICK_REPETITIONS: usize = 5;
/// The suite's time budget with `--quick`: CI wants the suite done in about a minute. The
/// fixed-window I/O workloads take about 35 s of it whatever the machine's load; the rest
/// keeps the 45 s the other workloads had before them.
const QUICK_BUDGET: Duration = Duration::from_secs(80);

/// The help text.
pub const USAGE: &str = "\
Usage: ringloop-bench [OPTIONS] [FILTER]...

Runs every workload on ringloop (multi- and single-threaded), tokio (multi_thread and
current_thread) and monoio (its defaults, tuned for a server, and one tuned runtime per
thread sharing the server's port), interleaved, and
writes report.md, report.json and SVG plots to <target dir>/ringloop-report/.

Arguments:
  [FILTER]...          run only workloads whose name equals a filter or, if none
                       equals it, contains it (e.g. `spawn`, `ping_pong`)

Options:
      --quick          fewer repetitions and shorter windows (a smoke run of a few
                       minutes; the full run takes about 32 on 2 CPUs)
      --reps N         repetitions per workload (default 21, quick 5)
      --json PATH      also write the JSON report to PATH
      --out DIR        write the report into DIR instead of <target>/ringloop-report
      --runtimes LIST  comma-separated subset of: ringloop-multi, ringloop-single,
                       tokio-multi, tokio-current, monoio, monoio-tuned,
                       monoio-reuseport (only on the in-process echo rows whose
                       server has 2+ workers)
      --workers N      worker threads of the multi-threaded runtimes (default 2)
      --timeout SECS   give up on a sample after SECS seconds (default 30)
      --budget SECS    on a busy machine, run fewer repetitions (at least 3) so the
                       suite ends within about SECS seconds (default 80 with --quick,
                       none otherwise; 0 means none)
      --seed N         seed of the runtime order, shuffled in every repetition
                       (default: from the clock; the report states it, to replay)
      --strict         exit with status 1 if any sample failed
      --list           list the workloads and exit
  -h, --help           print this help
";

/// Parsed command-line options.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// `--quick`.
    pub quick: bool,
    /// `--reps N`.
    pub repetitions: Option<usize>,
    /// `--json PATH`.
    pub json: Option<PathBuf>,
    /// `--out DIR`.
    pub out_dir: Option<PathBuf>,
    /// `--runtimes LIST`.
    pub runtimes: Vec<RuntimeKind>,
    /// `--workers N`.
    pub workers: usize,
    /// `--timeout SECS`.
    pub timeout: Duration,
    /// `--budget SECS`: `Some(None)` if explicitly unlimited.
    pub budget: Option<Option<Duration>>,
    /// `--seed N`: `None` to take one from the clock.
    pub seed: Option<u64>,
    /// `--strict`.
    pub strict: bool,
    /// `--list`.
    pub list: bool,
    /// `--help`.
    pub help: bool,
    /// Workload filters.
    pub filters: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            quick: false,
            repetitions: None,
            json: None,
            out_dir: None,
            runtimes: RuntimeKind::ALL.to_vec(),
            workers: DEFAULT_WORKERS,
            timeout: Duration::from_secs(30),
            budget: None,
            seed: None,
            strict: false,
            list: false,
            help: false,
            filters: Vec::new(),
        }
    }
}

impl Options {
    /// The workload scale.
    pub fn scale(&self) -> Scale {
        if self.quick {
            Scale::Quick
        } else {
            Scale::Full
        }
    }

    /// Repetitions per workload.
    pub fn repetitions(&self) -> usize {
        self.repetitions.unwrap_or(if self.quick {
            QUICK_REPETITIONS
        } else {
            FULL_REPETITIONS
        })
    }

    /// The suite's time budget, if any.
    pub fn budget(&self) -> Option<Duration> {
        self.budget
            .unwrap_or(if self.quick { Some(QUICK_BUDGET) } else { None })
    }

    /// The workloads the filters select (all if there are none), in suite order.
    pub fn select(&self, workloads: Vec<Arc<dyn Workload>>) -> Vec<Arc<dyn Workload>> {
        if self.filters.is_empty() {
            return workloads;
        }
        let exact = |f: &String| workloads.iter().any(|w| w.name() == f);
        workloads
            .iter()
            .filter(|w| {
                self.filters.iter().any(|f| {
                    if exact(f) {
                        w.name() == f
                    } else {
                        w.name().contains(f.as_str())
                    }
                })
            })
            .cloned()
            .collect()
    }
}

/// Parses the arguments after the program name.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--reps" => options.repetitions = Some(positive(&value("--reps")?, "--reps")?),
            "--json" => options.json = Some(value("--json")?.into()),
            "--out" => options.out_dir = Some(value("--out")?.into()),
            "--runtimes" => {
                options.runtimes = value("--runtimes")?
                    .split(',')
                    .map(|s| s.trim().parse())
                    .collect::<Result<_, _>>()?;
                options.runtimes.sort();
                options.runtimes.dedup();
            }
            "--workers" => options.workers = positive(&value("--workers")?, "--workers")?,
            "--timeout" => {
                let secs = positive(&value("--timeout")?, "--timeout")?;
                options.timeout = Duration::from_secs(secs as u64);
            }
            "--budget" => {
                let secs = value("--budget")?;
                let secs: u64 = secs
                    .parse()
                    .map_err(|_| format!("`--budget` needs a number of seconds, got `{secs}`"))?;
                options.budget = Some((secs > 0).then(|| Duration::from_secs(secs)));
            }
            "--seed" => {
                let seed = value("--seed")?;
                options.seed = Some(
                    seed.parse()
                        .map_err(|_| format!("`--seed` needs a whole number, got `{seed}`"))?,
                );
            }
            "--strict" => options.strict = true,
            "--list" => options.list = true,
            "-h" | "--help" => options.help = true,
            // `cargo bench` passes `--bench` to every bench target's binary.
            "--bench" => {}
            flag if flag.starts_with('-') => return Err(format!("unknown option `{flag}`")),
            _ => options.filters.push(arg),
        }
    }
    if options.runtimes.is_empty() {
        return Err("`--runtimes` selected no runtime".to_owned());
    }
    Ok(options)
}

fn positive(s: &str, name: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{name}` needs a positive integer, got `{s}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::all_workloads;

    fn parse(args: &[&str]) -> Result<Options, String> {
        parse_args(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn defaults_and_flags() {
        let o = parse(&[]).unwrap();
        assert_eq!((o.quick, o.repetitions(), o.workers), (false, 21, 2));
        let o = parse(&["--quick", "--json", "x.json", "--reps", "3", "ping"]).unwrap();
        assert!(o.quick);
        assert_eq!(o.repetitions(), 3);
        assert_eq!(o.json, Some(PathBuf::from("x.json")));
        assert_eq!(o.filters, ["ping"]);
        assert!(parse(&["--reps", "0"]).is_err());
        assert!(parse(&["--nope"]).is_err());
        assert!(parse(&["--json"]).is_err());
        assert_eq!(parse(&[]).unwrap().budget(), None);
        assert_eq!(parse(&["--quick"]).unwrap().budget(), Some(QUICK_BUDGET));
        assert_eq!(parse(&["--quick", "--budget", "0"]).unwrap().budget(), None);
        assert_eq!(parse(&["--seed", "42"]).unwrap().seed, Some(42));
        assert!(parse(&["--seed", "x"]).is_err());
        let o = parse(&["--budget", "20"]).unwrap();
        assert_eq!(o.budget(), Some(Duration::from_secs(20)));
    }

    #[test]
    fn runtimes_subset_in_column_order() {
        let o = parse(&["--runtimes", "monoio,tokio-multi"]).unwrap();
        assert_eq!(o.runtimes, [RuntimeKind::TokioMulti, RuntimeKind::Monoio]);
        assert!(parse(&["--runtimes", "glommio"]).is_err());
        let o = parse(&[
            "--runtimes",
            "monoio-reuseport, ringloop-multi,monoio-tuned",
        ])
        .unwrap();
        assert_eq!(
            o.runtimes,
            [
                RuntimeKind::RingloopMulti,
                RuntimeKind::MonoioTuned,
                RuntimeKind::MonoioReuseport
            ]
        );
    }

    #[test]
    fn exact_filter_beats_substring() {
        let names = |o: Options| -> Vec<&'static str> {
            o.select(all_workloads(Scale::Quick))
                .iter()
                .map(|w| w.name())
                .collect()
        };
        assert_eq!(names(parse(&["spawn_many"]).unwrap()), ["spawn_many"]);
        assert_eq!(
            names(parse(&["spawn"]).unwrap()),
            [
                "spawn_many",
                "spawn_many_remote",
                "spawn_many_remote_tokio_no_io",
                "chained_spawn"
            ]
        );
        // No filter: every workload.
        assert_eq!(
            names(parse(&[]).unwrap()).len(),
            all_workloads(Scale::Quick).len()
        );
        assert!(names(parse(&["timer"]).unwrap()).contains(&"timer_lateness"));
    }
}
