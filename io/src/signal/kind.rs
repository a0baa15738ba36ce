//! [`SignalKind`]: which signal, and whether it can be listened to.

use std::fmt;
use std::io;

/// A Unix signal, by number: the constructors name the usual ones, and
/// [`from_raw`](SignalKind::from_raw) takes any other.
///
/// Making one checks nothing; [`signal`](crate::signal::signal) (and the runtime's
/// `add_signal_handler`) reject a signal that cannot be listened to, with an
/// [`InvalidInput`](io::ErrorKind::InvalidInput) error that names it.
///
/// # Examples
/// ```
/// use ringloop::signal::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
/// assert_eq!(SignalKind::from_raw(libc::SIGTERM), SignalKind::terminate());
/// assert_eq!(SignalKind::hangup().to_string(), "SIGHUP");
/// assert_eq!(SignalKind::from_raw(libc::SIGRTMIN() + 1).to_string(), "SIGRTMIN+1");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// The signal numbered `signum` (`libc::SIGUSR1`, ...), valid or not.
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw_value(&self) -> i32 {
        self.0
    }

    /// `SIGINT`: Ctrl-C in a terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite request to exit (`kill`, systemd, Kubernetes).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; by convention, daemons reload their configuration.
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: Ctrl-\ in a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`, for the application's own use.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`, for the application's own use.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGALRM`: a timer of `alarm(2)` or `setitimer(2)` expired.
    pub const fn alarm() -> SignalKind {
        SignalKind(libc::SIGALRM)
    }

    /// `SIGPIPE`: a write to a pipe with no reader.
    pub const fn pipe() -> SignalKind {
        SignalKind(libc::SIGPIPE)
    }

    /// `SIGWINCH`: the terminal's window changed size.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// The signal's name (`"SIGINT"`, `"SIGRTMIN+3"`), or `None` for a number that names no
    /// signal.
    pub fn name(&self) -> Option<String> {
        if let Some(name) = standard_name(self.0) {
            return Some(name.to_owned());
        }
        let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
        (min..=max)
            .contains(&self.0)
            .then(|| format!("SIGRTMIN+{}", self.0 - min))
    }

    /// Whether a listener may be registered for this signal: `Ok`, or the
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) error that says why not.
    pub(crate) fn check(&self) -> io::Result<()> {
        let invalid = |why: &str| Err(invalid_input(*self, why));
        match self.0 {
            libc::SIGKILL | libc::SIGSTOP => {
                invalid("cannot be caught: the kernel acts on it without the process")
            }
            libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE => invalid(
                "reports a fault of the thread that raised it, which a handler that returns \
                 would only raise again: it cannot be awaited",
            ),
            n if n < 1 || n > libc::SIGRTMAX() => invalid(&format!(
                "is not a signal number on this system (1 to {})",
                libc::SIGRTMAX()
            )),
            n if standard_name(n).is_none() && n < libc::SIGRTMIN() => {
                invalid("is reserved by the C library for its threads")
            }
            _ => Ok(()),
        }
    }
}

/// An [`InvalidInput`](io::ErrorKind::InvalidInput) error: "`SIGKILL (9)` `why`".
pub(crate) fn invalid_input(kind: SignalKind, why: &str) -> io::Error {
    let label = match kind.name() {
        Some(name) => format!("{name} ({})", kind.0),
        None => format!("signal {}", kind.0),
    };
    io::Error::new(io::ErrorKind::InvalidInput, format!("{label} {why}"))
}

impl From<i32> for SignalKind {
    fn from(signum: i32) -> SignalKind {
        SignalKind::from_raw(signum)
    }
}

/// `SIGINT`, `SIGRTMIN+2`, or `signal 99` for a number that names no signal.
impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(&name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

/// The names of Linux's standard signals (1 to 31).
fn standard_name(signum: libc::c_int) -> Option<&'static str> {
    Some(match signum {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSTKFLT => "SIGSTKFLT",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGPWR => "SIGPWR",
        libc::SIGSYS => "SIGSYS",
        _ => return None,
    })
}
