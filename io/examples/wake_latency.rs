//! Measures the two ways to wake a thread blocked in `io_uring_enter` from another thread:
//! an eventfd write completing an armed read (what `Driver` does), and `IORING_OP_MSG_RING`
//! from the waker's own ring. Each test is a ping-pong between two threads, each blocked on
//! its own ring; the reported figure is the one-way wake-up latency (round trip / 2).
//!
//! `cargo run --release -p ringloop-io --example wake_latency`

use std::os::fd::AsRawFd;
use std::thread;
use std::time::{Duration, Instant};

use io_uring::{opcode, types, IoUring};

const ROUNDS: u32 = 20_000;

fn eventfd() -> i32 {
    // SAFETY: eventfd(2) takes no pointers.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    assert!(fd >= 0, "eventfd: {}", std::io::Error::last_os_error());
    fd
}

fn write_eventfd(fd: i32) {
    let one = 1u64;
    // SAFETY: writes 8 bytes from a live u64.
    let n = unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    assert_eq!(n, 8);
}

/// Blocks on `ring` until the read of `fd` into `buf` completes, then re-arms it.
fn wait_eventfd(ring: &mut IoUring, fd: i32, buf: &mut u64) {
    let entry = opcode::Read::new(types::Fd(fd), (buf as *mut u64).cast(), 8)
        .build()
        .user_data(1);
    // SAFETY: `buf` and `fd` outlive the read, which completes before this returns.
    unsafe { ring.submission().push(&entry).expect("sq full") };
    ring.submit_and_wait(1).expect("enter");
    let cqe = ring.completion().next().expect("a completion");
    assert_eq!(cqe.result(), 8);
}

fn eventfd_ping_pong() -> Duration {
    let (a, b) = (eventfd(), eventfd());
    let pong = thread::spawn(move || {
        let mut ring = IoUring::new(8).expect("ring");
        let mut buf = 0u64;
        for _ in 0..ROUNDS {
            wait_eventfd(&mut ring, b, &mut buf);
            write_eventfd(a);
        }
    });
    let mut ring = IoUring::new(8).expect("ring");
    let mut buf = 0u64;
    thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    for _ in 0..ROUNDS {
        write_eventfd(b);
        wait_eventfd(&mut ring, a, &mut buf);
    }
    let elapsed = start.elapsed();
    pong.join().expect("pong");
    elapsed / (2 * ROUNDS)
}

/// Sends a MSG_RING to `target` and blocks on `ring` until the peer's message arrives.
fn msg_ring_round(ring: &mut IoUring, target: i32, wait: bool) {
    let entry = opcode::MsgRingData::new(types::Fd(target), 0, 7, None)
        .build()
        .flags(io_uring::squeue::Flags::SKIP_SUCCESS)
        .user_data(2);
    // SAFETY: a MSG_RING data message refers to no memory.
    unsafe { ring.submission().push(&entry).expect("sq full") };
    if !wait {
        ring.submit().expect("enter");
        return;
    }
    loop {
        ring.submit_and_wait(1).expect("enter");
        let got = ring.completion().any(|cqe| cqe.user_data() == 7);
        if got {
            return;
        }
    }
}

fn wait_msg(ring: &mut IoUring) {
    loop {
        ring.submit_and_wait(1).expect("enter");
        if ring.completion().any(|cqe| cqe.user_data() == 7) {
            return;
        }
    }
}

fn msg_ring_ping_pong() -> Duration {
    let ping = IoUring::new(8).expect("ring");
    let ping_fd = ping.as_raw_fd();
    let (tx, rx) = std::sync::mpsc::channel();
    let pong = thread::spawn(move || {
        let mut ring = IoUring::new(8).expect("ring");
        tx.send(ring.as_raw_fd()).expect("send");
        for _ in 0..ROUNDS {
            wait_msg(&mut ring);
            msg_ring_round(&mut ring, ping_fd, false);
        }
        // Keep the ring open until the last message to it was sent.
        thread::sleep(Duration::from_millis(50));
    });
    let pong_fd = rx.recv().expect("fd");
    let mut ping = ping;
    thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    for _ in 0..ROUNDS {
        msg_ring_round(&mut ping, pong_fd, true);
    }
    let elapsed = start.elapsed();
    pong.join().expect("pong");
    elapsed / (2 * ROUNDS)
}

/// The cost, on the waker's side, of waking a thread that is running (not parked): with the
/// awake flag this is one atomic swap and no syscall.
fn driver_unpark_running() -> Duration {
    let driver = ringloop_io::Driver::new(&ringloop_io::DriverConfig::new()).expect("driver");
    let unparker = driver.unparker();
    let start = Instant::now();
    for _ in 0..ROUNDS {
        unparker.unpark();
    }
    start.elapsed() / ROUNDS
}

/// One-way wake-up latency through `Driver::park`/`Unparker::unpark` (the real code path).
fn driver_ping_pong() -> Duration {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    let turn = Arc::new(AtomicU32::new(0));
    let (tx, rx) = std::sync::mpsc::channel();
    let driver = ringloop_io::Driver::new(&ringloop_io::DriverConfig::new()).expect("driver");
    let ping_unparker = driver.unparker();
    let pong = thread::spawn({
        let turn = turn.clone();
        move || {
            let driver =
                ringloop_io::Driver::new(&ringloop_io::DriverConfig::new()).expect("driver");
            tx.send(driver.unparker()).expect("send");
            for round in 0..ROUNDS {
                while turn.load(Ordering::Acquire) != 2 * round + 1 {
                    driver.park(None).expect("park");
                }
                turn.store(2 * round + 2, Ordering::Release);
                ping_unparker.unpark();
            }
        }
    });
    let pong_unparker = rx.recv().expect("unparker");
    thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    for round in 0..ROUNDS {
        turn.store(2 * round + 1, Ordering::Release);
        pong_unparker.unpark();
        while turn.load(Ordering::Acquire) != 2 * round + 2 {
            driver.park(None).expect("park");
        }
    }
    let elapsed = start.elapsed();
    pong.join().expect("pong");
    elapsed / (2 * ROUNDS)
}

fn main() {
    for _ in 0..3 {
        println!(
            "one-way wake-up: eventfd {:?}, MSG_RING {:?}, Driver (eventfd + awake flag) {:?}; \
             unpark of a running driver {:?}",
            eventfd_ping_pong(),
            msg_ring_ping_pong(),
            driver_ping_pong(),
            driver_unpark_running(),
        );
    }
}
