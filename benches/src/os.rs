//! The few operating-system calls the I/O workloads need: CPU affinity, the descriptor
//! limit, a process's resident memory, CPU clocks (this process's, and another's read from
//! outside it), context switches, and sending a signal.

use std::fs;
use std::io;
use std::mem;
use std::time::Duration;

/// The CPUs this process may run on: its main thread's affinity, which the suite never
/// changes (sample threads confine themselves, not the process). Empty if it cannot be read.
pub fn process_cpus() -> Vec<usize> {
    // SAFETY: `getpid` has no preconditions; the main thread's id is the process id.
    let main_thread = unsafe { libc::getpid() };
    affinity(main_thread)
}

/// The CPUs the calling thread may run on (after [`confine_to`], those it named). Empty if
/// they cannot be read.
pub fn thread_cpus() -> Vec<usize> {
    // Thread id 0 is the calling thread.
    affinity(0)
}

/// The affinity of thread `tid`, as a list of CPUs; empty if it cannot be read.
fn affinity(tid: libc::pid_t) -> Vec<usize> {
    // SAFETY: `cpu_set_t` is a plain bit array, for which all zeroes is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    let size = mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid, writable `cpu_set_t` of `size` bytes.
    if unsafe { libc::sched_getaffinity(tid, size, &mut set) } != 0 {
        return Vec::new();
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `CPU_ISSET` reads bit `cpu` of `set`, which is within `CPU_SETSIZE`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect()
}

/// The load generator's CPU: the one named by `RINGLOOP_BENCH_CLIENT_CPU` if set, else the
/// last CPU of [`process_cpus`].
pub fn client_cpu() -> Option<usize> {
    client_cpu_override().or_else(|| process_cpus().last().copied())
}

/// The CPUs left to a server next to the load generator: [`process_cpus`] without
/// [`client_cpu`]. Empty on a machine of one CPU (the server then has to share it).
pub fn server_cpus() -> Vec<usize> {
    let client = client_cpu();
    process_cpus()
        .into_iter()
        .filter(|&cpu| Some(cpu) != client)
        .collect()
}

/// Pins the calling thread to [`client_cpu`]; returns that CPU.
///
/// The load generator pins itself so it competes with the server under test for one CPU
/// rather than migrating between both. The variable lets a run confine everything else
/// (`taskset -c 0`) and still put the load generator on another CPU
/// (`benches/scripts/pin-server.sh`). `None` if the affinity cannot be read or set (the
/// thread then runs unpinned).
pub fn pin_to_client_cpu() -> Option<usize> {
    let cpu = client_cpu()?;
    confine_to(&[cpu]).then_some(cpu)
}

/// The load generator's CPU named by `RINGLOOP_BENCH_CLIENT_CPU`, if set to a CPU number.
pub(crate) fn client_cpu_override() -> Option<usize> {
    std::env::var("RINGLOOP_BENCH_CLIENT_CPU")
        .ok()
        .and_then(|cpu| cpu.trim().parse().ok())
}

/// Confines the calling thread, and the threads it starts from now on, to `cpus`; false
/// if `cpus` is empty, names a CPU out of range, or the kernel refused.
pub fn confine_to(cpus: &[usize]) -> bool {
    if cpus.is_empty() || cpus.iter().any(|&cpu| cpu >= libc::CPU_SETSIZE as usize) {
        return false;
    }
    let size = mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `cpu_set_t` is a plain bit array, for which all zeroes is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    for &cpu in cpus {
        // SAFETY: `cpu` is below `CPU_SETSIZE` (checked above), so the bit is inside `set`.
        unsafe { libc::CPU_SET(cpu, &mut set) };
    }
    // SAFETY: `set` is a valid `cpu_set_t` of `size` bytes; pid 0 is this thread.
    unsafe { libc::sched_setaffinity(0, size, &set) == 0 }
}

/// CPU time used so far by `clock` (`CLOCK_PROCESS_CPUTIME_ID` or `CLOCK_THREAD_CPUTIME_ID`);
/// zero if the clock cannot be read.
fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids are the two CPU-time clocks.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time used so far by the whole process (all its threads).
pub fn process_cpu_time() -> Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time used so far by the calling thread.
pub fn thread_cpu_time() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time (user and system) used so far by process `pid`, all its threads, those that
/// have exited included: its CPU-time clock (`clock_getcpuclockid(3)`), read from outside
/// without disturbing it, to the nanosecond.
///
/// # Errors
///
/// The `clock_getcpuclockid(3)` or `clock_gettime(2)` error (e.g. no such process).
pub(crate) fn cpu_time_of(pid: u32) -> io::Result<Duration> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` is a valid, writable `clockid_t`.
    let error = unsafe { libc::clock_getcpuclockid(pid, &mut clock) };
    if error != 0 {
        return Err(io::Error::from_raw_os_error(error));
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; `clock` came from `clock_getcpuclockid`.
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// CPU time used so far by process `pid` as `/proc/PID/stat` has it: `utime + stime`, in
/// clock ticks (10 ms at the usual 100 Hz) converted to a duration. Coarser than
/// [`cpu_time_of`] but accounted apart from it, so the two cross-check each other.
///
/// # Errors
///
/// If the file cannot be read or parsed.
pub(crate) fn stat_cpu_time_of(pid: u32) -> io::Result<Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let ticks = stat_ticks(&stat)
        .ok_or_else(|| io::Error::other(format!("cannot parse /proc/{pid}/stat")))?;
    // SAFETY: `sysconf` has no memory-safety preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second)
        .ok()
        .filter(|&hz| hz > 0)
        .ok_or_else(|| io::Error::other("sysconf(_SC_CLK_TCK) failed"))?;
    Ok(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// Busy time of the whole machine so far, all CPUs summed, from `/proc/stat`: user, nice,
/// system, irq, softirq and steal ticks (everything but idle and iowait; guest time is
/// already inside user). It counts every process and the kernel's work done for none in
/// particular (interrupts, softirqs: loopback's receive path), so it is the whole cost of a
/// run on a machine that does nothing else. `None` if the file cannot be read or parsed.
pub fn system_busy_time() -> Option<Duration> {
    let stat = fs::read_to_string("/proc/stat").ok()?;
    let ticks = busy_ticks(stat.lines().next()?)?;
    // SAFETY: `sysconf` has no memory-safety preconditions.
    let per_second = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) })
        .ok()
        .filter(|&hz| hz > 0)?;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// The busy ticks of `/proc/stat`'s `cpu` line (see [`system_busy_time`]).
fn busy_ticks(cpu_line: &str) -> Option<u64> {
    let mut fields = cpu_line.split_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.map(|f| f.parse().ok()).collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice]
    let at = |i: usize| values.get(i).copied().unwrap_or(0);
    (values.len() >= 4).then(|| at(0) + at(1) + at(2) + at(5) + at(6) + at(7))
}

/// `utime + stime` (fields 14 and 15) of a `/proc/PID/stat` line. The command name (field
/// 2) is in parentheses and may hold spaces and parentheses, so fields are counted from the
/// last `)`.
fn stat_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Field 3 (the state) is the first after the name.
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

/// Context switches of every live thread of a process so far, from
/// `/proc/PID/task/*/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ContextSwitches {
    /// `voluntary_ctxt_switches`: a thread blocked (parked, waited in a system call) and
    /// was later woken; each is a wake-up.
    pub(crate) voluntary: u64,
    /// `nonvoluntary_ctxt_switches`: the scheduler took the CPU from a runnable thread.
    pub(crate) involuntary: u64,
}

impl ContextSwitches {
    /// Both kinds.
    pub(crate) fn total(self) -> u64 {
        self.voluntary + self.involuntary
    }

    /// The switches from `earlier` to `self` (threads that exited in between take their
    /// counts with them, so this saturates at zero).
    pub(crate) fn since(self, earlier: ContextSwitches) -> ContextSwitches {
        ContextSwitches {
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }
}

/// The context switches of every live thread of process `pid` so far.
///
/// # Errors
///
/// If `/proc/PID/task` cannot be listed (e.g. no such process).
pub(crate) fn context_switches(pid: u32) -> io::Result<ContextSwitches> {
    let mut sum = ContextSwitches::default();
    for task in fs::read_dir(format!("/proc/{pid}/task"))?.flatten() {
        let Ok(status) = fs::read_to_string(task.path().join("status")) else {
            continue; // the thread has just exited
        };
        let count = |name: &str| status_value(&status, name).unwrap_or(0);
        sum.voluntary += count("voluntary_ctxt_switches:");
        sum.involuntary += count("nonvoluntary_ctxt_switches:");
    }
    Ok(sum)
}

/// Raises this process's `RLIMIT_NOFILE`: both limits to 65,536 if the hard one
/// is lower and the process may raise it, else the soft limit to the hard one; returns the
/// new soft limit.
///
/// # Errors
///
/// The `getrlimit(2)`/`setrlimit(2)` error.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_max < WANTED_NOFILE {
        // Only a privileged process may raise its hard limit; others keep theirs.
        let raised = libc::rlimit {
            rlim_cur: WANTED_NOFILE,
            rlim_max: WANTED_NOFILE,
        };
        // SAFETY: `raised` is a valid `rlimit` whose soft limit does not exceed the hard one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(WANTED_NOFILE);
        }
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit` whose soft limit does not exceed the hard one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}

/// The descriptor limit [`raise_nofile_limit`] asks for when it may raise the hard one:
/// room for 10,000 connections with both ends in this process, and then some.
const WANTED_NOFILE: libc::rlim_t = 65_536;

/// Resident memory of this process (`VmRSS` of `/proc/self/status`), in bytes.
///
/// # Errors
///
/// If `/proc` cannot be read or has no `VmRSS` line.
pub fn resident_bytes() -> io::Result<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    status_kib(&status, "VmRSS:")
        .map(|kib| kib * 1024)
        .ok_or_else(|| io::Error::other("no VmRSS line in /proc/self/status"))
}

/// The value of a `Name:   123 kB` line of a `/proc/<pid>/status` file, in KiB.
fn status_kib(status: &str, name: &str) -> Option<u64> {
    status_value(status, name)
}

/// The number on the line of a `/proc/<pid>/status` file that starts with `name`.
fn status_value(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// Sends `SIGINT` to process `pid` (how `perf` and `strace` are told to print and exit).
///
/// # Errors
///
/// The `kill(2)` error.
pub(crate) fn interrupt(pid: u32) -> io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: `kill` has no memory-safety preconditions.
    if unsafe { libc::kill(pid, libc::SIGINT) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_ticks_leave_out_idle_and_iowait() {
        let line = "cpu  100 2 30 5000 40 6 7 8 9 0";
        assert_eq!(busy_ticks(line), Some(100 + 2 + 30 + 6 + 7 + 8));
        assert_eq!(busy_ticks("cpu0 1 2 3 4"), None);
        assert_eq!(busy_ticks("cpu  1 x 3 4"), None);
        assert!(system_busy_time().is_some());
    }

    #[test]
    fn status_lines_parse() {
        let status = "Name:\tx\nVmPeak:\t  2000 kB\nVmRSS:\t    1234 kB\nThreads:\t3\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(1234));
        assert_eq!(status_kib(status, "VmSwap:"), None);
        assert!(resident_bytes().unwrap() > 0);
    }

    #[test]
    fn stat_lines_parse() {
        // The command name may hold spaces and parentheses.
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 99 0 0 0 7 5 0 0 20 0 1 0 74340";
        assert_eq!(stat_ticks(stat), Some(12));
        assert_eq!(stat_ticks("42 (x) S 1"), None);
    }

    #[test]
    fn another_process_can_be_read_from_outside() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = child.id();
        let cpu = cpu_time_of(pid);
        let stat = stat_cpu_time_of(pid);
        let switches = context_switches(pid);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(cpu.unwrap() < Duration::from_secs(1));
        assert!(stat.unwrap() < Duration::from_secs(1));
        switches.unwrap();
        assert!(context_switches(std::process::id()).unwrap().total() > 0);
    }

    #[test]
    fn descriptor_limit_is_at_its_hard_limit() {
        let soft = raise_nofile_limit().unwrap();
        assert!(soft >= 1024, "{soft}");
    }
}
