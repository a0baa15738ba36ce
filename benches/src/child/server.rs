//! The child's side: an echo server alone in its process.
//!
//! `ringloop-bench __child echo-server RUNTIME WORKERS BUFFER_SIZE` builds the runtime,
//! raises its descriptor limit, turns on allocation counting, binds a loopback listener and
//! starts the same echo server as the in-process workloads (see
//! [`crate::net::EchoServer`]). Then, one line each:
//!
//! | child prints                          | when                                         |
//! |---------------------------------------|----------------------------------------------|
//! | `ready PORT`                          | the server is accepting                      |
//! | `stats RSS HEAP RING_ENTERS CONNS`    | after each `stats` line on its input         |
//! | `error MESSAGE`                       | on a failure, before exiting with status 1   |
//!
//! `RSS` is `VmRSS` in bytes, `HEAP` the live heap bytes counted since the start (`-` without
//! the counting allocator), `RING_ENTERS` the `io_uring_enter` calls of ringloop's rings from
//! [`ringloop::Runtime::metrics`] (`-` on other runtimes), `CONNS` the connections accepted.
//! The end of its input stops the server: it waits for the connection tasks to end (the
//! parent closes its connections first) and exits.

use std::io::{self, BufRead};
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::alloc;
use crate::net::{loopback_listener, EchoServer};
use crate::os;
use crate::runtimes::{AnyRuntime, IoRt, RingloopRt, RuntimeKind, VisitIo};

/// How often the server looks whether its input has ended (see
/// [`IoRt::wait_until_set`]).
const STOP_CHECK: Duration = Duration::from_millis(10);

/// The role's name on the command line.
pub(super) const ROLE: &str = "echo-server";

/// Runs the role with the arguments after the role's name.
pub(super) fn main(args: &[String]) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            println!("error {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let [kind, workers, buffer_size] = args else {
        return Err(format!(
            "expected RUNTIME WORKERS BUFFER_SIZE, got {args:?}"
        ));
    };
    let kind: RuntimeKind = kind.parse()?;
    let number = |s: &str| s.parse::<usize>().map_err(|e| format!("`{s}`: {e}"));
    let (workers, buffer_size) = (number(workers)?, number(buffer_size)?);
    os::raise_nofile_limit().map_err(|e| format!("cannot raise the descriptor limit: {e}"))?;
    alloc::count_from_now();
    let mut rt = kind
        .build(workers)
        .map_err(|e| format!("{kind} failed to build: {e}"))?;
    let listener = loopback_listener().map_err(|e| format!("cannot listen: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("no local address: {e}"))?;
    let server = EchoServer::new(buffer_size);
    let stop = AtomicBool::new(false);
    let serve = Serve {
        listener,
        server: server.clone(),
        addr,
        stop: &stop,
    };
    // The control thread answers `stats` while the runtime runs the server on this thread.
    match &mut rt {
        AnyRuntime::Ringloop(ringloop) => {
            let runtime = ringloop.runtime();
            let ring_enters = || -> u64 {
                let metrics = runtime.metrics();
                metrics.workers.iter().map(|w| w.ring_enters).sum()
            };
            thread::scope(|s| {
                s.spawn(|| control(&stop, &server, Some(&ring_enters)));
                runtime.block_on(serve.run::<RingloopRt>())
            })
        }
        other => thread::scope(|s| {
            s.spawn(|| control(&stop, &server, None));
            other.visit_io(serve)
        }),
    }
}

/// Reads commands until the end of input, then tells the server to stop.
fn control(stop: &AtomicBool, server: &EchoServer, ring_enters: Option<&(dyn Fn() -> u64 + Sync)>) {
    let dash = || "-".to_owned();
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() != "stats" {
            continue;
        }
        let rss = os::resident_bytes().unwrap_or(0);
        let heap = alloc::live_bytes_counted().map_or_else(dash, |b| b.to_string());
        let enters = ring_enters.map_or_else(dash, |f| f().to_string());
        println!("stats {rss} {heap} {enters} {}", server.connections());
    }
    stop.store(true, Ordering::Release);
}

/// The server's life on the runtime: start, wait for the stop, shut down.
struct Serve<'a> {
    listener: TcpListener,
    server: Arc<EchoServer>,
    addr: SocketAddr,
    stop: &'a AtomicBool,
}

impl Serve<'_> {
    async fn run<R: IoRt>(self) -> Result<(), String> {
        R::spawn_echo_server(self.listener, self.server.clone());
        println!("ready {}", self.addr.port());
        R::wait_until_set(self.stop, STOP_CHECK).await;
        self.server.shut_down(self.addr).await
    }
}

impl VisitIo for Serve<'_> {
    type Output = Result<(), String>;

    fn visit<R: IoRt>(self, rt: &mut R) -> Result<(), String> {
        rt.block_on(self.run::<R>())
    }
}
