//! User code that panics inside an op's life: a waker whose `Drop` or `wake` panics, a
//! buffer whose `Drop` panics. The kernel's buffer must stay alive while it is in flight,
//! every other waker must still be woken, and the driver must go on working.

mod common;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use common::{driver, pipe, CountingBuf};

/// A waker that panics when it is woken (if `on_wake`) and when its last handle is dropped
/// (if `on_drop`), and counts its wakes.
struct Hostile {
    on_wake: bool,
    on_drop: bool,
    wakes: Arc<AtomicUsize>,
}

impl Wake for Hostile {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        if self.on_wake {
            panic!("hostile waker: wake");
        }
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        if self.on_drop && !std::thread::panicking() {
            panic!("hostile waker: drop");
        }
    }
}

fn hostile(on_wake: bool, on_drop: bool) -> (Waker, Arc<AtomicUsize>) {
    let wakes = Arc::new(AtomicUsize::new(0));
    let waker = Waker::from(Arc::new(Hostile {
        on_wake,
        on_drop,
        wakes: wakes.clone(),
    }));
    (waker, wakes)
}

fn write(file: &ringloop_io::fs::File, bytes: &[u8]) {
    let fd = std::os::fd::AsFd::as_fd(file).try_clone_to_owned().unwrap();
    std::io::Write::write_all(&mut std::fs::File::from(fd), bytes).unwrap();
}

/// The old waker of an op is dropped when a poll brings a new one. If that drop panics, the
/// op's buffer is still the kernel's: it must not be freed (it used to be, by the unwinding
/// of a local it had been moved into), and the op must still complete into it.
#[test]
fn a_waker_whose_drop_panics_does_not_free_the_buffer_in_flight() {
    let driver = driver();
    let _enter = driver.enter();
    let (reader, writer) = pipe();
    let (buf, drops) = CountingBuf::new(64);
    let mut read = reader.read(buf);
    let (panicky, _) = hostile(false, true);
    assert!(Pin::new(&mut read)
        .poll(&mut Context::from_waker(&panicky))
        .is_pending());
    driver.poll().unwrap();
    // The op's slot now holds the only handle of the hostile waker.
    drop(panicky);
    let good = Waker::from(Arc::new(driver.unparker()));
    let polled = catch_unwind(AssertUnwindSafe(|| {
        Pin::new(&mut read).poll(&mut Context::from_waker(&good))
    }));
    assert!(polled.is_err(), "the old waker's drop panicked in the poll");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "the buffer was freed while the kernel owns it"
    );
    write(&writer, b"still mine");
    let start = Instant::now();
    let (n, buf) = loop {
        if let Poll::Ready(out) = Pin::new(&mut read).poll(&mut Context::from_waker(&good)) {
            break out;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never completed");
        driver.park(Some(Duration::from_secs(1))).unwrap();
    };
    assert_eq!(&buf.data[..n.unwrap()], b"still mine");
    drop(buf);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// A waker whose drop panics when its op's future is dropped in flight: the buffer goes to
/// the driver, the op is cancelled, and the buffer is freed once, after the completion.
#[test]
fn a_waker_whose_drop_panics_when_the_op_is_dropped_still_cancels_it() {
    let driver = driver();
    let _enter = driver.enter();
    let (reader, _writer) = pipe();
    let (buf, drops) = CountingBuf::new(64);
    let mut read = reader.read(buf);
    let (panicky, _) = hostile(false, true);
    assert!(Pin::new(&mut read)
        .poll(&mut Context::from_waker(&panicky))
        .is_pending());
    driver.poll().unwrap();
    drop(panicky);
    let dropped = catch_unwind(AssertUnwindSafe(move || drop(read)));
    assert!(
        dropped.is_err(),
        "the waker's drop panicked in the op's drop"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 0, "freed while in flight");
    let start = Instant::now();
    while drops.load(Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the op was never cancelled"
        );
        driver.park(Some(Duration::from_millis(100))).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// Completions reaped together: the first waker panics when woken. The others are still
/// woken, the driver call that ran them does not fail, and the driver goes on.
#[test]
fn a_panicking_waker_does_not_stop_the_other_wakers() {
    let driver = driver();
    let _enter = driver.enter();
    let (reader, writer) = pipe();
    let mut reads = Vec::new();
    let (panicky, panicked) = hostile(true, false);
    let (counting, wakes) = hostile(false, false);
    for i in 0..4 {
        let mut read = Box::pin(ringloop_io::nop());
        let waker = if i == 0 { &panicky } else { &counting };
        assert!(read
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_pending());
        reads.push(read);
    }
    let ran = catch_unwind(AssertUnwindSafe(|| {
        let start = Instant::now();
        while wakes.load(Ordering::SeqCst) < 3 {
            assert!(start.elapsed() < Duration::from_secs(10), "not all woken");
            driver.park(Some(Duration::from_millis(100))).unwrap();
        }
    }));
    assert!(ran.is_ok(), "a waker's panic escaped the driver");
    assert_eq!(panicked.load(Ordering::SeqCst), 1);
    assert_eq!(wakes.load(Ordering::SeqCst), 3);
    // The driver still works.
    let mut read = reader.read(vec![0u8; 8]);
    let good = Waker::from(Arc::new(driver.unparker()));
    assert!(Pin::new(&mut read)
        .poll(&mut Context::from_waker(&good))
        .is_pending());
    write(&writer, b"ok");
    let start = Instant::now();
    loop {
        if let Poll::Ready((n, buf)) = Pin::new(&mut read).poll(&mut Context::from_waker(&good)) {
            assert_eq!(&buf[..n.unwrap()], b"ok");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10));
        driver.park(Some(Duration::from_millis(100))).unwrap();
    }
}

/// The buffer of an op whose future was dropped is released by the driver when the
/// completion arrives; its `Drop` panicking must not escape the driver either.
#[test]
fn a_buffer_whose_drop_panics_is_released_without_killing_the_driver() {
    struct PanickyBuf(Vec<u8>, Arc<AtomicUsize>);
    impl Drop for PanickyBuf {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
            panic!("hostile buffer: drop");
        }
    }
    // SAFETY: delegates to the Vec, whose heap memory does not move with the struct.
    unsafe impl ringloop_io::IoBuf for PanickyBuf {
        fn stable_ptr(&self) -> *const u8 {
            self.0.as_ptr()
        }
        fn bytes_init(&self) -> usize {
            self.0.len()
        }
        fn bytes_total(&self) -> usize {
            self.0.capacity()
        }
    }
    // SAFETY: as above.
    unsafe impl ringloop_io::IoBufMut for PanickyBuf {
        fn stable_mut_ptr(&mut self) -> *mut u8 {
            self.0.as_mut_ptr()
        }
        unsafe fn set_init(&mut self, len: usize) {
            // SAFETY: forwarded from the caller.
            unsafe { self.0.set_len(len) };
        }
    }

    let driver = driver();
    let _enter = driver.enter();
    let (reader, _writer) = pipe();
    let drops = Arc::new(AtomicUsize::new(0));
    let (counting, wakes) = hostile(false, false);
    let mut nop = Box::pin(ringloop_io::nop());
    assert!(nop
        .as_mut()
        .poll(&mut Context::from_waker(&counting))
        .is_pending());
    let mut read = reader.read(PanickyBuf(Vec::with_capacity(8), drops.clone()));
    assert!(Pin::new(&mut read)
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    driver.poll().unwrap();
    drop(read);
    let ran = catch_unwind(AssertUnwindSafe(|| {
        let start = Instant::now();
        while drops.load(Ordering::SeqCst) == 0 || wakes.load(Ordering::SeqCst) == 0 {
            assert!(start.elapsed() < Duration::from_secs(10), "never released");
            driver.park(Some(Duration::from_millis(100))).unwrap();
        }
    }));
    assert!(ran.is_ok(), "the buffer's panic escaped the driver");
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// A waker that panics when it is cloned (its other functions do nothing).
fn panics_when_cloned() -> Waker {
    use std::task::{RawWaker, RawWakerVTable};
    const VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    fn clone(_: *const ()) -> RawWaker {
        panic!("hostile waker: clone");
    }
    fn noop(_: *const ()) {}
    // SAFETY: every function ignores the data pointer (null here) and none is unsafe to call;
    // `clone` never returns.
    unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

/// A sleep's first poll clones the waker to register its timer. If the clone panics, the
/// panic is the polling task's, the driver is not left locked or broken, and the same sleep
/// polled again with a good waker registers and fires.
#[test]
fn a_waker_whose_clone_panics_in_a_sleeps_first_poll_leaves_the_driver_working() {
    let driver = driver();
    let _io = driver.enter();
    let mut sleep = Box::pin(ringloop_io::time::sleep(Duration::from_millis(20)));
    let bomb = panics_when_cloned();
    let polled = catch_unwind(AssertUnwindSafe(|| {
        let _ = sleep.as_mut().poll(&mut Context::from_waker(&bomb));
    }));
    assert!(polled.is_err(), "the clone's panic reaches the poller");
    let (waker, wakes) = hostile(false, false);
    let mut cx = Context::from_waker(&waker);
    assert!(sleep.as_mut().poll(&mut cx).is_pending());
    let start = Instant::now();
    while wakes.load(Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the timer never fired"
        );
        driver.park(Some(Duration::from_millis(100))).unwrap();
    }
    assert!(matches!(sleep.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
}
