//! [`Builder`]: how a [`Runtime`] is configured.

use crate::blocking::BlockingConfig;
use crate::debug::{DebugConfig, DEFAULT_SLOW_POLL};
use crate::runtime::{Flavor, Runtime};
use crate::scheduler::multi_thread::{MultiThread, MAX_WORKERS};
use crate::scheduler::single_thread::SingleThread;
use ringloop_io::{Driver, DriverConfig};
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// Configures and builds a [`Runtime`].
///
/// # Examples
/// ```
/// let rt = ringloop::Runtime::builder()
///     .worker_threads(2)
///     .thread_name("my-server")
///     .build()?;
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
///
/// // Invalid settings are reported, not panicked on:
/// let err = ringloop::Runtime::builder().worker_threads(0).build().unwrap_err();
/// assert!(err.to_string().contains("worker_threads"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Builder {
    single_threaded: bool,
    worker_threads: Option<usize>,
    thread_name: Arc<dyn Fn(usize) -> String + Send + Sync>,
    thread_stack_size: Option<usize>,
    ring_entries: Option<u32>,
    batch_wait: Option<Duration>,
    defer_taskrun: Option<bool>,
    coop_taskrun: Option<bool>,
    stuck_worker_signal: Option<i32>,
    debug: Option<bool>,
    slow_poll_threshold: Duration,
    blocking: BlockingConfig,
}

impl Builder {
    /// A builder for a multi-threaded runtime with one worker per CPU.
    pub fn new() -> Builder {
        Builder {
            single_threaded: false,
            worker_threads: None,
            thread_name: Arc::new(|index| format!("ringloop-worker-{index}")),
            thread_stack_size: None,
            ring_entries: None,
            batch_wait: None,
            defer_taskrun: None,
            coop_taskrun: None,
            stuck_worker_signal: Some(DriverConfig::WORKER_KICK_SIGNAL),
            debug: None,
            slow_poll_threshold: DEFAULT_SLOW_POLL,
            blocking: BlockingConfig::DEFAULT,
        }
    }

    /// The number of worker threads of a multi-threaded runtime (default: the number of CPUs).
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    /// Builds a single-threaded runtime instead (asyncio's model): tasks run on the thread that
    /// calls [`Runtime::block_on`], and `!Send` tasks are allowed everywhere.
    pub fn single_threaded(&mut self) -> &mut Self {
        self.single_threaded = true;
        self
    }

    /// Names the worker threads `{name}-{index}` (default `ringloop-worker-{index}`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name = name.into();
        self.thread_name = Arc::new(move |index| format!("{name}-{index}"));
        self
    }

    /// The stack size of each worker thread, in bytes (default: the standard library's).
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// The size of each thread's io_uring submission queue, in entries (default 256; at most
    /// 32,768). A full queue is flushed to the kernel, not an error, so this bounds how much
    /// I/O one tick submits at once, not how much can be in flight.
    pub fn ring_entries(&mut self, entries: u32) -> &mut Self {
        self.ring_entries = Some(entries);
        self
    }

    /// How long a busy thread's park may wait to gather a batch of completions (default
    /// zero: batching off; at most 1 ms; 20 µs is the value we measured).
    ///
    /// Only a thread with 16 or more ops in flight batches, and a completion is held back
    /// only if it arrives within this time of the park's start, for at most the rest of it:
    /// under load one `io_uring_enter` then serves many messages, while a request reaching an
    /// idle thread, or a round trip on one quiet connection, is not delayed. A wake-up from
    /// another thread counts as a completion. Needs Linux 6.12; on older kernels it has no
    /// effect. Off by default (zero): it trades response time for fewer system calls, and at
    /// moderate load the response time it costs is several times the wait; see
    /// [`DriverConfig::batch_wait`](ringloop_io::DriverConfig::batch_wait) for what it
    /// measured.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = ringloop::Runtime::builder()
    ///     .single_threaded()
    ///     .batch_wait(Duration::from_micros(20))
    ///     .build()?;
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    ///
    /// let err = ringloop::Runtime::builder()
    ///     .batch_wait(Duration::from_secs(1))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("batch_wait"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn batch_wait(&mut self, wait: Duration) -> &mut Self {
        self.batch_wait = Some(wait);
        self
    }

    /// Whether each thread's ring defers the kernel's completion work to that thread's own
    /// `io_uring_enter` calls (default on; Linux 6.1's `IORING_SETUP_DEFER_TASKRUN`; on older
    /// kernels it has no effect).
    ///
    /// With it, a completion neither interrupts a thread that is running tasks nor wakes one
    /// that waits for a [batch](Self::batch_wait) before the batch is there; the thread picks
    /// completions up when it parks or submits. Turn it off to compare; see
    /// [`DriverConfig::defer_taskrun`](ringloop_io::DriverConfig::defer_taskrun).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ringloop::Runtime::builder().defer_taskrun(false).build()?;
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn defer_taskrun(&mut self, on: bool) -> &mut Self {
        self.defer_taskrun = Some(on);
        self
    }

    /// With [`defer_taskrun(false)`](Self::defer_taskrun) only: cooperative task work
    /// (`IORING_SETUP_COOP_TASKRUN`); see
    /// [`DriverConfig::coop_taskrun`](ringloop_io::DriverConfig::coop_taskrun). For
    /// comparisons; default off.
    pub fn coop_taskrun(&mut self, on: bool) -> &mut Self {
        self.coop_taskrun = Some(on);
        self
    }

    /// The signal sent to a worker thread stuck in a long poll (a blocking call or heavy
    /// computation in a task) so that the I/O of the other tasks on its ring still completes
    /// (default `SIGURG`; `None` never sends one).
    ///
    /// While a worker is stuck, its siblings fire its timers and dispatch its completions
    /// (see `DESIGN.md`, "Stuck workers"). With deferred task work (the default), only the
    /// worker's own thread can submit to its ring and have the kernel post its completions:
    /// a sibling makes it do so with this signal, whose handler makes one or two
    /// `io_uring_enter` calls and nothing else. The handler is installed (with `SA_RESTART`)
    /// only if the signal has no handler yet. A blocking call of the stuck task that is never
    /// restarted after a signal (`poll`, `epoll_wait`, `nanosleep`, ...) returns `EINTR`. With
    /// `None`, a stuck worker's I/O waits for its poll to end (its timers still fire on time).
    /// A single-threaded runtime never sends it: nobody could help its thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = ringloop::Runtime::builder().stuck_worker_signal(None).build()?;
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    ///
    /// let err = ringloop::Runtime::builder().stuck_worker_signal(Some(9)).build().unwrap_err();
    /// assert!(err.to_string().contains("kick_signal"), "{err}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stuck_worker_signal(&mut self, signal: Option<i32>) -> &mut Self {
        self.stuck_worker_signal = signal;
        self
    }

    /// Debug mode (asyncio's): every poll is timed, and one that holds its thread for
    /// [`slow_poll_threshold`](Self::slow_poll_threshold) or more is logged (through `log`)
    /// with the task's id, name and duration — which is how a blocking call in a task shows
    /// up. Default: off, unless the environment variable `RINGLOOP_DEBUG` is `1`.
    pub fn debug(&mut self, enabled: bool) -> &mut Self {
        self.debug = Some(enabled);
        self
    }

    /// How long one poll may run before debug mode reports it (default 100 ms).
    pub fn slow_poll_threshold(&mut self, threshold: Duration) -> &mut Self {
        self.slow_poll_threshold = threshold;
        self
    }

    fn driver_config(&self) -> io::Result<DriverConfig> {
        let mut config = DriverConfig::new();
        if let Some(entries) = self.ring_entries {
            if entries == 0 || entries > DriverConfig::MAX_ENTRIES {
                return Err(invalid(format!(
                    "ring_entries must be between 1 and {}, got {entries}",
                    DriverConfig::MAX_ENTRIES
                )));
            }
            config.entries(entries);
        }
        if let Some(wait) = self.batch_wait {
            if wait > DriverConfig::MAX_BATCH_WAIT {
                return Err(invalid(format!(
                    "batch_wait must be at most {:?}, got {wait:?}",
                    DriverConfig::MAX_BATCH_WAIT
                )));
            }
            config.batch_wait(wait);
        }
        if let Some(on) = self.defer_taskrun {
            config.defer_taskrun(on);
        }
        if let Some(on) = self.coop_taskrun {
            config.coop_taskrun(on);
        }
        Ok(config)
    }

    /// The most threads the blocking pool ([`to_thread`](crate::to_thread),
    /// [`Handle::run_in_executor`](crate::Handle::run_in_executor)) runs at once (default
    /// 512); further calls wait for a thread.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.blocking.max_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before it exits (default 10 s).
    pub fn blocking_keep_alive(&mut self, keep_alive: Duration) -> &mut Self {
        self.blocking.keep_alive = keep_alive;
        self
    }

    /// How long dropping the runtime waits for blocking calls still running (default 10 s);
    /// after that, their threads are left to finish on their own.
    pub fn blocking_shutdown_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.blocking.shutdown_timeout = timeout;
        self
    }

    /// Starts the runtime: its worker threads, for the multi-threaded flavour.
    ///
    /// # Errors
    /// `InvalidInput` for settings that cannot work (0 worker threads, a worker count on a
    /// single-threaded runtime, ...), naming the setting; the OS error if a thread cannot be
    /// started; and, when io_uring cannot be used (kernel too old, `kernel.io_uring_disabled`,
    /// a seccomp filter, the locked-memory limit), an error that names the cause and the fix.
    pub fn build(&mut self) -> io::Result<Runtime> {
        if self.blocking.max_threads == 0 {
            return Err(invalid(
                "max_blocking_threads must be at least 1, got 0".to_owned(),
            ));
        }
        self.build_scheduler()
    }

    /// [`build`](Self::build) once the blocking settings are checked: the scheduler, then the
    /// runtime that owns it and the blocking pool.
    fn build_scheduler(&mut self) -> io::Result<Runtime> {
        let driver_config = self.driver_config()?;
        let debug = DebugConfig::new(self.debug, self.slow_poll_threshold);
        if self.single_threaded {
            if let Some(n) = self.worker_threads {
                return Err(invalid(format!(
                    "worker_threads({n}) does not apply to a single-threaded runtime, which runs \
                     everything on the thread that calls block_on; remove one of the two settings"
                )));
            }
            // The ring itself is made on the thread that first drives the runtime (a ring
            // belongs to its thread); this probe reports now if io_uring is unusable.
            drop(Driver::new(&driver_config)?);
            return Ok(Runtime::from_flavor(
                Flavor::Single(SingleThread::new(driver_config.clone(), debug)),
                driver_config,
                self.blocking,
            ));
        }
        let workers = self.worker_threads.unwrap_or_else(num_cpus::get);
        if workers == 0 {
            return Err(invalid(
                "worker_threads must be at least 1, got 0 (use single_threaded() for a runtime \
                 without worker threads)"
                    .to_owned(),
            ));
        }
        if workers > MAX_WORKERS {
            return Err(invalid(format!(
                "worker_threads must be at most {MAX_WORKERS}, got {workers}"
            )));
        }
        if self.thread_stack_size == Some(0) {
            return Err(invalid(
                "thread_stack_size must be more than 0 bytes".to_owned(),
            ));
        }
        let name = self.thread_name.clone();
        let mut worker_config = driver_config.clone();
        worker_config.kick_signal(self.stuck_worker_signal);
        worker_config.validate()?;
        let multi = MultiThread::start(
            workers,
            &*name,
            self.thread_stack_size,
            &worker_config,
            debug,
        )?;
        Ok(Runtime::from_flavor(
            Flavor::Multi(multi),
            driver_config,
            self.blocking,
        ))
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("single_threaded", &self.single_threaded)
            .field("worker_threads", &self.worker_threads)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("ring_entries", &self.ring_entries)
            .field("debug", &self.debug)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .field("blocking", &self.blocking)
            .finish_non_exhaustive()
    }
}
