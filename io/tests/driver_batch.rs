//! Batched parks (`DriverConfig::batch_wait`): a park batches only with a batch's worth of ops
//! in flight and no timer due first, and a batched park still ends for a lone completion or
//! an unpark.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ringloop_io::{Driver, DriverConfig};

/// Whether this kernel can batch a wait (`IORING_FEAT_MIN_TIMEOUT`, Linux 6.12).
fn kernel_can_batch() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut numbers = release
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    let version = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    version >= (6, 12)
}

/// A driver with batched parks on (as they are by default).
fn batching_driver() -> Driver {
    Driver::new(DriverConfig::new().batch_wait(Duration::from_micros(20))).unwrap()
}

fn batched_waits(driver: &Driver) -> u64 {
    driver.stats().unwrap().batched_waits
}

fn waker_of(driver: &Driver) -> Waker {
    Waker::from(Arc::new(driver.unparker()))
}

type PendingRead = Pin<Box<dyn Future<Output = (std::io::Result<usize>, Vec<u8>)>>>;

/// `n` reads in flight on a pipe nobody writes to (the write end is returned to keep them
/// pending); the driver cancels them when they are dropped.
fn reads_in_flight(driver: &Driver, n: usize) -> (Vec<PendingRead>, std::os::fd::OwnedFd) {
    let waker = waker_of(driver);
    let mut cx = Context::from_waker(&waker);
    let (reader, writer) = common::raw_pipe();
    let reader = Arc::new(ringloop_io::fs::File::from(reader));
    let mut reads: Vec<PendingRead> = Vec::new();
    for _ in 0..n {
        let reader = Arc::clone(&reader);
        let mut read: PendingRead = Box::pin(async move { reader.read(vec![0_u8; 8]).await });
        assert!(read.as_mut().poll(&mut cx).is_pending());
        reads.push(read);
    }
    driver.poll().unwrap();
    (reads, writer)
}

/// One park that submits and reaps one nop.
fn park_with_a_nop(driver: &Driver) {
    let waker = waker_of(driver);
    let mut cx = Context::from_waker(&waker);
    let mut nop = Box::pin(ringloop_io::nop());
    assert!(nop.as_mut().poll(&mut cx).is_pending());
    driver.park(Some(Duration::from_secs(10))).unwrap();
    match nop.as_mut().poll(&mut cx) {
        Poll::Ready(result) => result.unwrap(),
        Poll::Pending => panic!("one park submits and reaps the nop"),
    }
}

#[test]
fn a_busy_driver_batches_and_a_lone_completion_still_ends_the_park() {
    let driver = batching_driver();
    let _enter = driver.enter();
    let (_idle, _writer) = reads_in_flight(&driver, 16);
    // One more read, which a thread satisfies later: a single completion, far fewer than a
    // batch, must still end the park.
    let (reader, writer) = common::raw_pipe();
    let reader = ringloop_io::fs::File::from(reader);
    let waker = waker_of(&driver);
    let mut cx = Context::from_waker(&waker);
    let mut read = Box::pin(reader.read(vec![0_u8; 16]));
    assert!(read.as_mut().poll(&mut cx).is_pending());
    let write = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        let mut file = std::fs::File::from(writer);
        std::io::Write::write_all(&mut file, b"ping").unwrap();
        file
    });
    let start = Instant::now();
    loop {
        if let Poll::Ready((result, buf)) = read.as_mut().poll(&mut cx) {
            assert_eq!(&buf[..result.unwrap()], b"ping");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the read never completed"
        );
        driver.park(Some(Duration::from_secs(10))).unwrap();
    }
    drop(write.join().unwrap());
    let batched = batched_waits(&driver);
    if kernel_can_batch() {
        assert!(batched >= 1, "{batched}");
    } else {
        assert_eq!(batched, 0);
    }
}

/// Batched waits of `parks` parks, each reaping one nop, with `in_flight` reads pending.
fn batched_waits_of_nop_parks(driver: &Driver, in_flight: usize, parks: usize) -> u64 {
    let _enter = driver.enter();
    let (_idle, _writer) = reads_in_flight(driver, in_flight);
    for _ in 0..parks {
        park_with_a_nop(driver);
    }
    batched_waits(driver)
}

#[test]
fn a_driver_with_few_ops_in_flight_never_batches() {
    // 14 reads and the nop: 15 ops in flight at each park, one short of a batch.
    assert_eq!(batched_waits_of_nop_parks(&batching_driver(), 14, 20), 0);
}

#[test]
fn batching_is_off_by_default_and_on_with_a_batch_wait() {
    assert_eq!(batched_waits_of_nop_parks(&common::driver(), 32, 5), 0);
    let zero = Driver::new(DriverConfig::new().batch_wait(Duration::ZERO)).unwrap();
    assert_eq!(batched_waits_of_nop_parks(&zero, 32, 5), 0);
    let batched = batched_waits_of_nop_parks(&batching_driver(), 32, 5);
    assert_eq!(batched >= 1, kernel_can_batch(), "{batched}");
}

#[test]
fn batching_works_without_deferred_task_work() {
    let driver = Driver::new(
        DriverConfig::new()
            .batch_wait(Duration::from_micros(20))
            .defer_taskrun(false),
    )
    .unwrap();
    let batched = batched_waits_of_nop_parks(&driver, 32, 5);
    assert_eq!(batched >= 1, kernel_can_batch(), "{batched}");
}

#[test]
fn an_unpark_ends_a_batched_park() {
    let driver = batching_driver();
    let _enter = driver.enter();
    let (_idle, _writer) = reads_in_flight(&driver, 16);
    let unparker = driver.unparker();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        unparker.unpark();
    });
    // No timeout: only the unpark can end this park.
    driver.park(None).unwrap();
    t.join().unwrap();
    assert_eq!(batched_waits(&driver), u64::from(kernel_can_batch()));
}

#[test]
fn a_timeout_due_within_the_batch_wait_is_not_batched() {
    let driver = Driver::new(DriverConfig::new().batch_wait(DriverConfig::MAX_BATCH_WAIT)).unwrap();
    let _enter = driver.enter();
    let (_idle, _writer) = reads_in_flight(&driver, 16);
    // The ops in flight would make this park batch, but its timeout comes first.
    driver.park(Some(Duration::from_micros(500))).unwrap();
    assert_eq!(batched_waits(&driver), 0);
    // A timer due within the batch wait is such a timeout too.
    let mut sleep = Box::pin(ringloop_io::time::sleep(Duration::from_micros(200)));
    let waker = waker_of(&driver);
    let mut cx = Context::from_waker(&waker);
    assert!(sleep.as_mut().poll(&mut cx).is_pending());
    driver.park(None).unwrap();
    assert_eq!(batched_waits(&driver), 0);
    while sleep.as_mut().poll(&mut cx).is_pending() {
        driver.park(None).unwrap();
    }
}

#[test]
fn an_overlong_batch_wait_is_an_error() {
    let mut config = DriverConfig::new();
    config.batch_wait(DriverConfig::MAX_BATCH_WAIT + Duration::from_micros(1));
    let err = Driver::new(&config).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("batch_wait"), "{err}");
}

/// An idle driver with a batch's worth of ops in flight and no timer sleeps until something
/// happens. The kernel ends a batched wait that has no general timeout when its minimum wait
/// is over, with or without completions; a park without a timeout used to pass none, and so
/// returned every batch wait (thousands of times in 200 ms: an idle server spun).
#[test]
fn an_idle_batching_driver_without_timers_does_not_spin() {
    let driver = batching_driver();
    let _enter = driver.enter();
    let (_idle, _writer) = reads_in_flight(&driver, 20);
    let unparked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let unparker = driver.unparker();
    let flag = Arc::clone(&unparked);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        unparker.unpark();
    });
    let mut returns = 0;
    while !unparked.load(std::sync::atomic::Ordering::SeqCst) {
        driver.park(None).unwrap();
        returns += 1;
    }
    t.join().unwrap();
    // The unpark's own return, and perhaps one spurious wake-up.
    assert!(
        returns <= 3,
        "park(None) returned {returns} times in 200 ms with nothing to do"
    );
}
