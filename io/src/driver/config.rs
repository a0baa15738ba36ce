//! [`DriverConfig`]: the knobs of one ring.

use std::io;
use std::time::Duration;

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
    batch_wait: Duration,
    defer_taskrun: bool,
    coop_taskrun: bool,
    shutdown_timeout: Duration,
    kick_signal: Option<i32>,
}

impl DriverConfig {
    /// The largest submission queue the kernel accepts.
    pub const MAX_ENTRIES: u32 = 32_768;

    /// The longest [`batch_wait`](DriverConfig::batch_wait) accepted: one millisecond.
    pub const MAX_BATCH_WAIT: Duration = Duration::from_millis(1);

    /// The batch wait of [`new`](DriverConfig::new): zero, batching off (see
    /// [`batch_wait`](DriverConfig::batch_wait) for why).
    pub const DEFAULT_BATCH_WAIT: Duration = Duration::ZERO;

    /// The [kick signal](DriverConfig::kick_signal) a runtime's workers use: `SIGURG`.
    pub const WORKER_KICK_SIGNAL: i32 = libc::SIGURG;

    /// The shutdown timeout of [`new`](DriverConfig::new): 5 s.
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

    /// The default settings: 256 submission entries, no batch wait
    /// ([`DEFAULT_BATCH_WAIT`](DriverConfig::DEFAULT_BATCH_WAIT)), deferred task work on, a
    /// shutdown timeout of [`DEFAULT_SHUTDOWN_TIMEOUT`](DriverConfig::DEFAULT_SHUTDOWN_TIMEOUT).
    pub fn new() -> DriverConfig {
        DriverConfig {
            entries: 256,
            batch_wait: Self::DEFAULT_BATCH_WAIT,
            defer_taskrun: true,
            coop_taskrun: false,
            shutdown_timeout: Self::DEFAULT_SHUTDOWN_TIMEOUT,
            kick_signal: None,
        }
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

    /// How long a busy driver's park may wait to gather completions (default zero: batching
    /// off; at most [`MAX_BATCH_WAIT`](DriverConfig::MAX_BATCH_WAIT); 20 µs is the value we
    /// measured).
    ///
    /// A park normally returns at the first completion. With a batch wait and 16 or more ops
    /// in flight (a server with many connections), a park instead asks the kernel for 32
    /// completions within this time, and returns when they have arrived or, once the time
    /// is over, with whatever has, so that one `io_uring_enter` and one pass of the scheduler
    /// serve many messages. If nothing arrived by then, it waits for the first completion as
    /// usual. A thread with few ops in flight (one or two quiet connections) never batches,
    /// nor does a park whose next timer is due within this time. Needs Linux 6.12
    /// (`IORING_FEAT_MIN_TIMEOUT`); on older kernels parks never batch.
    ///
    /// It is a trade, so it is off unless asked for. In our benchmark suite (20 µs, with
    /// [deferred task work](DriverConfig::defer_taskrun), the server on a CPU of its own), it
    /// took about 40% of the `io_uring_enter` calls per message away and served a few percent
    /// more messages per second on a saturated closed-loop echo (within the noise of our
    /// machine), but at half of the server's capacity, with requests arriving at a steady
    /// rate, it made the median latency 117-134 µs instead of 30-32 µs. Turn it on for a
    /// server that runs saturated and counts system calls more than response time. The
    /// measurements are in `DESIGN.md` ("Batched parks") and `BENCHMARKS.md`.
    pub fn batch_wait(&mut self, wait: Duration) -> &mut Self {
        self.batch_wait = wait;
        self
    }

    /// Whether the kernel defers completion work to this thread's own `io_uring_enter` calls
    /// (default on; `IORING_SETUP_DEFER_TASKRUN`, with `SINGLE_ISSUER` and `TASKRUN_FLAG`).
    ///
    /// Without it, each completion (a socket that became readable, say) makes the kernel
    /// interrupt the ring's thread, or wake it, to post the result: while it runs tasks, and
    /// while it waits for a [batch](DriverConfig::batch_wait). With it, results are posted
    /// when the thread enters the kernel anyway (when it parks, and when a busy thread submits,
    /// at least every 61 polls), and a thread waiting for a batch is woken once, when the
    /// batch is there. Needs Linux 6.1; on older kernels the ring is made without it. The
    /// measurements behind the default are in `DESIGN.md` ("Deferred task work").
    pub fn defer_taskrun(&mut self, on: bool) -> &mut Self {
        self.defer_taskrun = on;
        self
    }

    /// How long [`Driver::shutdown`](crate::Driver::shutdown) waits for the kernel to give
    /// back the ops still in flight (default
    /// [`DEFAULT_SHUTDOWN_TIMEOUT`](DriverConfig::DEFAULT_SHUTDOWN_TIMEOUT), 5 s).
    ///
    /// Shutdown cancels every op in flight and waits for each one's completion, because
    /// until then the kernel may still write into the op's buffer. Nearly every op completes
    /// at once when cancelled; one the kernel cannot interrupt (a read from a hung NFS or
    /// FUSE file system, say) may never complete. After this timeout, shutdown stops
    /// waiting: it logs a warning naming how many ops were left, and deliberately leaks the
    /// ring and everything those ops may still write into (their buffers, and the futures'
    /// buffers if they are dropped later), so that no memory the kernel can reach is ever
    /// freed. Such an op's future never completes.
    pub fn shutdown_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The signal with which [`DriverHandle::help`](crate::DriverHandle::help) makes this
    /// driver's thread, when it is stuck in a long poll, enter its ring (default: none).
    ///
    /// With [deferred task work](DriverConfig::defer_taskrun) only the ring's own thread can
    /// submit to it and post its completions; while that thread is stuck, a helper can fire
    /// its timers but not deliver its I/O. With a signal set, the helper sends it to the
    /// stuck thread, whose handler makes one `io_uring_enter` (nothing else), and then
    /// dispatches what it posted. The handler is installed with `SA_RESTART`, only if the
    /// signal has no handler yet (otherwise kicking stays off, with a warning). A blocking
    /// system call of the stuck task that never restarts (`poll`, `nanosleep`, ...) returns
    /// `EINTR`. A runtime's workers use
    /// [`WORKER_KICK_SIGNAL`](DriverConfig::WORKER_KICK_SIGNAL) (`SIGURG`), as Go's runtime
    /// does to preempt its threads.
    pub fn kick_signal(&mut self, signal: Option<i32>) -> &mut Self {
        self.kick_signal = signal;
        self
    }

    pub(crate) fn get_kick_signal(&self) -> Option<i32> {
        self.kick_signal
    }

    pub(crate) fn get_shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    pub(crate) fn get_defer_taskrun(&self) -> bool {
        self.defer_taskrun
    }

    /// Without [deferred task work](DriverConfig::defer_taskrun) only: whether the kernel
    /// runs completion work cooperatively (`IORING_SETUP_COOP_TASKRUN` with `TASKRUN_FLAG`,
    /// Linux 5.19; default off): at the thread's next kernel entry or interrupt instead of
    /// interrupting it at once. Measured about as slow as neither in our echo benchmark
    /// (`DESIGN.md`, "Stuck workers"); here for comparisons.
    pub fn coop_taskrun(&mut self, on: bool) -> &mut Self {
        self.coop_taskrun = on;
        self
    }

    pub(crate) fn get_coop_taskrun(&self) -> bool {
        self.coop_taskrun && !self.defer_taskrun
    }

    pub(crate) fn get_entries(&self) -> u32 {
        self.entries
    }

    pub(crate) fn get_batch_wait(&self) -> Duration {
        self.batch_wait
    }

    /// Checks the settings: `Ok` unless [`Driver::new`](crate::Driver::new) would refuse
    /// them.
    ///
    /// # Errors
    ///
    /// `InvalidInput`, naming the setting and the accepted range.
    pub fn validate(&self) -> io::Result<()> {
        if self.entries == 0 || self.entries > Self::MAX_ENTRIES {
            return Err(invalid_setting(format!(
                "entries must be between 1 and {}, got {}",
                Self::MAX_ENTRIES,
                self.entries
            )));
        }
        if let Some(signal) = self.kick_signal {
            let reserved = [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, libc::SIGBUS];
            if signal <= 0 || signal > libc::SIGRTMAX() || reserved.contains(&signal) {
                return Err(invalid_setting(format!(
                    "kick_signal must be a signal that can be caught, got {signal}"
                )));
            }
        }
        if self.batch_wait > Self::MAX_BATCH_WAIT {
            return Err(invalid_setting(format!(
                "batch_wait must be at most {:?}, got {:?}",
                Self::MAX_BATCH_WAIT,
                self.batch_wait
            )));
        }
        Ok(())
    }
}

/// The error for a setting out of range: `what` names the setting and the accepted range.
fn invalid_setting(what: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("ringloop: DriverConfig::{what}"),
    )
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig::new()
    }
}
