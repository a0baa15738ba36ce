//! [`DriverStats`]: counters of what a driver asked of the kernel.

/// What a [`Driver`](super::Driver) has done since it was created: how often it entered the
/// kernel and how many submissions and completions went through its ring. Cheap to read (the
/// owner thread keeps plain counters); a runtime copies them into its metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriverStats {
    /// `io_uring_enter` system calls (submitting, waiting, or flushing an overflow).
    pub enters: u64,
    /// Submission queue entries the kernel accepted.
    pub sqes_submitted: u64,
    /// Completion queue entries reaped (the driver's own wake-up reads included).
    pub cqes_reaped: u64,
    /// Parks that waited for a batch of completions (see
    /// [`DriverConfig::batch_wait`](crate::DriverConfig::batch_wait)).
    pub batched_waits: u64,
}
