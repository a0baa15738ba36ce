//! The child's side: an echo server alone in its process.
//!
//! `ringloop-bench __child echo-server RUNTIME WORKERS BUFFER_SIZE` builds the runtime,
//! raises its descriptor limit, turns on allocation counting, binds a loopback listener and
//! starts the same echo server as the in-process workloads (see
//! [`crate::net::EchoServer`]). Then, one line each:
//!
//! | child prints                                          | when                           |
//! |-------------------------------------------------------|--------------------------------|
//! | `ready PORT`                                          | the server is accepting        |
//! | `stats RSS HEAP RING_ENTERS CONNS FIRST_READS ENDED`  | after each `stats` line read   |
//! | `error MESSAGE`                                       | on a failure, before exit(1)   |
//!
//! `RSS` is `VmRSS` in bytes, `HEAP` the live heap bytes counted since the start (`-` without
//! the counting allocator), `RING_ENTERS` the `io_uring_enter` calls of ringloop's rings from
//! [`ringloop::Runtime::metrics`] (`-` on other runtimes), `CONNS` the connections accepted,
//! `FIRST_READS` the connection tasks whose first read has been polled, `ENDED` the
//! connection tasks that have ended.
//!
//! A control thread answers on standard input and output; the runtime only serves. The end
//! of its input stops the server: the control thread stops the accept loop through the
//! listener ([`EchoServer::stop`]), and the runtime's main task, which has been waiting for
//! the server's tasks to end ([`EchoServer::finished`]), returns once the parent's
//! connections are closed too (the parent closes them first). Nothing in the child arms a
//! timer, so an idle server is really idle (`idle_connections` measures that).

use std::io::{self, BufRead};
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

use crate::alloc;
use crate::net::{loopback_listener, EchoServer};
use crate::os;
use crate::runtimes::{AnyRuntime, IoRt, RingloopRt, RuntimeKind, VisitIo};

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
    if kind.is_thread_per_core() {
        // Its runtimes after the first would sit idle: the child serves one listener,
        // stopped by one connection. The suite marks these rows n/a for it.
        return Err(format!("{kind} runs its echo server in process only"));
    }
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
    let serve = Serve {
        listener,
        server: server.clone(),
        addr,
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
                s.spawn(|| control(&server, addr, Some(&ring_enters)));
                runtime.block_on(serve.run::<RingloopRt>())
            })
        }
        other => thread::scope(|s| {
            s.spawn(|| control(&server, addr, None));
            other.visit_io(serve)
        }),
    }
}

/// Reads commands until the end of input, then stops the server listening at `addr`.
fn control(server: &EchoServer, addr: SocketAddr, ring_enters: Option<&(dyn Fn() -> u64 + Sync)>) {
    let dash = || "-".to_owned();
    for line in io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() != "stats" {
            continue;
        }
        let rss = os::resident_bytes().unwrap_or(0);
        let heap = alloc::live_bytes_counted().map_or_else(dash, |b| b.to_string());
        let enters = ring_enters.map_or_else(dash, |f| f().to_string());
        println!(
            "stats {rss} {heap} {enters} {} {} {}",
            server.connections(),
            server.first_reads(),
            server.ended()
        );
    }
    match server.stop(addr) {
        Ok(wake) => drop(wake),
        Err(error) => {
            // The runtime would wait for the accept loop for ever.
            println!("error {error}");
            std::process::exit(1);
        }
    }
}

/// The server's life on the runtime: start, then wait until every task has ended (after
/// the control thread's stop and the parent's closes).
struct Serve {
    listener: TcpListener,
    server: Arc<EchoServer>,
    addr: SocketAddr,
}

impl Serve {
    async fn run<R: IoRt>(self) -> Result<(), String> {
        R::spawn_echo_server(self.listener, self.server.clone());
        println!("ready {}", self.addr.port());
        self.server.finished().await
    }
}

impl VisitIo for Serve {
    type Output = Result<(), String>;

    fn visit<R: IoRt>(self, rt: &mut R) -> Result<(), String> {
        rt.block_on(self.run::<R>())
    }
}
