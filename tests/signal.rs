//! Unix signals through the ring, on every flavour: `signal::ctrl_c`, `signal::signal`
//! streams, and the loop's `add_signal_handler` / `remove_signal_handler`.
//!
//! Signals belong to the process and the tests of this file run at once, so each test holds
//! [`SERIAL`] for its whole run (and uses a signal of its own, so that a failure names it).
//! Every test starts listening before it raises: a signal with its default disposition would
//! end the test process. Own test binary: it installs the global logger.

#[macro_use]
mod support;

use ringloop::signal::{ctrl_c, signal, Signal, SignalKind};
use ringloop::{create_task, Handle, Runtime};
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};
use support::{Flavor, PATIENCE};

/// Taken by every test for its whole run.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sends `signal` to this process (to whichever of its threads the kernel picks).
fn raise(signal: libc::c_int) {
    // SAFETY: kill(2) takes no pointers.
    let rc = unsafe { libc::kill(libc::getpid(), signal) };
    assert_eq!(rc, 0, "kill: {}", io::Error::last_os_error());
}

/// The handler address `signal` has now (`SIG_DFL`, `SIG_IGN`, or a handler).
fn disposition(signal: libc::c_int) -> libc::sighandler_t {
    // SAFETY: an all-zero sigaction is a valid value for `sigaction` to overwrite.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the current one into `current`.
    let rc = unsafe { libc::sigaction(signal, std::ptr::null(), &mut current) };
    assert_eq!(rc, 0);
    current.sa_sigaction
}

/// `future`'s output, or a test failure naming `what` after [`PATIENCE`].
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match ringloop::timeout(PATIENCE, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Waits, sleeping on the runtime, until `condition` holds; fails after [`PATIENCE`].
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        ringloop::sleep(Duration::from_millis(1)).await.unwrap();
    }
}

/// One arrival of `signal`, or a failure after [`PATIENCE`].
async fn next(signal: &mut Signal) {
    let arrival = within(&format!("{}", signal.kind()), signal.recv()).await;
    assert_eq!(arrival, Some(()), "the runtime is running");
}

/// Every record logged in this test binary.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}", record.level(), record.args());
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

fn captured() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).expect("the only logger of this binary");
        log::set_max_level(log::LevelFilter::Trace);
        capture
    })
}

fn log_lines_with(needle: &str) -> Vec<String> {
    let lines = captured().0.lock().unwrap();
    lines
        .iter()
        .filter(|l| l.contains(needle))
        .cloned()
        .collect()
}

rt_test! {
    fn ctrl_c_completes_at_sigint(flavor: Flavor) {
        let _serial = serial();
        let rt = flavor.runtime();
        rt.block_on(async {
            let interrupted = ctrl_c();
            raise(libc::SIGINT);
            within("ctrl_c", interrupted).await.unwrap();
            // In a task too (on a worker, for the multi-threaded flavours).
            let interrupted = create_task(ctrl_c());
            raise(libc::SIGINT);
            within("ctrl_c in a task", interrupted).await.unwrap().unwrap();
        });
        assert_eq!(disposition(libc::SIGINT), libc::SIG_DFL, "SIGINT restored");
    }

    fn a_signal_receives_every_raise(flavor: Flavor) {
        let _serial = serial();
        let rt = flavor.runtime();
        rt.block_on(async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            for _ in 0..20 {
                raise(libc::SIGUSR1);
                next(&mut usr1).await;
            }
            // And from a task, which may run on another thread than the raise.
            create_task(async move {
                for _ in 0..20 {
                    raise(libc::SIGUSR1);
                    next(&mut usr1).await;
                }
            })
            .await
            .unwrap();
        });
    }

    fn a_raise_between_two_recvs_is_not_lost(flavor: Flavor) {
        let _serial = serial();
        let rt = flavor.runtime();
        rt.block_on(async {
            let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
            raise(libc::SIGUSR2);
            next(&mut usr2).await;
            // Nobody awaits `usr2` now: the arrival waits for the next `recv`.
            raise(libc::SIGUSR2);
            ringloop::sleep(Duration::from_millis(20)).await.unwrap();
            next(&mut usr2).await;
            // A `recv` dropped before it completes loses nothing either.
            let early = ringloop::timeout(Duration::from_millis(10), usr2.recv()).await;
            assert!(early.is_err(), "no signal was raised");
            raise(libc::SIGUSR2);
            next(&mut usr2).await;
        });
        assert_eq!(disposition(libc::SIGUSR2), libc::SIG_DFL, "SIGUSR2 restored");
    }

    fn every_listener_of_a_signal_receives_it(flavor: Flavor) {
        let _serial = serial();
        let rt = flavor.runtime();
        rt.block_on(async {
            let mut here = signal(SignalKind::window_change()).unwrap();
            let mut idle = signal(SignalKind::window_change()).unwrap();
            let mut in_task = signal(SignalKind::window_change()).unwrap();
            let started = Arc::new(AtomicUsize::new(0));
            let task = create_task({
                let started = started.clone();
                async move {
                    started.store(1, Ordering::SeqCst);
                    next(&mut in_task).await;
                }
            });
            eventually("the task started", || started.load(Ordering::SeqCst) == 1).await;
            raise(libc::SIGWINCH);
            next(&mut here).await;
            within("the task", task).await.unwrap();
            // `idle` was not awaited when the signal came: it was counted for it all the same.
            next(&mut idle).await;
        });
    }

    fn add_signal_handler_runs_replaces_and_removes(flavor: Flavor) {
        let _serial = serial();
        let rt = flavor.runtime();
        rt.block_on(async {
            let handle = Handle::current();
            let (first, second) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let count = first.clone();
            handle
                .add_signal_handler(SignalKind::hangup(), move || {
                    count.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
            raise(libc::SIGHUP);
            eventually("the handler ran", || first.load(Ordering::SeqCst) == 1).await;
            raise(libc::SIGHUP);
            eventually("the handler ran again", || first.load(Ordering::SeqCst) == 2).await;

            // Adding again replaces it (asyncio).
            let count = second.clone();
            handle
                .add_signal_handler(SignalKind::hangup(), move || {
                    count.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
            raise(libc::SIGHUP);
            eventually("the new handler ran", || second.load(Ordering::SeqCst) == 1).await;
            ringloop::sleep(Duration::from_millis(10)).await.unwrap();
            assert_eq!(first.load(Ordering::SeqCst), 2, "the replaced handler ran");

            assert!(handle.remove_signal_handler(SignalKind::hangup()));
            assert!(!handle.remove_signal_handler(SignalKind::hangup()));
            assert!(!handle.remove_signal_handler(SignalKind::user_defined1()));
            eventually("SIGHUP restored", || disposition(libc::SIGHUP) == libc::SIG_DFL).await;
        });
    }

    fn a_panicking_handler_is_reported_and_runs_again(flavor: Flavor) {
        let _serial = serial();
        captured();
        let rt = flavor.runtime();
        let signum = libc::SIGRTMIN() + 1;
        let message = format!("handler boom on {flavor:?}");
        rt.block_on(async {
            let calls = Arc::new(AtomicUsize::new(0));
            let count = calls.clone();
            let boom = message.clone();
            Handle::current()
                .add_signal_handler(SignalKind::from_raw(signum), move || {
                    count.fetch_add(1, Ordering::SeqCst);
                    panic!("{boom}");
                })
                .unwrap();
            raise(signum);
            eventually("the handler ran", || calls.load(Ordering::SeqCst) == 1).await;
            eventually("the panic was reported", || !log_lines_with(&message).is_empty()).await;
            raise(signum);
            eventually("the handler ran again", || calls.load(Ordering::SeqCst) == 2).await;
            eventually("both panics were reported", || log_lines_with(&message).len() == 2).await;
        });
        let report = log_lines_with(&message).remove(0);
        assert!(report.starts_with("ERROR"), "{report}");
        assert!(report.contains("SIGRTMIN+1 handler"), "{report}");
        drop(rt);
        assert_eq!(disposition(signum), libc::SIG_DFL, "restored with the runtime's drop");
    }

    fn invalid_signals_are_errors_naming_them(flavor: Flavor) {
        let _serial = serial();
        let rt = flavor.runtime();
        let cases = [
            (libc::SIGKILL, "SIGKILL"),
            (libc::SIGSTOP, "SIGSTOP"),
            (libc::SIGSEGV, "SIGSEGV"),
            (libc::SIGFPE, "SIGFPE"),
            (0, "signal 0"),
            (-3, "signal -3"),
            (libc::SIGRTMAX() + 1, "signal 65"),
            (32, "signal 32"),
        ];
        for (signum, name) in cases {
            let err = signal(SignalKind::from_raw(signum)).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
            assert!(err.to_string().contains(name), "{err}");
            let err = rt
                .handle()
                .add_signal_handler(SignalKind::from_raw(signum), || {})
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
            assert!(err.to_string().contains(name), "{err}");
            assert!(!rt.handle().remove_signal_handler(SignalKind::from_raw(signum)));
        }
    }
}

#[test]
fn a_disposition_that_was_ignore_comes_back() {
    let _serial = serial();
    let signum = libc::SIGRTMIN() + 2;
    // SAFETY: `SIG_IGN` is a valid disposition for a real-time signal.
    unsafe { libc::signal(signum, libc::SIG_IGN) };
    let rt = Flavor::SingleThreaded.runtime();
    rt.block_on(async {
        let mut listening = signal(SignalKind::from_raw(signum)).unwrap();
        assert_ne!(disposition(signum), libc::SIG_IGN);
        raise(signum);
        next(&mut listening).await;
    });
    assert_eq!(disposition(signum), libc::SIG_IGN);
    // SAFETY: as above.
    unsafe { libc::signal(signum, libc::SIG_DFL) };
}

#[test]
fn two_runtimes_receive_one_signal() {
    let _serial = serial();
    let signum = libc::SIGRTMIN() + 3;
    let mut a = signal(SignalKind::from_raw(signum)).unwrap();
    let mut b = signal(SignalKind::from_raw(signum)).unwrap();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let other = std::thread::spawn(move || {
        Flavor::MultiThread { workers: 2 }
            .runtime()
            .block_on(async {
                started_tx.send(()).unwrap();
                next(&mut b).await;
            });
    });
    Flavor::SingleThreaded.runtime().block_on(async {
        started_rx.recv().unwrap();
        raise(signum);
        next(&mut a).await;
    });
    other.join().unwrap();
}

#[test]
fn a_signal_outlives_the_runtime_it_was_awaited_in() {
    let _serial = serial();
    let mut hup = signal(SignalKind::hangup()).unwrap();
    {
        let rt = Flavor::MultiThread { workers: 1 }.runtime();
        let early = rt.block_on(ringloop::timeout(Duration::from_millis(5), hup.recv()));
        assert!(early.is_err(), "no signal was raised");
        // Its read of the signal pipe was in flight on this runtime's ring.
    }
    Flavor::SingleThreaded.runtime().block_on(async {
        raise(libc::SIGHUP);
        next(&mut hup).await;
    });
    // Outside any runtime, `recv` cannot wait.
    let outside = support::block_on_thread(hup.recv());
    assert_eq!(outside, None);
}

#[test]
fn handlers_go_with_their_runtime() {
    let _serial = serial();
    let rt = Runtime::builder().single_threaded().build().unwrap();
    let handle = rt.handle().clone();
    handle
        .add_signal_handler(SignalKind::user_defined2(), || {})
        .unwrap();
    assert_ne!(disposition(libc::SIGUSR2), libc::SIG_DFL);
    drop(rt);
    assert_eq!(disposition(libc::SIGUSR2), libc::SIG_DFL);
    let err = handle
        .add_signal_handler(SignalKind::user_defined2(), || {})
        .unwrap_err();
    assert!(err.to_string().contains("dropped"), "{err}");
    assert!(!handle.remove_signal_handler(SignalKind::user_defined2()));
    assert_eq!(disposition(libc::SIGUSR2), libc::SIG_DFL);
}

#[test]
fn the_stuck_worker_signal_is_not_available() {
    let _serial = serial();
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    // The worker has started (and installed its kick handler) once it ran a task.
    rt.block_on(async { create_task(async {}).await.unwrap() });
    if disposition(libc::SIGURG) == libc::SIG_DFL {
        // No kicks on this kernel (they need deferred task work): nothing to check.
        eprintln!("skipped: the runtime did not install a kick handler for SIGURG");
        return;
    }
    let err = signal(SignalKind::from_raw(libc::SIGURG)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("SIGURG"), "{err}");
    assert!(err.to_string().contains("stuck_worker_signal"), "{err}");
}

/// A `Signal` left waiting on a ring nobody drives (a single-threaded runtime between two
/// `block_on`s) takes nothing from the listeners of a running runtime, whatever the ring's
/// task-work mode; and it still receives the signal once awaited elsewhere.
#[test]
fn a_listener_on_an_idle_ring_holds_nobody_up() {
    let _serial = serial();
    let signum = libc::SIGRTMIN() + 4;
    for defer in [true, false] {
        for _ in 0..5 {
            let mut idle = signal(SignalKind::from_raw(signum)).unwrap();
            let parked = Runtime::builder()
                .single_threaded()
                .defer_taskrun(defer)
                .build()
                .unwrap();
            let early = parked.block_on(ringloop::timeout(Duration::from_millis(2), idle.recv()));
            assert!(early.is_err(), "no signal was raised");
            // `idle`'s poll of the signal pipe is in flight on `parked`'s ring, which nothing
            // drives from now on.
            let mut active = signal(SignalKind::from_raw(signum)).unwrap();
            let running = Runtime::builder()
                .worker_threads(1)
                .defer_taskrun(defer)
                .build()
                .unwrap();
            running.block_on(async {
                let waiting = create_task(async move { next(&mut active).await });
                ringloop::sleep(Duration::from_millis(5)).await.unwrap();
                raise(signum);
                within("the running runtime's listener", waiting)
                    .await
                    .unwrap();
            });
            Flavor::SingleThreaded.runtime().block_on(next(&mut idle));
            drop(parked);
        }
    }
}
