//! Counting another process's system calls over a window.
//!
//! In order of preference:
//!
//! 1. **perf**: `perf stat -e raw_syscalls:sys_enter,...` attached to the process with
//!    counting off (`-D -1`), switched on and off through its control fifo, each switch
//!    acknowledged, so the window is exact to within the acknowledgement. Tracepoints cost
//!    the traced process little, so the server runs at nearly its normal speed. The
//!    breakdown counts a few calls by name (`syscalls:sys_enter_<name>`).
//! 2. **strace**: `strace -f -c -p PID` from the start of the window to its end. ptrace
//!    stops the process at every system call, which slows a busy server down a lot and can
//!    change how it batches its work; the report says which tool counted.
//! 3. Neither installed: the context switches of the process's threads (from
//!    `/proc/PID/task/*/status`), which are not system calls; the report says so.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::os;

/// System calls counted by name as well as in the total (`epoll_wait` and `epoll_pwait`
/// are added up as `epoll_wait`).
pub(crate) const NAMED: [&str; 7] = [
    "io_uring_enter",
    "epoll_wait",
    "futex",
    "recvfrom",
    "sendto",
    "read",
    "write",
];

/// How long perf or strace may take to start, answer or finish.
const TOOL_TIMEOUT: Duration = Duration::from_secs(10);

/// A total and some counts by name.
type Counted = (u64, Vec<(&'static str, u64)>);

/// Which way the counts were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    /// `perf stat` on the syscall tracepoints.
    Perf,
    /// `strace -c`.
    Strace,
    /// Context switches: neither tool was available.
    ContextSwitches,
}

impl Tool {
    /// How the report names it.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Tool::Perf => "perf stat (raw_syscalls:sys_enter)",
            Tool::Strace => "strace -c -f (ptrace: slows the server down)",
            Tool::ContextSwitches => {
                "CONTEXT SWITCHES, not system calls: neither perf nor strace could be run"
            }
        }
    }
}

/// What was counted over the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyscallCounts {
    /// How.
    pub(crate) tool: Tool,
    /// Every system call (or context switch).
    pub(crate) total: u64,
    /// Some calls by name (those of [`NAMED`] that the tool could count).
    pub(crate) by_name: Vec<(&'static str, u64)>,
}

/// Counts a process's system calls between [`start`](Self::start) and
/// [`stop`](Self::stop); see the module docs.
#[derive(Debug)]
pub(crate) struct SyscallCounter {
    pid: u32,
    how: How,
}

#[derive(Debug)]
enum How {
    Perf(Perf),
    /// strace is started by `start`.
    Strace(Option<Strace>),
    ContextSwitches(Option<u64>, Option<u64>),
}

impl SyscallCounter {
    /// Gets ready to count `pid`'s system calls; nothing is counted before `start`.
    pub(crate) fn attach(pid: u32) -> SyscallCounter {
        let how = match Perf::attach(pid) {
            Ok(perf) => How::Perf(perf),
            Err(_) if tool_runs("strace") => How::Strace(None),
            Err(_) => How::ContextSwitches(None, None),
        };
        SyscallCounter { pid, how }
    }

    /// Which tool counts.
    pub(crate) fn tool(&self) -> Tool {
        match self.how {
            How::Perf(_) => Tool::Perf,
            How::Strace(_) => Tool::Strace,
            How::ContextSwitches(..) => Tool::ContextSwitches,
        }
    }

    /// Starts the window; returns once counting is on.
    pub(crate) fn start(&mut self) -> Result<(), String> {
        match &mut self.how {
            How::Perf(perf) => perf.command("enable"),
            How::Strace(strace) => {
                *strace = Some(Strace::attach(self.pid)?);
                Ok(())
            }
            How::ContextSwitches(start, _) => {
                *start = Some(context_switches(self.pid)?);
                Ok(())
            }
        }
    }

    /// Ends the window; returns once counting is off (perf) or asked to stop (strace).
    pub(crate) fn stop(&mut self) -> Result<(), String> {
        match &mut self.how {
            How::Perf(perf) => perf.command("disable"),
            How::Strace(strace) => strace.as_mut().ok_or("strace never started")?.interrupt(),
            How::ContextSwitches(_, end) => {
                *end = Some(context_switches(self.pid)?);
                Ok(())
            }
        }
    }

    /// The counts of the window, once the tool has finished.
    pub(crate) fn counts(self) -> Result<SyscallCounts, String> {
        let tool = self.tool();
        let (total, by_name) = match self.how {
            How::Perf(perf) => perf.finish()?,
            How::Strace(strace) => strace.ok_or("strace never started")?.finish()?,
            How::ContextSwitches(Some(start), Some(end)) => (end - start, Vec::new()),
            How::ContextSwitches(..) => return Err("the window was not closed".to_owned()),
        };
        Ok(SyscallCounts {
            tool,
            total,
            by_name,
        })
    }
}

/// Whether `tool --version` runs.
fn tool_runs(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A fresh private directory for one tool's files.
fn scratch_dir(tool: &str) -> io::Result<PathBuf> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ringloop-bench-{tool}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Waits for a child tool to exit; kills it after [`TOOL_TIMEOUT`].
fn wait_for(child: &mut Child, tool: &str) -> Result<(), String> {
    let deadline = Instant::now() + TOOL_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Ok(()),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{tool} did not finish within {TOOL_TIMEOUT:?}"));
            }
            Err(e) => return Err(format!("cannot wait for {tool}: {e}")),
        }
    }
}

/// `perf stat` attached with counting off, driven through its control fifo.
#[derive(Debug)]
struct Perf {
    child: Child,
    dir: PathBuf,
    ctl: File,
    ack: File,
    out: PathBuf,
}

impl Perf {
    fn attach(pid: u32) -> Result<Perf, String> {
        let dir = scratch_dir("perf").map_err(|e| e.to_string())?;
        let (ctl_path, ack_path, out) = (dir.join("ctl"), dir.join("ack"), dir.join("out"));
        make_fifo(&ctl_path).map_err(|e| format!("mkfifo: {e}"))?;
        make_fifo(&ack_path).map_err(|e| format!("mkfifo: {e}"))?;
        // Our end of the ack fifo first, so perf's open for writing finds a reader.
        let ack = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&ack_path)
            .map_err(|e| e.to_string())?;
        let mut events = vec!["raw_syscalls:sys_enter".to_owned()];
        events.extend(NAMED.iter().map(|n| format!("syscalls:sys_enter_{n}")));
        events.push("syscalls:sys_enter_epoll_pwait".to_owned());
        let control = format!("fifo:{},{}", ctl_path.display(), ack_path.display());
        let mut child = Command::new("perf")
            .args(["stat", "-x", ",", "--no-big-num", "-D", "-1", "--control"])
            .arg(&control)
            .arg("-e")
            .arg(events.join(","))
            .arg("-o")
            .arg(&out)
            .arg("-p")
            .arg(pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run perf: {e}"))?;
        // perf opens the control fifo for reading once it is set up; until then, opening
        // it for writing without blocking fails with ENXIO.
        let deadline = Instant::now() + TOOL_TIMEOUT;
        let ctl = loop {
            let opened = OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&ctl_path);
            match opened {
                Ok(ctl) => break ctl,
                Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {}
                Err(e) => return Err(format!("cannot open perf's control fifo: {e}")),
            }
            if let Ok(Some(_)) = child.try_wait() {
                let mut said = String::new();
                if let Some(mut stderr) = child.stderr.take() {
                    let _ = stderr.read_to_string(&mut said);
                }
                let _ = fs::remove_dir_all(&dir);
                return Err(format!("perf failed: {}", said.trim()));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let _ = fs::remove_dir_all(&dir);
                return Err("perf did not start".to_owned());
            }
            thread::sleep(Duration::from_millis(1));
        };
        Ok(Perf {
            child,
            dir,
            ctl,
            ack,
            out,
        })
    }

    /// Sends `enable` or `disable` and waits for perf's `ack`.
    fn command(&mut self, command: &str) -> Result<(), String> {
        self.ctl
            .write_all(format!("{command}\n").as_bytes())
            .map_err(|e| format!("perf {command}: {e}"))?;
        let deadline = Instant::now() + TOOL_TIMEOUT;
        // perf writes `ack\n` and a NUL.
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"ack\n") {
            if Instant::now() > deadline {
                return Err(format!("perf did not acknowledge `{command}`"));
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("perf exited ({status}) before acknowledging"));
            }
            wait_readable(&self.ack, Duration::from_millis(20));
            let mut buf = [0_u8; 64];
            match self.ack.read(&mut buf) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("reading perf's ack: {e}")),
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Counted, String> {
        os::interrupt(self.child.id()).map_err(|e| format!("cannot stop perf: {e}"))?;
        wait_for(&mut self.child, "perf")?;
        let text = fs::read_to_string(&self.out).map_err(|e| format!("perf's output: {e}"))?;
        parse_perf(&text)
    }
}

impl Drop for Perf {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `file` has data (or `timeout` passes).
fn wait_readable(file: &File, timeout: Duration) {
    let mut pollfd = libc::pollfd {
        fd: file.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: `pollfd` is one valid, writable `pollfd`, and the count says one.
    unsafe { libc::poll(&mut pollfd, 1, millis) };
}

fn make_fifo(path: &Path) -> io::Result<()> {
    let path = CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    if unsafe { libc::mkfifo(path.as_ptr(), 0o600) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Parses `perf stat -x ,` output: `count,unit,event,...` lines; `<not counted>` is 0.
fn parse_perf(text: &str) -> Result<Counted, String> {
    let mut total = None;
    let mut by_name: Vec<(&'static str, u64)> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(count), Some(event)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        let count = count.trim().parse::<u64>().unwrap_or(0);
        if *event == "raw_syscalls:sys_enter" {
            total = Some(count);
        } else if let Some(name) = event.strip_prefix("syscalls:sys_enter_") {
            let name = if name == "epoll_pwait" {
                "epoll_wait"
            } else {
                name
            };
            if let Some(&named) = NAMED.iter().find(|n| **n == name) {
                match by_name.iter_mut().find(|(n, _)| *n == named) {
                    Some((_, sum)) => *sum += count,
                    None => by_name.push((named, count)),
                }
            }
        }
    }
    let total = total.ok_or_else(|| format!("no total in perf's output: {text:?}"))?;
    Ok((total, by_name))
}

/// `strace -f -c` attached for the window.
#[derive(Debug)]
struct Strace {
    child: Child,
    dir: PathBuf,
    out: PathBuf,
}

impl Strace {
    /// Starts strace and returns once it has attached.
    fn attach(pid: u32) -> Result<Strace, String> {
        let dir = scratch_dir("strace").map_err(|e| e.to_string())?;
        let out = dir.join("out");
        let mut child = Command::new("strace")
            .args(["-f", "-c", "-o"])
            .arg(&out)
            .arg("-p")
            .arg(pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run strace: {e}"))?;
        let stderr = child.stderr.take().ok_or("strace's stderr is not piped")?;
        let mut lines = BufReader::new(stderr).lines();
        // "strace: Process N attached with K threads" once every thread is traced.
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("attached") => break,
                Some(Ok(_)) => {}
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("strace did not attach".to_owned());
                }
            }
        }
        // Keep draining its stderr so strace never blocks on a full pipe.
        thread::spawn(move || lines.for_each(drop));
        Ok(Strace { child, dir, out })
    }

    fn interrupt(&mut self) -> Result<(), String> {
        os::interrupt(self.child.id()).map_err(|e| format!("cannot stop strace: {e}"))
    }

    fn finish(mut self) -> Result<Counted, String> {
        wait_for(&mut self.child, "strace")?;
        let text = fs::read_to_string(&self.out).map_err(|e| format!("strace's output: {e}"))?;
        parse_strace(&text)
    }
}

impl Drop for Strace {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Parses the table of `strace -c`: `% time, seconds, usecs/call, calls, [errors,] syscall`.
fn parse_strace(text: &str) -> Result<Counted, String> {
    let mut total = None;
    let mut by_name: Vec<(&'static str, u64)> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 5 || fields[0].parse::<f64>().is_err() {
            continue;
        }
        let (Ok(calls), Some(name)) = (fields[3].parse::<u64>(), fields.last()) else {
            continue;
        };
        let name = if *name == "epoll_pwait" {
            "epoll_wait"
        } else {
            name
        };
        if name == "total" {
            total = Some(calls);
        } else if let Some(&named) = NAMED.iter().find(|n| **n == name) {
            match by_name.iter_mut().find(|(n, _)| *n == named) {
                Some((_, sum)) => *sum += calls,
                None => by_name.push((named, calls)),
            }
        }
    }
    let total = total.ok_or_else(|| format!("no total in strace's summary: {text:?}"))?;
    Ok((total, by_name))
}

/// Voluntary and involuntary context switches of every thread of `pid` so far.
fn context_switches(pid: u32) -> Result<u64, String> {
    os::context_switches(pid)
        .map(os::ContextSwitches::total)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_output_parses() {
        let text = "# started on Mon Nov 23 09:34:53 2026\n\n\
                    5000,,raw_syscalls:sys_enter,295151958,100.00,,\n\
                    1200,,syscalls:sys_enter_io_uring_enter,295151958,100.00,,\n\
                    30,,syscalls:sys_enter_epoll_wait,295151958,100.00,,\n\
                    12,,syscalls:sys_enter_epoll_pwait,295151958,100.00,,\n\
                    <not counted>,,syscalls:sys_enter_futex,0,100.00,,\n";
        let (total, by_name) = parse_perf(text).unwrap();
        assert_eq!(total, 5000);
        assert_eq!(
            by_name,
            [("io_uring_enter", 1200), ("epoll_wait", 42), ("futex", 0)]
        );
        assert!(parse_perf("# nothing\n").is_err());
    }

    #[test]
    fn strace_summary_parses() {
        let text = "\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 60.00    0.000060           3        20           recvfrom
 30.00    0.000030           1        25         5 epoll_wait
 10.00    0.000010           1         5           epoll_pwait
------ ----------- ----------- --------- --------- ----------------
100.00    0.000100           2        50         5 total
";
        let (total, by_name) = parse_strace(text).unwrap();
        assert_eq!(total, 50);
        assert_eq!(by_name, [("recvfrom", 20), ("epoll_wait", 30)]);
    }
}
