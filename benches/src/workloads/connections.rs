//! connections: memory per idle connection of an echo server, user and kernel.
//!
//! The server runs alone in a child process (see `crate::child`), on the runtime under test,
//! with the `tcp_echo_64` server code: one task per connection, each with its 64-byte
//! buffer. This process is the client: it opens 10,000 connections in batches, sends one
//! 64-byte message on each and reads the echo, so every server task has accepted, read,
//! written and is blocked in its next read.
//!
//! The child runs in a memory cgroup of its own (`crate::cgroup`), so what the kernel
//! allocates for it counts too: socket structures, and per pending read an io_uring
//! request (`io_kiocb`) on the io_uring runtimes or an epoll item on tokio. The figure is the
//! growth of the cgroup's usage (user plus kernel memory) from before the first connection
//! to after the last echo, divided by the connections. Extras split it: the user part is the
//! growth of the child's `VmRSS`, the kernel part the growth of the cgroup's kernel
//! memory; the child's live heap growth (its counting allocator) is another. Where no
//! memory cgroup can be created (no root, no controller), the figure is the `VmRSS` growth
//! alone, and the cell carries a warning that says so. The client's sockets and memory are
//! in this process and do not count. Each sample is a fresh child, so the runner's warm-up
//! iteration does nothing. Lower is better.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use socket2::SockRef;

use super::{thousands, ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::cgroup::MemoryCgroup;
use crate::child::ServerChild;
use crate::os;
use crate::runner::warn;
use crate::runtimes::AnyRuntime;

const MESSAGE_SIZE: usize = 64;
/// Connections opened before their echoes are read.
const BATCH: usize = 500;
/// Time for the server tasks to go back to their reads after the last echo.
const SETTLE: Duration = Duration::from_millis(50);

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "user_bytes_per_connection",
        unit: "bytes/conn",
        about: "growth of the server process's VmRSS per connection (user memory)",
    },
    ExtraMetric {
        name: "kernel_bytes_per_connection",
        unit: "bytes/conn",
        about: "growth of the kernel memory charged to the server's cgroup per connection (sockets, io_kiocb or epoll items, ...)",
    },
    ExtraMetric {
        name: "heap_bytes_per_connection",
        unit: "bytes/conn",
        about: "live heap growth per connection (counting allocator)",
    },
    ExtraMetric {
        name: "rss_before_mib",
        unit: "MiB",
        about: "the server process's RSS before the first connection",
    },
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Connections {
    connections: usize,
    repetitions: usize,
}

impl Connections {
    pub(crate) fn new(scale: Scale) -> Self {
        Connections {
            connections: 10_000,
            repetitions: match scale {
                Scale::Quick => 2,
                Scale::Full => 5,
            },
        }
    }
}

impl Workload for Connections {
    fn name(&self) -> &'static str {
        "connections"
    }

    fn description(&self) -> String {
        format!(
            "memory per idle connection, user plus kernel: {} connections to the tcp_echo_64 \
             server (one task each, blocked in a read) in a child process in a memory cgroup \
             of its own; growth of the cgroup's usage / connections",
            thousands(self.connections)
        )
    }

    fn unit(&self) -> Unit {
        Unit::BytesPerConnection
    }

    fn max_repetitions(&self) -> Option<usize> {
        Some(self.repetitions)
    }

    fn extra_metrics(&self) -> &'static [ExtraMetric] {
        EXTRAS
    }

    fn run(&self, rt: &mut AnyRuntime, phase: Phase) -> Result<Sample, String> {
        if phase == Phase::WarmUp {
            return Ok(Sample::new(0.0));
        }
        os::raise_nofile_limit().map_err(|e| format!("cannot raise the descriptor limit: {e}"))?;
        let mut child = ServerChild::spawn(rt.kind(), rt.workers(), MESSAGE_SIZE)?;
        let cgroup = match MemoryCgroup::create().and_then(|c| c.add(child.pid()).map(|()| c)) {
            Ok(cgroup) => Some(cgroup),
            Err(e) => {
                warn(format!(
                    "kernel memory not counted, the figure is user memory (VmRSS) only: {e}"
                ));
                None
            }
        };
        let usage = |c: &MemoryCgroup| c.usage().map_err(|e| format!("cgroup usage: {e}"));
        let before = child.stats()?;
        let cgroup_before = cgroup.as_ref().map(usage).transpose()?;
        let clients = connect_and_echo(&child, self.connections)?;
        thread::sleep(SETTLE);
        let after = child.stats()?;
        let cgroup_after = cgroup.as_ref().map(usage).transpose()?;
        drop(clients);
        child.finish()?;
        drop(cgroup);
        if after.connections != self.connections {
            return Err(format!(
                "the server accepted {} connections, expected {}",
                after.connections, self.connections
            ));
        }
        let n = self.connections as f64;
        let per_connection = |after: u64, before: u64| (after as f64 - before as f64) / n;
        let user = per_connection(after.rss, before.rss);
        let mut extras = vec![
            ("rss_before_mib", before.rss as f64 / (1 << 20) as f64),
            ("user_bytes_per_connection", user),
        ];
        if let (Some(a), Some(b)) = (after.heap, before.heap) {
            extras.push(("heap_bytes_per_connection", (a - b) as f64 / n));
        }
        let mut value = user;
        if let (Some(a), Some(b)) = (cgroup_after, cgroup_before) {
            value = per_connection(a.total, b.total);
            if let (Some(ka), Some(kb)) = (a.kernel, b.kernel) {
                extras.push(("kernel_bytes_per_connection", per_connection(ka, kb)));
            }
        }
        Ok(Sample { value, extras })
    }
}

/// Opens `n` connections to the child, in batches: connect a batch, send a message on each,
/// read each echo. Closing them later resets them (`SO_LINGER` 0), so no port is left in
/// `TIME_WAIT`.
fn connect_and_echo(child: &ServerChild, n: usize) -> Result<Vec<TcpStream>, String> {
    let message = [0x5a_u8; MESSAGE_SIZE];
    let mut echo = [0_u8; MESSAGE_SIZE];
    let mut streams = Vec::with_capacity(n);
    let failed = |what: &str, i: usize, e: std::io::Error| format!("{what} {i}: {e}");
    while streams.len() < n {
        let first = streams.len();
        for i in first..(first + BATCH).min(n) {
            let stream = TcpStream::connect(child.addr()).map_err(|e| failed("connect", i, e))?;
            SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .map_err(|e| failed("linger", i, e))?;
            stream
                .set_nodelay(true)
                .map_err(|e| failed("nodelay", i, e))?;
            streams.push(stream);
        }
        for (i, mut stream) in streams[first..].iter().enumerate() {
            stream
                .write_all(&message)
                .map_err(|e| failed("write", first + i, e))?;
        }
        for (i, mut stream) in streams[first..].iter().enumerate() {
            stream
                .read_exact(&mut echo)
                .map_err(|e| failed("echo", first + i, e))?;
        }
    }
    Ok(streams)
}
