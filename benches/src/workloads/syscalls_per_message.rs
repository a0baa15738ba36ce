//! syscalls_per_message: system calls the echo server makes per echoed message.
//!
//! The `tcp_echo_64` server runs alone in a child process on the runtime under test (see
//! `crate::child`); the shared load generator drives it from a thread of this process with
//! 100 connections, one 64-byte message in flight on each. After a warm-up, the child's
//! system calls are counted over a fixed window with `perf stat` on the
//! `raw_syscalls:sys_enter` tracepoint (every thread of the child; `strace -c -f` if perf
//! cannot run, context switches if neither can, with a warning in the report), and divided
//! by the round trips the client completed in the same window. Only the server's calls
//! count. Lower is better.
//!
//! Extras: the same window's calls by name per message, the throughput during the window,
//! and, on ringloop, `ring_enters` from `Runtime::metrics` (its workers' `io_uring_enter`
//! calls) per message, as a cross-check of the io_uring_enter count (the thread that called
//! `block_on` is not in the metrics).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::{ExtraMetric, Phase, Sample, Scale, Unit, Workload};
use crate::child::{ServerChild, SyscallCounter};
use crate::net::{spawn_client, ClientConfig};
use crate::runner;
use crate::runtimes::AnyRuntime;

const CONNECTIONS: usize = 100;
const MESSAGE_SIZE: usize = 64;

const EXTRAS: &[ExtraMetric] = &[
    ExtraMetric {
        name: "io_uring_enter_per_message",
        unit: "calls/msg",
        about: "io_uring_enter",
    },
    ExtraMetric {
        name: "ring_enters_per_message",
        unit: "calls/msg",
        about: "ringloop's own count (Runtime::metrics, workers only)",
    },
    ExtraMetric {
        name: "epoll_wait_per_message",
        unit: "calls/msg",
        about: "epoll_wait and epoll_pwait",
    },
    ExtraMetric {
        name: "recvfrom_per_message",
        unit: "calls/msg",
        about: "recvfrom (read(2) on a socket in std and mio)",
    },
    ExtraMetric {
        name: "sendto_per_message",
        unit: "calls/msg",
        about: "sendto",
    },
    ExtraMetric {
        name: "read_per_message",
        unit: "calls/msg",
        about: "read (eventfd wake-ups)",
    },
    ExtraMetric {
        name: "write_per_message",
        unit: "calls/msg",
        about: "write (eventfd wake-ups)",
    },
    ExtraMetric {
        name: "futex_per_message",
        unit: "calls/msg",
        about: "futex (thread parking and wake-ups)",
    },
    ExtraMetric {
        name: "messages_per_sec",
        unit: "msg/s",
        about: "throughput while counting",
    },
];

/// The extra's key for a named system call.
fn per_message_key(name: &str) -> Option<&'static str> {
    EXTRAS
        .iter()
        .map(|e| e.name)
        .find(|key| key.strip_suffix("_per_message") == Some(name))
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct SyscallsPerMessage {
    warm_up: Duration,
    window: Duration,
    repetitions: usize,
}

impl SyscallsPerMessage {
    pub(crate) fn new(scale: Scale) -> Self {
        let (warm_up, window, repetitions) = match scale {
            Scale::Quick => (Duration::from_millis(100), Duration::from_millis(250), 2),
            Scale::Full => (Duration::from_millis(200), Duration::from_secs(1), 5),
        };
        SyscallsPerMessage {
            warm_up,
            window,
            repetitions,
        }
    }
}

impl Workload for SyscallsPerMessage {
    fn name(&self) -> &'static str {
        "syscalls_per_message"
    }

    fn description(&self) -> String {
        format!(
            "system calls of the tcp_echo_64 server (alone in a child process) per echoed \
             message, {CONNECTIONS} connections, counted with perf stat over {} ms after {} \
             ms warm-up; client: the shared load generator",
            self.window.as_millis(),
            self.warm_up.as_millis()
        )
    }

    fn unit(&self) -> Unit {
        Unit::SyscallsPerMessage
    }

    fn max_repetitions(&self) -> Option<usize> {
        Some(self.repetitions)
    }

    fn extra_metrics(&self) -> &'static [ExtraMetric] {
        EXTRAS
    }

    fn uses_load_generator(&self) -> bool {
        true
    }

    fn run(&self, rt: &mut AnyRuntime, phase: Phase) -> Result<Sample, String> {
        if phase == Phase::WarmUp {
            return Ok(Sample::new(0.0));
        }
        let mut child = ServerChild::spawn(rt.kind(), rt.workers(), MESSAGE_SIZE)?;
        let progress = Arc::new(AtomicU64::new(0));
        let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
        let config = ClientConfig {
            progress: Some(progress.clone()),
            stop: Some(stop.0.clone()),
            // The client's own window is not used: it runs until stopped.
            ..ClientConfig::new(
                child.addr(),
                CONNECTIONS,
                MESSAGE_SIZE,
                Duration::ZERO,
                Duration::from_secs(3_600),
            )
        };
        let started = Instant::now();
        let client = spawn_client(config).map_err(|e| format!("load generator: {e}"))?;
        // perf starts while the client warms up.
        let mut counter = SyscallCounter::attach(child.pid());
        thread::sleep(self.warm_up.saturating_sub(started.elapsed()));

        let ring_before = child.stats()?;
        let ring_messages_before = progress.load(Ordering::Relaxed);
        counter.start()?;
        let (messages_before, window_start) = (progress.load(Ordering::Relaxed), Instant::now());
        thread::sleep(self.window);
        counter.stop()?;
        let (messages_after, window) = (progress.load(Ordering::Relaxed), window_start.elapsed());
        let ring_after = child.stats()?;
        let ring_messages_after = progress.load(Ordering::Relaxed);

        stop.0.store(true, Ordering::Relaxed);
        let report = client
            .join()
            .map_err(|_| "the load generator panicked".to_owned())?;
        report.map_err(|e| format!("load generator: {e}"))?;
        let counts = counter.counts()?;
        child.finish()?;

        let messages = messages_after - messages_before;
        if messages == 0 {
            return Err("no message was echoed while counting".to_owned());
        }
        if counts.tool != crate::child::Tool::Perf {
            runner::warn(format!("counted with {}", counts.tool.describe()));
        }
        let per_message = |n: u64| n as f64 / messages as f64;
        let mut extras = vec![("messages_per_sec", messages as f64 / window.as_secs_f64())];
        for (name, count) in &counts.by_name {
            if let Some(key) = per_message_key(name) {
                extras.push((key, per_message(*count)));
            }
        }
        if let (Some(after), Some(before)) = (ring_after.ring_enters, ring_before.ring_enters) {
            let ring_messages = ring_messages_after - ring_messages_before;
            extras.push((
                "ring_enters_per_message",
                (after - before) as f64 / ring_messages.max(1) as f64,
            ));
        }
        Ok(Sample {
            value: per_message(counts.total),
            extras,
        })
    }
}

/// Stops the load generator when dropped, on every way out of a sample.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::NAMED;

    #[test]
    fn every_named_call_has_an_extra() {
        for name in NAMED {
            assert!(per_message_key(name).is_some(), "{name}");
        }
        assert_eq!(per_message_key("messages_per_sec"), None);
    }
}
