//! Processes for `real_clients`: the example servers (found, built if stale, started on a
//! free port, stopped with SIGTERM), the client programs (found on `PATH`, or skipped), and
//! commands run with a time limit.
//!
//! # Where the servers come from
//!
//! `cargo test` builds every example into `target/<profile>/examples/` before it runs the
//! tests, but `cargo test --test real_clients` builds only this test. So the first test to
//! need a server runs `cargo build --example mini_redis --example http_server` (the cargo
//! that runs the tests, `$CARGO`, with the same profile and environment, so the same target
//! directory), which does nothing when the examples are up to date. The binaries are then
//! found next to this test's: `target/<profile>/deps/real_clients-<hash>` →
//! `target/<profile>/examples/<name>`.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print its listening line (a cold build comes before).
const START_LIMIT: Duration = Duration::from_secs(30);

/// The runtime flavour a server is started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `--flavor multi --workers 2`.
    Multi,
    /// `--flavor single`.
    Single,
}

/// `target/<profile>/examples`, after building the server examples there.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps/<test>");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build.args([
            "build",
            "--quiet",
            "--example",
            "mini_redis",
            "--example",
            "http_server",
        ]);
        build
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
        match profile_dir.file_name().and_then(|name| name.to_str()) {
            Some("debug") => {}
            Some("release") => drop(build.arg("--release")),
            Some(profile) => drop(build.args(["--profile", profile])),
            None => panic!("no profile directory in {}", exe.display()),
        }
        let status = build
            .status()
            .expect("running cargo build for the examples");
        assert!(
            status.success(),
            "cargo build of the server examples failed: {status}"
        );
        profile_dir.join("examples")
    })
}

/// The path of `client`, or `None` (after printing why) if it is not installed; panics
/// instead when `RINGLOOP_REQUIRE_CLIENTS=1`.
pub(crate) fn client(client: &str, package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(client))
        .find(|p| p.is_file());
    if found.is_none() {
        let why = format!("{client} not installed (apt-get install {package})");
        assert!(
            std::env::var("RINGLOOP_REQUIRE_CLIENTS").as_deref() != Ok("1"),
            "{why}, and RINGLOOP_REQUIRE_CLIENTS=1"
        );
        println!("skipped: {why}");
    }
    found
}

/// Runs `command` with `stdin` as its input; fails the test if it runs past `limit`.
pub(crate) fn run(command: &mut Command, stdin: &[u8], limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
    let mut input = child.stdin.take().expect("piped");
    let stdin = stdin.to_vec();
    thread::spawn(move || input.write_all(&stdin));
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(limit) {
        Ok(output) => output.expect("waiting for a client"),
        Err(_) => {
            signal(pid, "KILL");
            panic!("{command:?} still running after {limit:?}");
        }
    }
}

/// Sends the signal `name` (`TERM`, `KILL`) to process `pid`, with kill(1).
fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "kill -{name} {pid} failed"
    );
}

/// A running server example, killed if the test ends without stopping it.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: SocketAddr,
    /// The listening line.
    pub(crate) banner: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts the example `name` on a free port of 127.0.0.1 and waits for its listening line.
    pub(crate) fn start(name: &str, flavor: Flavor) -> Server {
        let mut command = Command::new(examples_dir().join(name));
        command.args(["--port", "0", "--flavor"]);
        match flavor {
            Flavor::Multi => command.args(["multi", "--workers", "2"]),
            Flavor::Single => command.arg("single"),
        };
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("piped");
        let log = Arc::clone(&stderr);
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let (line_tx, line_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = line_tx.send(lines.next());
            lines.for_each(drop); // keep the pipe open and drained
        });
        let banner = match line_rx.recv_timeout(START_LIMIT) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                panic!(
                    "{name} printed no listening line ({other:?}): {}",
                    stderr.lock().unwrap()
                );
            }
        };
        let prefix = format!("{name} listening on ");
        let addr = banner
            .strip_prefix(&prefix)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("unexpected listening line {banner:?}"));
        Server {
            child,
            addr,
            banner,
            stderr,
        }
    }

    pub(crate) fn port(&self) -> String {
        self.addr.port().to_string()
    }

    /// Sends SIGTERM and waits (up to `limit`) for the server to exit; returns its status and
    /// how long it took.
    pub(crate) fn terminate(mut self, limit: Duration) -> (ExitStatus, Duration) {
        let start = Instant::now();
        signal(self.child.id(), "TERM");
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("waiting for the server") {
                return (status, start.elapsed());
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "the server did not exit within {limit:?} of SIGTERM: {}",
            self.stderr()
        );
    }

    /// What the server wrote to standard error so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if thread::panicking() {
            eprintln!("the server's standard error:\n{}", self.stderr());
        }
    }
}
