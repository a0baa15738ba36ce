//! The parent's side: starting the server child, asking for its figures, stopping it.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::{child_exe, server, CHILD_ARG};
use crate::runtimes::RuntimeKind;

/// How long the child may take to stop once its input is closed.
const EXIT_GRACE: Duration = Duration::from_secs(10);

/// The child's figures at one moment (see `server.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChildStats {
    /// Resident memory, bytes.
    pub(crate) rss: u64,
    /// Live heap bytes counted since the child started, if it counts.
    pub(crate) heap: Option<i64>,
    /// ringloop's `io_uring_enter` calls so far, on ringloop.
    pub(crate) ring_enters: Option<u64>,
    /// Connections accepted so far.
    pub(crate) connections: usize,
    /// Connection tasks whose first read has been polled.
    pub(crate) first_reads: usize,
    /// Connection tasks that have ended.
    pub(crate) ended: usize,
}

impl ChildStats {
    fn parse(line: &str) -> Result<ChildStats, String> {
        let bad = || format!("unexpected reply from the server child: {line:?}");
        let fields: Vec<&str> = line.split_whitespace().collect();
        let ["stats", rss, heap, enters, conns, first_reads, ended] = fields[..] else {
            return Err(bad());
        };
        let optional = |s: &str| (s != "-").then(|| s.parse::<u64>());
        Ok(ChildStats {
            rss: rss.parse().map_err(|_| bad())?,
            heap: (heap != "-")
                .then(|| heap.parse::<i64>())
                .transpose()
                .map_err(|_| bad())?,
            ring_enters: optional(enters).transpose().map_err(|_| bad())?,
            connections: conns.parse().map_err(|_| bad())?,
            first_reads: first_reads.parse().map_err(|_| bad())?,
            ended: ended.parse().map_err(|_| bad())?,
        })
    }
}

/// A running server child; killed if dropped before [`ServerChild::finish`].
#[derive(Debug)]
pub(crate) struct ServerChild {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    addr: SocketAddr,
}

impl ServerChild {
    /// Starts an echo server on `kind` (`workers` workers if multi-threaded) whose
    /// connection tasks read into `buffer_size`-byte buffers; returns once it listens.
    pub(crate) fn spawn(
        kind: RuntimeKind,
        workers: usize,
        buffer_size: usize,
    ) -> Result<ServerChild, String> {
        let exe = child_exe()?;
        let mut child = Command::new(&exe)
            .args([CHILD_ARG, server::ROLE, kind.name()])
            .arg(workers.to_string())
            .arg(buffer_size.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let mut child = ServerChild {
            child,
            stdin,
            stdout: BufReader::new(stdout.ok_or("the server child's output is not piped")?),
            addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)),
        };
        let line = child.read_line()?;
        let port = line
            .strip_prefix("ready ")
            .and_then(|port| port.trim().parse::<u16>().ok())
            .ok_or_else(|| format!("the server child did not start: {line:?}"))?;
        child.addr.set_port(port);
        Ok(child)
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Asks for its figures now.
    pub(crate) fn stats(&mut self) -> Result<ChildStats, String> {
        let stdin = self.stdin.as_mut().ok_or("the server child is stopping")?;
        stdin
            .write_all(b"stats\n")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("the server child is gone: {e}"))?;
        ChildStats::parse(&self.read_line()?)
    }

    /// Stops the server (close your connections first) and waits for the child to exit.
    pub(crate) fn finish(mut self) -> Result<(), String> {
        drop(self.stdin.take());
        let deadline = Instant::now() + EXIT_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    let said = self.read_line().unwrap_or_default();
                    return Err(format!("the server child failed ({status}): {said}"));
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    return Err(format!(
                        "the server child did not stop within {EXIT_GRACE:?}"
                    ))
                }
                Err(e) => return Err(format!("cannot wait for the server child: {e}")),
            }
        }
    }

    fn read_line(&mut self) -> Result<String, String> {
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("the server child exited".to_owned()),
            Ok(_) if line.starts_with("error ") => Err(format!(
                "the server child failed: {}",
                line["error ".len()..].trim()
            )),
            Ok(_) => Ok(line.trim_end().to_owned()),
            Err(e) => Err(format!("cannot read from the server child: {e}")),
        }
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_lines_parse() {
        let s = ChildStats::parse("stats 4096 -12 - 3 2 1").unwrap();
        assert_eq!(
            s,
            ChildStats {
                rss: 4096,
                heap: Some(-12),
                ring_enters: None,
                connections: 3,
                first_reads: 2,
                ended: 1,
            }
        );
        let s = ChildStats::parse("stats 1 - 77 0 0 0").unwrap();
        assert_eq!((s.heap, s.ring_enters), (None, Some(77)));
        assert!(ChildStats::parse("stats 1 2 3").is_err());
        assert!(ChildStats::parse("stats 1 - 77 0").is_err());
        assert!(ChildStats::parse("ready 80").is_err());
    }
}
