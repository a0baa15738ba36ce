//! Deferred task work (`DriverConfig::defer_taskrun`, on by default): the kernel posts a
//! completion only when the ring's own thread enters it. So `poll` must enter for one even
//! with nothing to submit, `park` must return for one, and `reap` stays free of system calls.
//! Every test runs with the setting on and off.

mod common;

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use ringloop_io::{Driver, DriverConfig};

type PendingRead = Pin<Box<dyn Future<Output = (std::io::Result<usize>, Vec<u8>)>>>;

fn driver_with(defer_taskrun: bool) -> Driver {
    Driver::new(DriverConfig::new().defer_taskrun(defer_taskrun)).unwrap()
}

fn waker_of(driver: &Driver) -> Waker {
    Waker::from(Arc::new(driver.unparker()))
}

/// A read submitted on a pipe, and the pipe's write end.
fn read_in_flight(driver: &Driver) -> (PendingRead, std::fs::File) {
    let (reader, writer) = common::raw_pipe();
    let reader = ringloop_io::fs::File::from(reader);
    let mut read: PendingRead = Box::pin(async move { reader.read(vec![0_u8; 16]).await });
    let waker = waker_of(driver);
    assert!(read
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    driver.poll().unwrap();
    (read, std::fs::File::from(writer))
}

/// The read's byte count, if it has completed.
fn completed(driver: &Driver, read: &mut PendingRead) -> Option<usize> {
    let waker = waker_of(driver);
    match read.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready((result, _buf)) => Some(result.unwrap()),
        Poll::Pending => None,
    }
}

/// Parks until the read completes; fails if that takes 5 seconds.
fn park_until_completed(driver: &Driver, read: &mut PendingRead, defer: bool) {
    let start = Instant::now();
    while completed(driver, read).is_none() {
        driver.park(Some(Duration::from_secs(10))).unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "park slept through the completion (defer_taskrun {defer})"
        );
    }
}

#[test]
fn poll_dispatches_a_completion_with_nothing_to_submit() {
    for defer in [true, false] {
        let driver = driver_with(defer);
        let _enter = driver.enter();
        let (mut read, mut writer) = read_in_flight(&driver);
        writer.write_all(b"ping").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            driver.poll().unwrap();
            if let Some(n) = completed(&driver, &mut read) {
                assert_eq!(n, 4);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "poll never dispatched the read (defer_taskrun {defer})"
            );
            thread::sleep(Duration::from_millis(1));
        }
    }
}

#[test]
fn park_returns_for_a_completion_made_on_another_thread() {
    for defer in [true, false] {
        let driver = driver_with(defer);
        let _enter = driver.enter();
        let (mut read, mut writer) = read_in_flight(&driver);
        let writing = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            writer.write_all(b"ping").unwrap();
            writer
        });
        park_until_completed(&driver, &mut read, defer);
        drop(writing.join().unwrap());
    }
}

#[test]
fn reap_never_enters_the_kernel() {
    for defer in [true, false] {
        let driver = driver_with(defer);
        let _enter = driver.enter();
        let (mut read, mut writer) = read_in_flight(&driver);
        writer.write_all(b"ping").unwrap();
        let enters = driver.stats().unwrap().enters;
        for _ in 0..10 {
            driver.reap().unwrap();
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            driver.stats().unwrap().enters,
            enters,
            "defer_taskrun {defer}"
        );
        // Whatever reap left, a park picks up.
        park_until_completed(&driver, &mut read, defer);
    }
}
