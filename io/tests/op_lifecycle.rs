//! The op lifecycle across threads: stolen ops, ops dropped in flight (on the owner thread
//! and on another one), orphaned descriptors, and shutdown with ops in flight.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{block_on, driver, pipe, CountingBuf};
use ringloop_io::fs::File;

/// A waker that unparks a plain thread.
struct ThreadWaker(thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on the current thread (which has no driver) until ready.
fn block_on_foreign<F: Future + Unpin>(mut future: F, limit: Duration) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let start = Instant::now();
    loop {
        if let Poll::Ready(out) = Pin::new(&mut future).poll(&mut Context::from_waker(&waker)) {
            return out;
        }
        assert!(
            start.elapsed() < limit,
            "the completion never reached the stolen op"
        );
        thread::park_timeout(Duration::from_millis(100));
    }
}

/// Polls `future` once with a no-op waker (submits it to the current driver).
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Parks `driver` in a loop until `stop` is set.
fn park_until(driver: &ringloop_io::Driver, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        driver.park(Some(Duration::from_secs(10))).unwrap();
    }
}

#[test]
fn stolen_op_completes_on_the_thread_that_polls_it() {
    let driver = driver();
    let (reader, writer) = pipe();
    let stop = Arc::new(AtomicBool::new(false));
    let unparker = driver.unparker();

    let _enter = driver.enter();
    let (buf, drops) = CountingBuf::new(64);
    let mut read = reader.read(buf);
    assert!(
        poll_once(&mut read).is_pending(),
        "submitted to this thread's ring"
    );

    // The task is stolen: another thread (with no driver at all) polls it from now on.
    let stolen = thread::spawn({
        let stop = stop.clone();
        move || {
            let (n, buf) = block_on_foreign(read, Duration::from_secs(10));
            stop.store(true, Ordering::SeqCst);
            unparker.unpark();
            (n.unwrap(), buf.data.clone())
        }
    });
    thread::sleep(Duration::from_millis(20));
    std::io::Write::write_all(&mut std::fs::File::from(clone_fd(&writer)), b"stolen").unwrap();
    park_until(&driver, &stop);
    let (n, data) = stolen.join().unwrap();
    assert_eq!(n, 6);
    assert_eq!(data, b"stolen");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "buffer freed exactly once");
}

fn clone_fd(file: &File) -> std::os::fd::OwnedFd {
    std::os::fd::AsFd::as_fd(file).try_clone_to_owned().unwrap()
}

#[test]
fn op_stolen_by_another_worker_completes_there() {
    let driver_a = driver();
    let (reader, writer) = pipe();
    let _enter = driver_a.enter();
    let mut read = reader.read(Vec::with_capacity(16));
    assert!(poll_once(&mut read).is_pending());
    let stop = Arc::new(AtomicBool::new(false));
    let unparker_a = driver_a.unparker();
    // Worker B has its own driver and parks on it; the completion comes from A's ring.
    let worker_b = thread::spawn({
        let stop = stop.clone();
        move || {
            let driver_b = driver();
            let (n, buf) = block_on(&driver_b, read);
            stop.store(true, Ordering::SeqCst);
            unparker_a.unpark();
            (n.unwrap(), buf)
        }
    });
    thread::sleep(Duration::from_millis(20));
    std::io::Write::write_all(&mut std::fs::File::from(clone_fd(&writer)), b"ab").unwrap();
    park_until(&driver_a, &stop);
    assert_eq!(worker_b.join().unwrap(), (2, b"ab".to_vec()));
}

#[test]
fn op_dropped_on_another_thread_is_cancelled_on_its_ring_and_frees_its_buffer_once() {
    let driver = driver();
    let (reader, _writer) = pipe();
    let _enter = driver.enter();
    let (buf, drops) = CountingBuf::new(64);
    let mut read = reader.read(buf);
    assert!(poll_once(&mut read).is_pending());

    // Drop it on another thread while the owner is busy (not parked, not polling).
    thread::spawn(move || drop(read)).join().unwrap();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the kernel still owns the buffer: it must stay alive until the completion"
    );

    // The owner is woken by the cancel request, cancels on its own ring, reaps, frees.
    let start = Instant::now();
    while drops.load(Ordering::SeqCst) == 0 {
        driver.park(Some(Duration::from_secs(10))).unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "cancel request lost"
        );
    }
    for _ in 0..3 {
        driver.park(Some(Duration::from_millis(5))).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn op_dropped_while_its_owner_is_parked_wakes_the_owner() {
    let driver = driver();
    let (reader, _writer) = pipe();
    let _enter = driver.enter();
    let (buf, drops) = CountingBuf::new(64);
    let mut read = reader.read(buf);
    assert!(poll_once(&mut read).is_pending());
    let dropper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        drop(read);
    });
    let start = Instant::now();
    while drops.load(Ordering::SeqCst) == 0 {
        driver.park(Some(Duration::from_secs(10))).unwrap();
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    dropper.join().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn op_dropped_on_its_owner_thread_is_cancelled() {
    let driver = driver();
    let (reader, _writer) = pipe();
    let (buf, drops) = CountingBuf::new(64);
    {
        let _enter = driver.enter();
        let mut read = reader.read(buf);
        assert!(poll_once(&mut read).is_pending());
        driver.poll().unwrap(); // now really in the kernel
        drop(read);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
    }
    let start = Instant::now();
    while drops.load(Ordering::SeqCst) == 0 {
        driver.park(Some(Duration::from_secs(1))).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn op_dropped_before_its_first_poll_costs_nothing() {
    let (reader, _writer) = pipe();
    let (buf, drops) = CountingBuf::new(8);
    drop(reader.read(buf));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// A read whose completion arrived but was never polled: its bytes are kept, in its
/// buffer, for the next read, which frees that buffer once it has taken them.
#[test]
fn completed_but_unpolled_read_keeps_its_bytes_for_the_next_read() {
    let driver = driver();
    let (reader, writer) = pipe();
    let (buf, drops) = CountingBuf::new(8);
    let _enter = driver.enter();
    let mut read = reader.read(buf);
    assert!(poll_once(&mut read).is_pending());
    block_on(&driver, writer.write(b"x".to_vec())).0.unwrap();
    for _ in 0..3 {
        driver.park(Some(Duration::from_millis(5))).unwrap();
    }
    drop(read);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "kept with its bytes");
    let (n, got) = block_on(&driver, reader.read(Vec::with_capacity(8)));
    assert_eq!(&got[..n.unwrap()], b"x");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "freed once emptied");
}

/// The same, but the descriptor is closed before another read: the kept buffer is freed
/// with it.
#[test]
fn a_kept_buffer_is_freed_with_its_descriptor() {
    let driver = driver();
    let (reader, writer) = pipe();
    let (buf, drops) = CountingBuf::new(8);
    let _enter = driver.enter();
    let mut read = reader.read(buf);
    assert!(poll_once(&mut read).is_pending());
    block_on(&driver, writer.write(b"x".to_vec())).0.unwrap();
    for _ in 0..3 {
        driver.park(Some(Duration::from_millis(5))).unwrap();
    }
    drop(read);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(reader);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn shutdown_cancels_and_reaps_ops_in_flight_before_freeing_anything() {
    let driver = driver();
    let (reader, _writer) = pipe();
    let _enter = driver.enter();
    let (kept_buf, kept_drops) = CountingBuf::new(64);
    let (dropped_buf, dropped_drops) = CountingBuf::new(64);
    let mut kept = reader.read(kept_buf);
    let mut dropped = reader.read(dropped_buf);
    assert!(poll_once(&mut kept).is_pending());
    assert!(poll_once(&mut dropped).is_pending());
    driver.poll().unwrap();
    drop(dropped);
    assert_eq!(dropped_drops.load(Ordering::SeqCst), 0);

    driver.shutdown();
    assert_eq!(
        dropped_drops.load(Ordering::SeqCst),
        1,
        "reaped and freed by shutdown"
    );
    let Poll::Ready((result, buf)) = poll_once(&mut kept) else {
        panic!("a live op completes at shutdown");
    };
    assert_eq!(result.unwrap_err().raw_os_error(), Some(libc_ecanceled()));
    assert_eq!(kept_drops.load(Ordering::SeqCst), 0);
    drop(buf);
    assert_eq!(kept_drops.load(Ordering::SeqCst), 1);
}

fn libc_ecanceled() -> i32 {
    125
}

#[test]
fn dropping_the_driver_with_ops_in_flight_on_other_threads_is_safe() {
    let (reader, _writer) = pipe();
    let (tx, rx) = mpsc::channel();
    let (buf, drops) = CountingBuf::new(64);
    {
        let driver = driver();
        let _enter = driver.enter();
        let mut read = reader.read(buf);
        assert!(poll_once(&mut read).is_pending());
        tx.send(read).unwrap();
        // The driver is dropped here, with the op (owned by the channel) in flight.
    }
    let read = rx.recv().unwrap();
    let (result, buf) = block_on_foreign(read, Duration::from_secs(5));
    assert!(result.is_err());
    drop(buf);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// Counts this process's descriptors that refer to `path`.
fn open_descriptors_of(path: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target == path)
        .count()
}

#[test]
fn orphaned_open_closes_its_descriptor() {
    let dir = std::env::temp_dir().join(format!("ringloop-io-orphan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("file");
    std::fs::write(&path, b"x").unwrap();
    let path = path.canonicalize().unwrap();

    let driver = driver();
    {
        let _enter = driver.enter();
        for i in 0..64 {
            let mut open = File::open(&path);
            assert!(poll_once(&mut open).is_pending());
            if i % 2 == 0 {
                driver.poll().unwrap(); // half are dropped after reaching the kernel
            }
            drop(open);
        }
        let file = block_on(&driver, File::open(&path)).unwrap();
        assert!(open_descriptors_of(&path) >= 1);
        drop(file);
    }
    driver.shutdown(); // waits for every open still in flight
    assert_eq!(
        open_descriptors_of(&path),
        0,
        "an orphaned open leaked its descriptor"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
