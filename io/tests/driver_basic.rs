//! The driver on its own: creation, errors, nop round trips, a full submission queue, park.

mod common;

use std::io;
use std::time::{Duration, Instant};

use common::{block_on, driver};
use ringloop_io::{Driver, DriverConfig};

#[test]
fn nop_round_trip() {
    let driver = driver();
    block_on(&driver, async {
        for _ in 0..10 {
            ringloop_io::nop().await.unwrap();
        }
    });
}

#[test]
fn invalid_config_is_an_error_not_a_panic() {
    for entries in [0, DriverConfig::MAX_ENTRIES + 1] {
        let err = Driver::new(DriverConfig::new().entries(entries)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("entries"), "{err}");
    }
}

#[test]
fn ops_and_timers_without_a_driver_fail_clearly() {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut nop = ringloop_io::nop();
    let std::task::Poll::Ready(Err(err)) = std::pin::Pin::new(&mut nop).poll(&mut cx) else {
        panic!("nop without a driver must fail");
    };
    assert!(err.to_string().contains("no io driver"), "{err}");

    let mut sleep = ringloop_io::time::sleep(Duration::from_secs(1));
    let std::task::Poll::Ready(Err(err)) = std::pin::Pin::new(&mut sleep).poll(&mut cx) else {
        panic!("sleep without a driver must fail");
    };
    assert!(err.to_string().contains("no io driver"), "{err}");

    let (r, _w) = common::raw_pipe();
    let file = ringloop_io::fs::File::from(r);
    let mut read = file.read(vec![0u8; 0]);
    let std::task::Poll::Ready((Err(err), buf)) = std::pin::Pin::new(&mut read).poll(&mut cx)
    else {
        panic!("read without a driver must fail");
    };
    assert!(err.to_string().contains("no io driver"), "{err}");
    drop(buf);
}

use std::future::Future;

#[test]
fn more_ops_than_the_ring_holds_are_flushed_not_refused() {
    let driver = Driver::new(DriverConfig::new().entries(4)).unwrap();
    let _enter = driver.enter();
    let waker = std::task::Waker::from(std::sync::Arc::new(driver.unparker()));
    let mut cx = std::task::Context::from_waker(&waker);
    // 100 ops queued in one tick on a 4-entry ring (8-entry CQ, so the CQ overflows too).
    let mut ops: Vec<_> = (0..100).map(|_| Box::pin(ringloop_io::nop())).collect();
    for op in &mut ops {
        assert!(op.as_mut().poll(&mut cx).is_pending());
    }
    let mut done = 0;
    while done < ops.len() {
        driver.park(Some(Duration::from_millis(100))).unwrap();
        done = 0;
        for op in &mut ops {
            match op.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(r) => {
                    r.unwrap();
                    done += 1;
                }
                std::task::Poll::Pending => {}
            }
        }
    }
}

#[test]
fn park_times_out_and_unpark_before_park_is_not_lost() {
    let driver = driver();
    let start = Instant::now();
    driver.park(Some(Duration::from_millis(20))).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(19));

    driver.unparker().unpark();
    let start = Instant::now();
    driver.park(Some(Duration::from_secs(10))).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "a pending unpark must not block"
    );
}

#[test]
fn unpark_from_another_thread_wakes_a_parked_driver() {
    let driver = driver();
    let unparker = driver.unparker();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        unparker.unpark();
    });
    let start = Instant::now();
    driver.park(Some(Duration::from_secs(10))).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    t.join().unwrap();
}

#[test]
fn shutdown_is_idempotent_and_later_ops_fail() {
    let driver = driver();
    driver.shutdown();
    driver.shutdown();
    let err = block_on(&driver, ringloop_io::nop()).unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
    let err = block_on(&driver, ringloop_io::time::sleep(Duration::from_secs(1))).unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
    let err = driver.park(None).unwrap_err();
    assert!(
        err.to_string().contains("shut down"),
        "park never blocks after shutdown"
    );
    driver.poll().unwrap();
}

#[test]
fn unparker_outlives_its_driver() {
    let driver = driver();
    let unparker = driver.unparker();
    drop(driver);
    unparker.unpark();
}
