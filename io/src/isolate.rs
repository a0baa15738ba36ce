//! [`isolate`]: running user code for which nobody is there to catch a panic.
//!
//! The driver wakes wakers and releases the buffers of dropped ops; a read drops the buffer
//! of a dropped read whose bytes it took over. The futures that would have seen a panic of
//! that code are elsewhere, or gone, and unwinding into the driver or a stranger's read would
//! lose work that has nothing to do with it. So such code runs here: a panic is reported and
//! goes no further.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; if it panics, logs `what` was being done and the panic's message, and returns.
pub(crate) fn isolate(what: &str, f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(a non-string payload)");
        log::error!("ringloop: user code panicked while {what}: {message}");
        // The payload's own `Drop` is user code too.
        if catch_unwind(AssertUnwindSafe(|| drop(payload))).is_err() {
            log::error!("ringloop: a panic payload panicked when dropped; it was leaked");
        }
    }
}
