//! Shared by the `rt_*` and `task_*` tests of the `ringloop` facade:
//!
//! - [`rt_test!`]: runs each test body once per runtime flavour (single-threaded,
//!   multi-threaded with 1 worker, multi-threaded with 2 workers), under a watchdog that turns a
//!   hang (a lost wake-up, a deadlock) into an abort with the test's name;
//! - `counting`: drop guards and futures that count creations, polls and drops, hold a `Box`
//!   (so a double drop is a double free) and check that every one is dropped exactly once;
//! - `oneshot`: a runtime-agnostic oneshot channel built on std's `Waker` and `Mutex`, so that
//!   wakes come from outside ringloop's own code;
//! - `wakers`: wakers that panic or come back into what stored them, and a thread with a time
//!   limit to run such scenarios on;
//! - small helpers: a thread-parking `block_on` that is not ringloop, and waits with deadlines.
#![allow(dead_code)] // each test binary uses a different subset

pub(crate) mod counting;
pub(crate) mod oneshot;
pub(crate) mod wakers;

use ringloop::{Runtime, TaskError};
use std::any::Any;
use std::future::Future;
use std::io::Write;
use std::pin::pin;
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long any one test may run before the watchdog aborts the process.
pub(crate) const WATCHDOG: Duration = Duration::from_secs(60);

/// How long a wait for something that should happen "soon" may take before the test fails.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// The runtime flavours every runtime test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    SingleThreaded,
    MultiThread { workers: usize },
}

impl Flavor {
    /// A fresh runtime of this flavour.
    pub(crate) fn runtime(self) -> Runtime {
        let mut builder = Runtime::builder();
        match self {
            Flavor::SingleThreaded => builder.single_threaded(),
            Flavor::MultiThread { workers } => builder.worker_threads(workers),
        };
        builder.build().expect("the runtime builds")
    }

    pub(crate) fn is_multi_thread(self) -> bool {
        matches!(self, Flavor::MultiThread { .. })
    }

    /// Worker threads (0 for the single-threaded flavour).
    pub(crate) fn workers(self) -> usize {
        match self {
            Flavor::SingleThreaded => 0,
            Flavor::MultiThread { workers } => workers,
        }
    }
}

/// Runs each test once per flavour, like tokio's `tests/rt_common.rs`:
///
/// ```ignore
/// rt_test! {
///     fn spawn_and_await(flavor: Flavor) {
///         let rt = flavor.runtime();
///         ...
///     }
/// }
/// ```
///
/// expands to `single_threaded::spawn_and_await`, `multi_thread_1::spawn_and_await` and
/// `multi_thread_2::spawn_and_await`. Attributes (`#[ignore = ".."]`) are kept.
macro_rules! rt_test {
    ($($(#[$attr:meta])* fn $name:ident($flavor:ident: Flavor) $body:block)*) => {
        mod single_threaded {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    $crate::support::run_test(
                        concat!("single_threaded::", stringify!($name)),
                        $crate::support::Flavor::SingleThreaded,
                        |$flavor: $crate::support::Flavor| $body,
                    )
                }
            )*
        }
        mod multi_thread_1 {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    $crate::support::run_test(
                        concat!("multi_thread_1::", stringify!($name)),
                        $crate::support::Flavor::MultiThread { workers: 1 },
                        |$flavor: $crate::support::Flavor| $body,
                    )
                }
            )*
        }
        mod multi_thread_2 {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$attr])*
                #[test]
                fn $name() {
                    $crate::support::run_test(
                        concat!("multi_thread_2::", stringify!($name)),
                        $crate::support::Flavor::MultiThread { workers: 2 },
                        |$flavor: $crate::support::Flavor| $body,
                    )
                }
            )*
        }
    };
}

/// Runs one flavour of a test under a watchdog.
pub(crate) fn run_test(name: &'static str, flavor: Flavor, test: impl FnOnce(Flavor)) {
    let _watchdog = Watchdog::start(name, WATCHDOG);
    test(flavor);
}

/// Aborts the process (naming the test) if it is still alive after a time limit: a lost wake-up
/// would otherwise hang the whole test run with no hint of where.
pub(crate) struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Watchdog {
    pub(crate) fn start(name: &'static str, limit: Duration) -> Watchdog {
        let (done, finished) = mpsc::channel::<()>();
        let thread = thread::Builder::new()
            .name(format!("watchdog {name}"))
            .spawn(move || {
                if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
                    // Straight to stderr: the test harness's capture would be lost on abort.
                    let _ = writeln!(
                        std::io::stderr(),
                        "test {name} is still running after {limit:?} (a lost wake-up or a \
                         deadlock?); aborting"
                    );
                    std::process::abort();
                }
            })
            .expect("the watchdog thread starts");
        Watchdog {
            done: Some(done),
            thread: Some(thread),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.done.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A waker that unparks one thread.
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` on the calling thread with a plain thread-parking waker: no ringloop runtime
/// is involved (for awaiting a `Task` from an ordinary thread).
pub(crate) fn block_on_thread<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        let now = Instant::now();
        assert!(
            now < deadline,
            "block_on_thread: the future did not complete in {PATIENCE:?}"
        );
        thread::park_timeout(deadline - now);
    }
}

/// Waits (blocking the thread) until `condition` holds; panics with `what` after [`PATIENCE`].
#[track_caller]
pub(crate) fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_micros(200));
    }
}

/// Yields (letting other tasks run) until `condition` holds; panics with `what` after
/// [`PATIENCE`]. Outside a task (in a `block_on` future) it also yields the OS thread, so that
/// a spinning `block_on` does not take a core from the workers.
pub(crate) async fn yield_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        if ringloop::current_task().is_none() {
            thread::yield_now();
        }
        ringloop::yield_now().await;
    }
}

/// The message of a panic payload (`&str` or `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// Runs `f`, expecting a panic; returns its message.
#[track_caller]
pub(crate) fn expect_panic<R>(f: impl FnOnce() -> R) -> String {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(payload) => panic_message(payload.as_ref()),
    }
}

/// Asserts that a task's outcome is `Err(Cancelled)`.
#[track_caller]
pub(crate) fn assert_cancelled<T: std::fmt::Debug>(outcome: Result<T, TaskError>) {
    match outcome {
        Err(err) => assert!(err.is_cancelled(), "expected Cancelled, got {err:?}"),
        Ok(value) => panic!("expected Cancelled, got Ok({value:?})"),
    }
}

/// Spins (without yielding to the runtime) until `condition` holds, up to [`PATIENCE`]; true
/// if it held. For tests that need a task to stay inside one poll.
pub(crate) fn spin_until(mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        if Instant::now() > deadline {
            return false;
        }
        std::hint::spin_loop();
        thread::yield_now();
    }
    true
}

/// Keeps every worker of a multi-threaded runtime inside a poll until released (or dropped),
/// so that tasks spawned meanwhile stay queued. Nothing to do on a single-threaded runtime:
/// its tasks only run inside `block_on`.
pub(crate) struct Occupied {
    release: Arc<std::sync::atomic::AtomicBool>,
    blockers: Vec<ringloop::Task<()>>,
}

/// Occupies every worker of `rt`. Needs work stealing: the blockers may all land on one
/// worker's queue, and the others must take them from there while it is busy.
pub(crate) fn occupy_workers(rt: &Runtime) -> Occupied {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let workers = rt.worker_threads();
    let release = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let blockers = (0..workers)
        .map(|_| {
            let (release, started) = (release.clone(), started.clone());
            rt.spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                assert!(
                    spin_until(|| release.load(Ordering::SeqCst)),
                    "blocker never released"
                );
            })
        })
        .collect();
    wait_until("every worker runs a blocker", || {
        started.load(Ordering::SeqCst) == workers
    });
    Occupied { release, blockers }
}

impl Occupied {
    /// Lets the workers go, and checks the blockers finished well.
    pub(crate) fn release(mut self) {
        self.release
            .store(true, std::sync::atomic::Ordering::SeqCst);
        for blocker in std::mem::take(&mut self.blockers) {
            block_on_thread(blocker).expect("a blocker failed");
        }
    }
}

impl Occupied {
    /// Lets the workers go after `delay`, from another thread (for a test that drops the
    /// runtime meanwhile: the drop waits for the workers).
    pub(crate) fn release_after(mut self, delay: Duration) -> thread::JoinHandle<()> {
        let release = self.release.clone();
        // The blockers' outcomes are not checked: the runtime may cancel them first.
        drop(std::mem::take(&mut self.blockers));
        thread::spawn(move || {
            thread::sleep(delay);
            release.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    }
}

impl Drop for Occupied {
    fn drop(&mut self) {
        self.release
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Creates a local task where a `Send` task runs — on a worker of a multi-threaded runtime,
/// on the block_on thread of a single-threaded one — and returns its handle. `make` builds
/// the (possibly `!Send`) future there.
pub(crate) async fn local_task_on_a_worker<F>(
    make: impl FnOnce() -> F + Send + 'static,
) -> ringloop::Task<F::Output>
where
    F: Future + 'static,
    F::Output: Send + 'static,
{
    #[allow(clippy::async_yields_async)] // the handle is the point
    let spawner = ringloop::create_task(async move { ringloop::create_local_task(make()) });
    spawner.await.expect("the spawner task failed")
}
