//! Turning a failed ring set-up into an error that names the cause and the fix.
//!
//! `io_uring_setup(2)` fails for reasons that have nothing to do with the caller's code, and
//! the raw errno ("Operation not permitted") does not say which. [`explain`] looks at the
//! errno and at the state of the machine (the `kernel.io_uring_disabled` sysctl, the
//! locked-memory limit) and says what to change. It is a pure function of its inputs so that
//! every branch is unit-tested without a hostile kernel.

use std::fmt;
use std::io;

/// What [`explain`] knows about the machine.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Machine {
    /// The value of `/proc/sys/kernel/io_uring_disabled`, if readable (Linux 6.6+).
    pub(crate) io_uring_disabled: Option<u8>,
    /// The soft `RLIMIT_MEMLOCK`, in bytes, if known.
    pub(crate) memlock: Option<u64>,
}

impl Machine {
    /// Reads the facts from `/proc` and `getrlimit`.
    pub(crate) fn probe() -> Machine {
        let io_uring_disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let mut rlim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `rlim` is a valid, writable rlimit for the duration of the call.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut rlim) } == 0;
        let memlock = (ok && rlim.rlim_cur != libc::RLIM_INFINITY).then_some(rlim.rlim_cur);
        Machine {
            io_uring_disabled,
            memlock,
        }
    }
}

/// The error returned when io_uring cannot be used; its source is the OS error.
#[derive(Debug)]
struct SetupError {
    message: String,
    source: io::Error,
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `source`, the failure of `what` (a syscall or step), in an error naming cause and fix.
pub(crate) fn explain(source: io::Error, what: &str, entries: u32, machine: Machine) -> io::Error {
    let cause = match source.raw_os_error() {
        Some(libc::ENOSYS) => "io_uring is not available: this kernel is too old (ringloop \
             needs Linux 5.11 or newer) or was built without CONFIG_IO_URING. Fix: run on a \
             newer kernel"
            .to_string(),
        Some(libc::EPERM) | Some(libc::EACCES) => match machine.io_uring_disabled {
            Some(2) => "io_uring is disabled on this machine by the sysctl \
                 kernel.io_uring_disabled=2. Fix: `sysctl -w kernel.io_uring_disabled=0` \
                 (as root)"
                .to_string(),
            Some(1) => "io_uring is restricted by the sysctl kernel.io_uring_disabled=1 to \
                 processes with CAP_SYS_ADMIN or in the group kernel.io_uring_group. Fix: add \
                 this user to that group, or `sysctl -w kernel.io_uring_disabled=0`"
                .to_string(),
            _ => "io_uring was denied (EPERM), most likely by a seccomp filter: Docker's and \
                 containerd's default profiles block io_uring_setup, io_uring_enter and \
                 io_uring_register. Fix: run the container with a seccomp profile that allows \
                 those three syscalls (e.g. `--security-opt seccomp=<profile.json>`)"
                .to_string(),
        },
        Some(libc::ENOMEM) => {
            let limit = match machine.memlock {
                Some(bytes) => format!("{} KiB", bytes / 1024),
                None => "unknown".to_string(),
            };
            format!(
                "the kernel could not allocate an io_uring of {entries} entries (ENOMEM). On \
                 Linux before 5.12 rings are charged to the locked-memory limit \
                 (RLIMIT_MEMLOCK, now {limit}). Fix: raise it (`ulimit -l`, LimitMEMLOCK= in \
                 systemd, `--ulimit memlock=-1` in docker) or ask for fewer entries"
            )
        }
        Some(libc::EINVAL) => format!(
            "the kernel rejected the io_uring parameters (EINVAL) for {entries} entries: the \
             kernel may be too old for a flag ringloop uses (Linux 5.11+ is needed). Fix: use \
             a newer kernel or fewer entries"
        ),
        Some(libc::EMFILE) | Some(libc::ENFILE) => "too many open files to create an \
             io_uring (EMFILE/ENFILE). Fix: raise the open-files limit (`ulimit -n`)"
            .to_string(),
        _ => format!("io_uring could not be set up: {source}"),
    };
    io::Error::new(
        source.kind(),
        SetupError {
            message: format!("ringloop: {what} failed: {cause}"),
            source,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(errno: i32, machine: Machine) -> String {
        explain(
            io::Error::from_raw_os_error(errno),
            "io_uring_setup",
            256,
            machine,
        )
        .to_string()
    }

    #[test]
    fn every_cause_names_its_fix() {
        assert!(message(libc::ENOSYS, Machine::default()).contains("5.11"));
        let disabled = Machine {
            io_uring_disabled: Some(2),
            memlock: None,
        };
        assert!(message(libc::EPERM, disabled).contains("kernel.io_uring_disabled=0"));
        let group = Machine {
            io_uring_disabled: Some(1),
            memlock: None,
        };
        assert!(message(libc::EPERM, group).contains("io_uring_group"));
        assert!(message(libc::EPERM, Machine::default()).contains("seccomp"));
        let small = Machine {
            io_uring_disabled: Some(0),
            memlock: Some(64 * 1024),
        };
        let m = message(libc::ENOMEM, small);
        assert!(m.contains("64 KiB") && m.contains("ulimit -l"), "{m}");
        assert!(message(libc::EMFILE, Machine::default()).contains("ulimit -n"));
    }

    #[test]
    fn keeps_the_os_error_as_source_and_kind() {
        let err = explain(
            io::Error::from_raw_os_error(libc::EPERM),
            "io_uring_setup",
            8,
            Machine::default(),
        );
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        let inner = err.get_ref().and_then(|e| e.source());
        assert!(inner.is_some());
    }
}
