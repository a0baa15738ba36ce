//! What the server examples share around their protocol: the command line (`--host`,
//! `--port`, `--flavor multi|single`, `--workers N`), the runtime it asks for, the
//! `<name> listening on <addr> (<flavor>, <n> workers)` line, and the graceful shutdown: at
//! SIGINT or SIGTERM, stop accepting, tell the connections to finish, wait for them up to
//! [`GRACE`], exit 0.

use std::future::Future;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ringloop::streams::Server;

use crate::shutdown::{self, Stop};

/// How long open connections get to finish after a signal.
const GRACE: Duration = Duration::from_secs(5);

/// What a server example is given to start listening.
#[derive(Debug)]
pub(crate) struct Setup {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// Set at shutdown; each connection waits on one of its events.
    pub(crate) stop: Arc<Stop>,
}

/// The parsed command line.
#[derive(Debug)]
struct Options {
    host: String,
    port: u16,
    single: bool,
    workers: Option<usize>,
}

fn usage(name: &str, default_port: u16) -> String {
    format!(
        "usage: {name} [--host ADDR (127.0.0.1)] [--port N ({default_port}; 0: any free port)] \
         [--flavor multi|single (multi)] [--workers N (multi only; default: one per CPU)]"
    )
}

fn parse(default_port: u16) -> Result<Options, String> {
    let mut options = Options {
        host: "127.0.0.1".into(),
        port: default_port,
        single: false,
        workers: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--host" => options.host = value()?,
            "--port" => options.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--flavor" => match value()?.as_str() {
                "multi" => options.single = false,
                "single" => options.single = true,
                other => return Err(format!("--flavor: {other:?} is not multi or single")),
            },
            "--workers" => match value()?.parse() {
                Ok(0) | Err(_) => return Err("--workers: a positive number is needed".into()),
                Ok(n) => options.workers = Some(n),
            },
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if options.single && options.workers.is_some() {
        return Err("--workers applies to --flavor multi only".into());
    }
    Ok(options)
}

/// Runs the server example `name`: `start` listens (with the [`Setup`], and the number of
/// worker threads: 1 for the single-threaded runtime) and returns the server; this prints the
/// listening line, waits for a signal and shuts down gracefully.
pub(crate) fn run<S, F>(name: &str, default_port: u16, start: S) -> ExitCode
where
    S: FnOnce(Setup, usize) -> F,
    F: Future<Output = io::Result<Server>>,
{
    let options = match parse(default_port) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("{name}: {e}\n{}", usage(name, default_port));
            return ExitCode::from(2);
        }
    };
    match serve(name, options, start) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve<S, F>(name: &str, options: Options, start: S) -> io::Result<()>
where
    S: FnOnce(Setup, usize) -> F,
    F: Future<Output = io::Result<Server>>,
{
    let mut builder = ringloop::Runtime::builder();
    if options.single {
        builder.single_threaded();
    } else if let Some(workers) = options.workers {
        builder.worker_threads(workers);
    }
    let runtime = builder.build()?;
    let (flavor, workers) = match runtime.worker_threads() {
        0 => ("single", 1),
        n => ("multi", n),
    };
    let stop = Arc::new(Stop::new(4 * workers));
    runtime.block_on(async {
        // Listening before the server says it is up: a SIGTERM sent then is not lost.
        let signals = shutdown::Signals::new()?;
        let setup = Setup {
            host: options.host,
            port: options.port,
            stop: Arc::clone(&stop),
        };
        let server = start(setup, workers).await?;
        let addr = server
            .local_addr()
            .map(ToString::to_string)
            .unwrap_or_default();
        let mut stdout = io::stdout().lock();
        writeln!(
            stdout,
            "{name} listening on {addr} ({flavor}, {workers} workers)"
        )?;
        stdout.flush()?;
        drop(stdout);

        signals.first().await;
        eprintln!("{name}: shutting down");
        server.close();
        stop.stop();
        if ringloop::wait_for(server.wait_closed(), GRACE)
            .await
            .is_err()
        {
            eprintln!("{name}: connections still open after {GRACE:?}; closing them");
        }
        Ok(())
    })
}
