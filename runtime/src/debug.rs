//! Debug mode (asyncio's debug mode): polls that hold their thread too long are reported
//! through the `log` facade with the task's id, name and duration, which is how a blocking
//! call inside a task shows up. Panics nobody retrieved are reported in every mode.
//!
//! Enabled by `Runtime::builder().debug(true)` or the environment variable
//! `RINGLOOP_DEBUG=1`; it costs two clock reads and two reference-count updates per poll, and
//! nothing when off.

use crate::task::Runnable;
use std::time::Duration;

/// The default [`slow_poll_threshold`](crate::Builder::slow_poll_threshold).
pub(crate) const DEFAULT_SLOW_POLL: Duration = Duration::from_millis(100);

/// How a runtime's threads run tasks: plainly, or timing each poll.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DebugConfig {
    /// `Some(threshold)` in debug mode.
    slow_poll: Option<Duration>,
}

impl DebugConfig {
    /// Debug mode if `enabled` is `Some(true)`, or if it is `None` and `RINGLOOP_DEBUG` is
    /// set to `1` or `true`.
    pub(crate) fn new(enabled: Option<bool>, threshold: Duration) -> DebugConfig {
        let enabled = enabled.unwrap_or_else(|| {
            std::env::var("RINGLOOP_DEBUG")
                .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
        });
        DebugConfig {
            slow_poll: enabled.then_some(threshold),
        }
    }

    /// Runs `task`, reporting the poll if it was slow in debug mode.
    pub(crate) fn run(&self, task: Runnable) {
        match self.slow_poll {
            None => task.run(),
            Some(threshold) => task.run_reporting_slow(threshold),
        }
    }
}
