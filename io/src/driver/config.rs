//! [`DriverConfig`]: the knobs of one ring.

use std::io;

/// Settings of a [`Driver`](crate::Driver).
///
/// # Examples
///
/// ```
/// let mut config = ringloop_io::DriverConfig::new();
/// config.entries(64);
/// let driver = ringloop_io::Driver::new(&config)?;
/// # drop(driver);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DriverConfig {
    entries: u32,
}

impl DriverConfig {
    /// The largest submission queue the kernel accepts.
    pub const MAX_ENTRIES: u32 = 32_768;

    /// The default settings: 256 submission entries.
    pub fn new() -> DriverConfig {
        DriverConfig { entries: 256 }
    }

    /// Size of the submission queue (the completion queue is twice as large).
    ///
    /// The kernel rounds it up to a power of two. More ops than this may be queued during a
    /// tick: a full queue is submitted and refilled, never an error. Must be in
    /// `1..=MAX_ENTRIES`, or [`Driver::new`](crate::Driver::new) fails.
    pub fn entries(&mut self, entries: u32) -> &mut Self {
        self.entries = entries;
        self
    }

    pub(crate) fn get_entries(&self) -> u32 {
        self.entries
    }

    pub(crate) fn validate(&self) -> io::Result<()> {
        if self.entries == 0 || self.entries > Self::MAX_ENTRIES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "ringloop: DriverConfig::entries must be between 1 and {}, got {}",
                    Self::MAX_ENTRIES,
                    self.entries
                ),
            ));
        }
        Ok(())
    }
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig::new()
    }
}
