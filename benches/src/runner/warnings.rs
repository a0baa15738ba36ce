//! Warnings a workload raises during a sample without failing it (e.g. "counted with
//! strace"), collected by the runner into the sample's cell.
//!
//! Samples run one at a time, so one process-wide list is enough: the runner drains it after
//! each sample (see `isolate.rs`).

use parking_lot::Mutex;

static PENDING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records a warning about the sample being measured; the report lists it under its cell.
pub(crate) fn warn(message: String) {
    let mut pending = PENDING.lock();
    if !pending.contains(&message) {
        pending.push(message);
    }
}

/// Takes the warnings raised since the last call.
pub(super) fn take() -> Vec<String> {
    std::mem::take(&mut *PENDING.lock())
}
