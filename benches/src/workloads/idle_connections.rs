//! idle_connections: the CPU an idle server uses while it holds 10,000 pending socket reads.
//!
//! The `tcp_echo_64` server runs alone in a child process (see `crate::child`) on the
//! runtime under test, built as for the other TCP workloads; nothing in the child arms a
//! timer. This process is the client: it opens the connections (10,000; quick: 1,000) in
//! batches of 500, waiting after each batch until the server has accepted it, and sends
//! nothing. Every connection task is then waiting in its first read: on ringloop and monoio
//! an io_uring read with an owned buffer in flight, on tokio a `read` on its `TcpStream`
//! registered with epoll; the accept loop waits in one more accept.
//!
//! That the reads are pending is checked from the child's own counts, before the window and
//! again after it: the server accepted every connection, every connection task's first read
//! has been polled (`EchoServer::first_read`), and no connection task has ended. No byte is
//! ever sent, so a polled read whose task is still alive has not completed.
//!
//! After a settle time (100 ms), the figure is the child's CPU time (user and system, every
//! thread, exited ones included) over a window of 2 s (quick: 500 ms), as a percent of one
//! CPU. It is read from this process with the child's CPU-time clock
//! (`clock_getcpuclockid`), so the measurement costs the child nothing. Lower is better; the
//! issue's target is at most tokio's, and under 1%.
//!
//! Extras, over the same window: the child's wake-ups per second (voluntary context
//! switches, summed over its threads), its involuntary context switches per second, the same
//! CPU figure from `/proc/PID/stat` (`utime + stime`, 10 ms ticks: an independent
//! cross-check). Each sample is a fresh child, so the runner's warm-up iteration does
//! nothing.
//!
//! ringloop's own `ring_enters` (`Runtime::metrics`) is not among the extras: a worker of
//! the multi-threaded runtime records its ring's counts when it comes back to its scheduler,
//! so the count stands still while the worker stays in one park, however often that park
//! enters the ring.

use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::{thousands, ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::child::{ChildStats, ServerChild};
use crate::os::{self, ContextSwitches};
use crate::runtimes::AnyRuntime;

/// The connection tasks' buffer: the `tcp_echo_64` server's.
const BUFFER_SIZE: usize = 64;
/// Connections opened before waiting for the server to accept them: under the listen
/// backlog (1,024), so no handshake is dropped and retried.
const BATCH: usize = 500;
/// Descriptors each process needs besides the connections (standard streams, the listener,
/// the rings, epoll, eventfds, pipes to the child).
const DESCRIPTOR_MARGIN: u64 = 64;
/// How long the server may take to accept a batch, or to poll every first read.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the client asks the child for its counts while waiting (outside the window).
const STARTUP_POLL: Duration = Duration::from_millis(1);
/// Time for the runtime to settle once every read is pending (threads going to sleep, a
/// last submission), and for the child's control thread to block again after its last
/// answer, before the window starts.
const SETTLE: Duration = Duration::from_millis(100);

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "wakeups_per_sec",
        unit: "/s",
        about: "voluntary context switches of the server's threads (each a wake-up)",
    },
    ExtraMetric {
        name: "involuntary_switches_per_sec",
        unit: "/s",
        about: "involuntary context switches of the server's threads",
    },
    ExtraMetric {
        name: "cpu_percent_proc_stat",
        unit: "% CPU",
        about: "the same window's CPU from /proc/PID/stat utime+stime (10 ms ticks)",
    },
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct IdleConnections {
    connections: usize,
    window: Duration,
    repetitions: usize,
}

impl IdleConnections {
    pub(crate) fn new(scale: Scale) -> Self {
        let (connections, window, repetitions) = match scale {
            Scale::Quick => (1_000, Duration::from_millis(500), 2),
            Scale::Full => (10_000, Duration::from_secs(2), 5),
        };
        IdleConnections {
            connections,
            window,
            repetitions,
        }
    }
}

impl Workload for IdleConnections {
    fn name(&self) -> &'static str {
        "idle_connections"
    }

    fn description(&self) -> String {
        format!(
            "CPU of an idle server: {} connections to the tcp_echo_64 server (alone in a \
             child process, no timers), each task waiting in a read, the client sending \
             nothing; the child's user+system CPU time over {} ms, in percent of one CPU",
            thousands(self.connections),
            self.window.as_millis()
        )
    }

    fn unit(&self) -> Unit {
        Unit::CpuPercent
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
        check_descriptor_limit(self.connections)?;
        let mut child = ServerChild::spawn(rt.kind(), rt.workers(), BUFFER_SIZE)?;
        let clients = connect_idle(&mut child, self.connections)?;
        let ready = wait_for(&mut child, |s| {
            s.first_reads >= self.connections || s.ended > 0
        })?;
        all_pending(&ready, self.connections, "before the window")?;
        // No more questions until the window ends: the control thread blocks again meanwhile.
        thread::sleep(SETTLE);
        let start = Mark::take(child.pid())?;
        thread::sleep(self.window);
        let end = Mark::take(child.pid())?;
        all_pending(&child.stats()?, self.connections, "after the window")?;

        drop(clients);
        child.finish()?;

        let window = end.wall.duration_since(start.wall).as_secs_f64();
        let percent = |cpu: Duration| cpu.as_secs_f64() / window * 100.0;
        let switches = end.switches.since(start.switches);
        let extras = vec![
            ("wakeups_per_sec", switches.voluntary as f64 / window),
            (
                "involuntary_switches_per_sec",
                switches.involuntary as f64 / window,
            ),
            (
                "cpu_percent_proc_stat",
                percent(end.stat_cpu.saturating_sub(start.stat_cpu)),
            ),
        ];
        Ok(Sample {
            value: percent(end.cpu.saturating_sub(start.cpu)),
            extras,
        })
    }
}

/// Raises this process's descriptor limit to its hard limit (the child raises its own the
/// same way, and inherits the same hard limit); fails if that is too low for `connections`.
fn check_descriptor_limit(connections: usize) -> Result<(), String> {
    let limit =
        os::raise_nofile_limit().map_err(|e| format!("cannot raise the descriptor limit: {e}"))?;
    let needed = connections as u64 + DESCRIPTOR_MARGIN;
    if limit < needed {
        return Err(format!(
            "{connections} connections need {needed} descriptors in the client and in the \
             server child, but the hard RLIMIT_NOFILE is {limit}: raise it (`ulimit -Hn \
             {needed}` as root, `LimitNOFILE=` or /etc/security/limits.conf) or run with \
             --quick"
        ));
    }
    Ok(())
}

/// Opens `n` connections to the child that never send, in batches, waiting after each
/// batch until the server has accepted it. Closing them later resets them (`SO_LINGER` 0),
/// so no port is left in `TIME_WAIT`.
fn connect_idle(child: &mut ServerChild, n: usize) -> Result<Vec<TcpStream>, String> {
    let mut streams = Vec::with_capacity(n);
    while streams.len() < n {
        for i in streams.len()..(streams.len() + BATCH).min(n) {
            let stream =
                TcpStream::connect(child.addr()).map_err(|e| format!("connect {i}: {e}"))?;
            SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .map_err(|e| format!("linger {i}: {e}"))?;
            streams.push(stream);
        }
        let opened = streams.len();
        wait_for(child, |s| s.connections >= opened)?;
    }
    Ok(streams)
}

/// Asks the child for its counts until `done` holds for them; fails after
/// [`STARTUP_TIMEOUT`], saying how far it got.
fn wait_for(
    child: &mut ServerChild,
    done: impl Fn(&ChildStats) -> bool,
) -> Result<ChildStats, String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        let stats = child.stats()?;
        if done(&stats) {
            return Ok(stats);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the server did not get there within {STARTUP_TIMEOUT:?}: {} connections \
                 accepted, {} first reads polled, {} connection tasks ended",
                stats.connections, stats.first_reads, stats.ended
            ));
        }
        thread::sleep(STARTUP_POLL);
    }
}

/// Whether every one of the `n` connection tasks is waiting in its read, by the child's
/// counts: all accepted, every first read polled, none ended.
fn all_pending(stats: &ChildStats, n: usize, when: &str) -> Result<(), String> {
    if stats.connections == n && stats.first_reads == n && stats.ended == 0 {
        return Ok(());
    }
    Err(format!(
        "not every read is pending {when}: {} of {n} connections accepted, {} first reads \
         polled, {} connection tasks ended",
        stats.connections, stats.first_reads, stats.ended
    ))
}

/// The child's counters at one moment, read from this process.
#[derive(Debug, Clone, Copy)]
struct Mark {
    wall: Instant,
    cpu: Duration,
    stat_cpu: Duration,
    switches: ContextSwitches,
}

impl Mark {
    fn take(pid: u32) -> Result<Mark, String> {
        let failed = |what: &str, e: std::io::Error| format!("cannot read the child's {what}: {e}");
        let switches = os::context_switches(pid).map_err(|e| failed("context switches", e))?;
        let stat_cpu = os::stat_cpu_time_of(pid).map_err(|e| failed("/proc/PID/stat", e))?;
        // The precise clock last, next to the wall clock.
        let cpu = os::cpu_time_of(pid).map_err(|e| failed("CPU-time clock", e))?;
        Ok(Mark {
            wall: Instant::now(),
            cpu,
            stat_cpu,
            switches,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(connections: usize, first_reads: usize, ended: usize) -> ChildStats {
        ChildStats {
            rss: 0,
            heap: None,
            ring_enters: None,
            connections,
            first_reads,
            ended,
        }
    }

    #[test]
    fn every_read_must_be_pending() {
        assert!(all_pending(&stats(10, 10, 0), 10, "now").is_ok());
        assert!(all_pending(&stats(9, 9, 0), 10, "now").is_err());
        assert!(all_pending(&stats(10, 9, 0), 10, "now").is_err());
        let error = all_pending(&stats(10, 10, 1), 10, "now").unwrap_err();
        assert!(error.contains("1 connection tasks ended"), "{error}");
    }

    #[test]
    fn quick_is_smaller() {
        let (quick, full) = (
            IdleConnections::new(Scale::Quick),
            IdleConnections::new(Scale::Full),
        );
        assert_eq!(full.connections, 10_000);
        assert_eq!(full.window, Duration::from_secs(2));
        assert!(quick.connections < full.connections && quick.window < full.window);
    }
}
