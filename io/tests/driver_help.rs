//! A driver whose thread is stuck in a long poll is driven by another thread through its
//! `DriverHandle`: its timers fire, and its ring's completions (posted by a kick of the
//! stuck thread, under deferred task work) reach their wakers, on time.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use ringloop_io::{Driver, DriverConfig, DriverHandle};

/// Records when it was first woken.
struct WakeTime {
    start: Instant,
    woken: mpsc::Sender<Duration>,
    once: AtomicBool,
}

impl Wake for WakeTime {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.once.swap(true, Ordering::SeqCst) {
            let _ = self.woken.send(self.start.elapsed());
        }
    }
}

/// How the stuck thread passes its time.
#[derive(Clone, Copy, Debug)]
enum Stuck {
    /// In a blocking system call.
    Sleeping,
    /// Running user code, no system call.
    Spinning,
}

fn stay_stuck(how: Stuck, for_: Duration) {
    let start = Instant::now();
    match how {
        Stuck::Sleeping => thread::sleep(for_),
        Stuck::Spinning => {
            while start.elapsed() < for_ {
                std::hint::spin_loop();
            }
        }
    }
    assert!(start.elapsed() >= for_, "the stuck call was cut short");
}

/// Starts a thread that makes a driver with `config`, submits what `start` makes (polled
/// once with a waker that reports when it is woken), calls `started`, sends its handle,
/// then stays stuck for 2 s. Helps it every 5 ms from this thread until the waker reports;
/// returns how long after `started` that was.
fn woken_while_stuck<F>(
    config: DriverConfig,
    how: Stuck,
    start: impl FnOnce() -> F + Send + 'static,
    started: impl FnOnce() + Send + 'static,
) -> Duration
where
    F: Future + Unpin + 'static,
{
    let (handle_tx, handle_rx) = mpsc::channel::<DriverHandle>();
    let (woken_tx, woken_rx) = mpsc::channel();
    let stuck = thread::spawn(move || {
        let driver = Driver::new(&config).unwrap();
        let _enter = driver.enter();
        let waker = Waker::from(Arc::new(WakeTime {
            start: Instant::now(),
            woken: woken_tx,
            once: AtomicBool::new(false),
        }));
        let mut future = start();
        assert!(Pin::new(&mut future)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        started();
        handle_tx.send(driver.handle()).unwrap();
        // The poll of some other task that blocks its thread, with this future's op or
        // timer pending on this thread's driver.
        stay_stuck(how, Duration::from_secs(2));
        drop(future);
    });
    let handle = handle_rx.recv().unwrap();
    let start = Instant::now();
    let woken = loop {
        if let Ok(at) = woken_rx.try_recv() {
            break at;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "never woken while the driver's thread was stuck"
        );
        let _ = handle.help();
        thread::sleep(Duration::from_millis(5));
    };
    stuck.join().unwrap();
    woken
}

/// Woken at or after `due`, and long before the stuck thread's 2 s are over. (How soon
/// after `due` depends on the helper's 5 ms period and on the machine's load: this is not a
/// performance test. The figures are measured in `DESIGN.md`, "Stuck workers".)
fn assert_on_time(what: &str, woken: Duration, due: Duration) {
    eprintln!("{what}: woken at {woken:?}, due at {due:?}");
    assert!(woken >= due, "{what}: woken early, at {woken:?}");
    assert!(
        woken < Duration::from_secs(1),
        "{what}: woken at {woken:?}, due at {due:?}: held hostage by the stuck thread"
    );
}

#[test]
fn a_stuck_drivers_timer_is_fired_by_a_helper() {
    for how in [Stuck::Sleeping, Stuck::Spinning] {
        let woken = woken_while_stuck(
            DriverConfig::new(),
            how,
            || ringloop_io::time::sleep(Duration::from_millis(100)),
            || {},
        );
        assert_on_time(
            &format!("a timer ({how:?})"),
            woken,
            Duration::from_millis(100),
        );
    }
}

/// A read on the stuck thread's ring whose data arrives 100 ms in: with deferred task work
/// only that thread can post its completion, so the helper kicks it.
#[test]
fn a_stuck_drivers_completion_is_posted_by_a_kick_and_delivered_by_a_helper() {
    for how in [Stuck::Sleeping, Stuck::Spinning] {
        for defer_taskrun in [true, false] {
            let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let writer = thread::spawn(move || {
                go_rx.recv().unwrap();
                thread::sleep(Duration::from_millis(100));
                std::io::Write::write_all(&mut &theirs, b"late").unwrap();
                theirs
            });
            let mut config = DriverConfig::new();
            config
                .defer_taskrun(defer_taskrun)
                .kick_signal(Some(libc::SIGURG));
            let woken = woken_while_stuck(
                config,
                how,
                move || {
                    let file = ringloop_io::fs::File::from(std::os::fd::OwnedFd::from(ours));
                    Box::pin(async move { file.read(vec![0_u8; 16]).await })
                },
                move || go_tx.send(()).unwrap(),
            );
            drop(writer.join().unwrap());
            assert_on_time(
                &format!("a read ({how:?}, defer_taskrun {defer_taskrun})"),
                woken,
                Duration::from_millis(100),
            );
        }
    }
}
