//! Reads and accepts are cancel-safe: what the kernel produced for an op whose future was
//! dropped (bytes, a datagram, a connection) goes to the next read or accept on the same
//! descriptor, in order, and nothing is lost or duplicated.

mod common;

use std::future::Future;
use std::io::Write;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use common::{block_on, driver, tcp_pair};
use ringloop_io::net::{TcpListener, UdpSocket};
use ringloop_io::Driver;

fn waker_of(driver: &Driver) -> Waker {
    Waker::from(Arc::new(driver.unparker()))
}

/// Polls `future` with a waker of `driver`, parking in between, for at most 5 s.
fn poll_until_ready<F: Future + Unpin>(driver: &Driver, future: &mut F) -> F::Output {
    let waker = waker_of(driver);
    let start = Instant::now();
    loop {
        if let Poll::Ready(out) = Pin::new(&mut *future).poll(&mut Context::from_waker(&waker)) {
            return out;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "never completed: what a dropped op received was lost"
        );
        driver.park(Some(Duration::from_millis(50))).unwrap();
    }
}

fn assert_pending<F: Future + Unpin>(driver: &Driver, future: &mut F) {
    let waker = waker_of(driver);
    assert!(Pin::new(future)
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
}

/// The read's completion has arrived (reaped, not yet polled) when its future is dropped:
/// the next read returns those bytes.
#[test]
fn bytes_of_a_read_dropped_after_its_completion_go_to_the_next_read() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    let _enter = driver.enter();
    let mut read = server.read(Vec::with_capacity(64));
    assert_pending(&driver, &mut read);
    block_on(&driver, client.write_all(&b"first"[..]))
        .0
        .unwrap();
    // Reap until the read's completion is in (it wakes the waker; it is not polled).
    let start = Instant::now();
    while driver.stats().unwrap().cqes_reaped < 1 || start.elapsed() < Duration::from_millis(20) {
        driver.park(Some(Duration::from_millis(5))).unwrap();
    }
    drop(read);
    block_on(&driver, client.write_all(&b"second"[..]))
        .0
        .unwrap();
    let mut next = server.read(Vec::with_capacity(64));
    let (n, buf) = poll_until_ready(&driver, &mut next);
    assert_eq!(&buf[..n.unwrap()], b"first");
    let (n, buf) = block_on(&driver, server.read(Vec::with_capacity(64)));
    assert_eq!(&buf[..n.unwrap()], b"second");
}

/// A read is dropped in flight just after bytes arrived; a new read is issued before the
/// dropped one's cancel has completed. It waits for that completion (whichever way the race
/// between the cancel and the bytes went), then returns the bytes from their start, as many
/// as fit, and the next read the rest.
#[test]
fn a_read_issued_while_a_dropped_one_is_in_flight_gets_the_bytes_in_order() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    let _enter = driver.enter();
    let mut read = server.read(vec![0_u8; 64]);
    assert_pending(&driver, &mut read);
    driver.poll().unwrap();
    let mut raw = std::net::TcpStream::from(
        std::os::fd::AsFd::as_fd(&client)
            .try_clone_to_owned()
            .unwrap(),
    );
    raw.write_all(b"raced").unwrap();
    std::thread::sleep(Duration::from_millis(10));
    drop(read);
    let mut next = server.read(vec![0_u8; 3]);
    let (n, buf) = poll_until_ready(&driver, &mut next);
    assert_eq!(
        &buf[..n.unwrap()],
        b"rac",
        "the oldest bytes first, as many as fit"
    );
    let (n, buf) = block_on(&driver, server.read(vec![0_u8; 64]));
    assert_eq!(&buf[..n.unwrap()], b"ed");
    drop((client, raw));
}

/// Many reads abandoned at random points (as a `select!` abandons the branch that lost,
/// even if its completion is in) while a writer streams numbered bytes: the reader sees
/// every byte once, in order. Run with and without deferred task work: without it, the
/// kernel posts completions whenever they happen, so some arrive after the drop.
#[test]
fn a_stream_read_abandoned_at_random_points_loses_and_repeats_nothing() {
    for defer_taskrun in [true, false] {
        let driver =
            Driver::new(ringloop_io::DriverConfig::new().defer_taskrun(defer_taskrun)).unwrap();
        stream_with_abandoned_reads(&driver);
    }
}

fn stream_with_abandoned_reads(driver: &Driver) {
    const TOTAL: usize = 200_000;
    let (client, server) = tcp_pair(driver, "127.0.0.1");
    let raw = std::os::fd::AsFd::as_fd(&client)
        .try_clone_to_owned()
        .unwrap();
    drop(client);
    let writer = std::thread::spawn(move || {
        let mut raw = std::net::TcpStream::from(raw);
        let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
        for (i, chunk) in data.chunks(997).enumerate() {
            raw.write_all(chunk).unwrap();
            if i % 2 == 0 {
                std::thread::sleep(Duration::from_micros(300));
            }
        }
        raw.shutdown(Shutdown::Write).unwrap();
    });
    let _enter = driver.enter();
    let waker = waker_of(driver);
    let mut cx = Context::from_waker(&waker);
    let mut received = Vec::with_capacity(TOTAL);
    let (mut abandoned, mut seed) = (0, 0x9e37_79b9_7f4a_7c15_u64);
    let start = Instant::now();
    'reads: loop {
        assert!(start.elapsed() < Duration::from_secs(20), "stalled");
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut read = server.read(Vec::with_capacity(1 + (seed as usize >> 8) % 4000));
        // Abandon this read after 0 to 2 parks (0: before its first completion could be
        // reaped), or see it through.
        let abandon_after = match seed % 8 {
            0..=2 => Some(0),
            n @ 3..=4 => Some(n - 2),
            _ => None,
        };
        let mut parks = 0;
        loop {
            if let Poll::Ready((n, buf)) = Pin::new(&mut read).poll(&mut cx) {
                let n = n.unwrap();
                if n == 0 {
                    break 'reads;
                }
                received.extend_from_slice(&buf[..n]);
                break;
            }
            if abandon_after == Some(parks) {
                // Dropped without another poll, whatever the last park reaped.
                abandoned += 1;
                break;
            }
            driver.park(Some(Duration::from_millis(1))).unwrap();
            parks += 1;
        }
    }
    writer.join().unwrap();
    assert!(abandoned > 5, "the test must abandon reads: {abandoned}");
    assert_eq!(received.len(), TOTAL, "bytes lost or duplicated");
    let first_bad = received
        .iter()
        .enumerate()
        .find(|(i, b)| **b != (*i % 251) as u8);
    assert_eq!(first_bad, None, "bytes reordered");
}

/// An accept whose connection has arrived when its future is dropped: the next accept
/// returns that connection (it used to be closed).
#[test]
fn a_connection_of_a_dropped_accept_goes_to_the_next_accept() {
    let driver = driver();
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut accept = listener.accept();
    assert_pending(&driver, &mut accept);
    let client = std::net::TcpStream::connect(addr).unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(30) {
        driver.park(Some(Duration::from_millis(5))).unwrap();
    }
    drop(accept);
    let mut next = listener.accept();
    let (server, peer) = poll_until_ready(&driver, &mut next).unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    let mut client = client;
    client.write_all(b"kept").unwrap();
    let (n, buf) = block_on(&driver, server.read(Vec::with_capacity(8)));
    assert_eq!(&buf[..n.unwrap()], b"kept");
}

/// A datagram received for a dropped `recv_from` goes, with its sender, to the next one.
#[test]
fn a_datagram_of_a_dropped_receive_goes_to_the_next_one() {
    let driver = driver();
    let _enter = driver.enter();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let mut receive = socket.recv_from(vec![0_u8; 64]);
    assert_pending(&driver, &mut receive);
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"one", addr).unwrap();
    sender.send_to(b"two", addr).unwrap();
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(30) {
        driver.park(Some(Duration::from_millis(5))).unwrap();
    }
    drop(receive);
    let mut next = socket.recv_from(vec![0_u8; 2]);
    let (got, buf) = poll_until_ready(&driver, &mut next);
    let (n, from) = got.unwrap();
    assert_eq!(
        (&buf[..n], from),
        (&b"on"[..], sender.local_addr().unwrap())
    );
    let (got, buf) = block_on(&driver, socket.recv_from(vec![0_u8; 64]));
    assert_eq!(&buf[..got.unwrap().0], b"two", "one datagram per receive");
}

/// A connected stream's read dropped in flight with nothing received: the cancel takes
/// nothing, and the next read gets the next bytes.
#[test]
fn a_read_cancelled_before_any_data_leaves_nothing() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    let _enter = driver.enter();
    let mut read = server.read(Vec::with_capacity(64));
    assert_pending(&driver, &mut read);
    driver.poll().unwrap();
    drop(read);
    let mut next = server.read(Vec::with_capacity(64));
    assert_pending(&driver, &mut next);
    block_on(&driver, client.write_all(&b"after"[..]))
        .0
        .unwrap();
    let (n, buf) = poll_until_ready(&driver, &mut next);
    assert_eq!(&buf[..n.unwrap()], b"after");
}
