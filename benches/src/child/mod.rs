//! Child processes of the I/O workloads: an echo server alone in its process, so its
//! memory and system calls can be measured apart from the load generator's.
//!
//! The `ringloop-bench` binary is its own child: [`serve_child_if_asked`], called first
//! thing in `main`, runs the child role when the arguments ask for it (`__child
//! echo-server ...`) and otherwise marks the binary as able to be one. A program that does
//! not call it (the criterion benches, unit tests) cannot run these workloads unless told
//! which binary to use with [`set_child_exe`]; they report an error instead.
//!
//! The parent talks to the child over its standard input and output, one line each way;
//! see `server.rs` for the protocol and `process.rs` for the parent's side. `syscalls.rs`
//! counts a process's system calls with `perf` or `strace`.

mod process;
mod server;
mod syscalls;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

pub(crate) use process::{ChildStats, ServerChild};
#[cfg(test)]
pub(crate) use syscalls::NAMED;
pub(crate) use syscalls::{SyscallCounter, Tool};

/// The first argument that selects a child role.
const CHILD_ARG: &str = "__child";

static CAN_BE_CHILD: AtomicBool = AtomicBool::new(false);
static CHILD_EXE: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Runs the child role if this process was started as one, returning its exit code; else
/// records that this binary can serve as the child and returns `None`.
///
/// Call it first thing in `main` of a binary that runs the suite:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     if let Some(code) = ringloop_bench::serve_child_if_asked() {
///         return code;
///     }
///     // ... run the suite ...
///     std::process::ExitCode::SUCCESS
/// }
/// ```
pub fn serve_child_if_asked() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some(CHILD_ARG) {
        CAN_BE_CHILD.store(true, Ordering::SeqCst);
        return None;
    }
    Some(match args.get(1).map(String::as_str) {
        Some(server::ROLE) => server::main(&args[2..]),
        other => {
            eprintln!("ringloop-bench: unknown child role {other:?}");
            ExitCode::from(2)
        }
    })
}

/// Uses `exe` (a `ringloop-bench` binary) for the child processes, e.g. from an integration
/// test: `set_child_exe(env!("CARGO_BIN_EXE_ringloop-bench"))`.
pub fn set_child_exe(exe: impl Into<PathBuf>) {
    *CHILD_EXE.lock() = Some(exe.into());
}

/// The binary to start as a child.
fn child_exe() -> Result<PathBuf, String> {
    if let Some(exe) = CHILD_EXE.lock().clone() {
        return Ok(exe);
    }
    if !CAN_BE_CHILD.load(Ordering::SeqCst) {
        return Err(
            "needs the ringloop-bench binary to start its server child process \
             (run it with `cargo run --release -p ringloop-bench`)"
                .to_owned(),
        );
    }
    std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))
}
