//! The few operating-system calls the I/O workloads need: CPU affinity, the descriptor
//! limit, a process's resident memory, CPU clocks, and sending a signal.

use std::fs;
use std::io;
use std::mem;
use std::time::Duration;

/// Pins the calling thread to the CPU named by `RINGLOOP_BENCH_CLIENT_CPU` if set, else to
/// the last CPU it may run on; returns that CPU.
///
/// The load generator pins itself so it competes with the server under test for one CPU
/// rather than migrating between both. The variable lets a run confine everything else
/// (`taskset -c 0`, which the load generator's thread inherits) and still put the load
/// generator on another CPU (`benches/scripts/pin-server.sh`). `None` if the affinity cannot
/// be read or set (the thread then runs unpinned).
pub fn pin_to_last_cpu() -> Option<usize> {
    if let Some(cpu) = client_cpu_override() {
        return pin_to(cpu);
    }
    // SAFETY: `cpu_set_t` is a plain bit array, for which all zeroes is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { mem::zeroed() };
    let size = mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid, writable `cpu_set_t` of `size` bytes; pid 0 is this thread.
    if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
        return None;
    }
    // SAFETY: `CPU_ISSET` reads bit `cpu` of `set`, which is within `CPU_SETSIZE`.
    let cpu = (0..libc::CPU_SETSIZE as usize)
        .rev()
        .find(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })?;
    pin_to(cpu)
}

/// The load generator's CPU named by `RINGLOOP_BENCH_CLIENT_CPU`, if set to a CPU number.
pub(crate) fn client_cpu_override() -> Option<usize> {
    std::env::var("RINGLOOP_BENCH_CLIENT_CPU")
        .ok()
        .and_then(|cpu| cpu.trim().parse().ok())
}

/// Pins the calling thread to `cpu` alone; `None` if `cpu` is out of range or refused.
fn pin_to(cpu: usize) -> Option<usize> {
    if cpu >= libc::CPU_SETSIZE as usize {
        return None;
    }
    let size = mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `cpu_set_t` is a plain bit array, for which all zeroes is a valid (empty) set.
    let mut only: libc::cpu_set_t = unsafe { mem::zeroed() };
    // SAFETY: `cpu` is below `CPU_SETSIZE`, so the bit is inside `only`.
    unsafe { libc::CPU_SET(cpu, &mut only) };
    // SAFETY: `only` is a valid `cpu_set_t` of `size` bytes; pid 0 is this thread.
    let pinned = unsafe { libc::sched_setaffinity(0, size, &only) } == 0;
    pinned.then_some(cpu)
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

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit; returns the new soft limit.
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
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid `rlimit` whose soft limit does not exceed the hard one.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(limit.rlim_cur)
}

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
    fn status_lines_parse() {
        let status = "Name:\tx\nVmPeak:\t  2000 kB\nVmRSS:\t    1234 kB\nThreads:\t3\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(1234));
        assert_eq!(status_kib(status, "VmSwap:"), None);
        assert!(resident_bytes().unwrap() > 0);
    }

    #[test]
    fn descriptor_limit_is_at_its_hard_limit() {
        let soft = raise_nofile_limit().unwrap();
        assert!(soft >= 1024, "{soft}");
    }
}
