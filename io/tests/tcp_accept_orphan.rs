//! An accept whose future is dropped in flight is cancelled; if the kernel completed it
//! anyway, the accepted connection is kept for the listener's next accept, and closed with
//! the listener if no accept comes: no connection is lost and no descriptor leaks.
//!
//! It counts the process's sockets, so this binary holds this single test.

mod common;

use std::future::Future;
use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{block_on, driver, open_sockets};
use ringloop_io::net::TcpListener;

fn poll_now<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Dropped accepts, some cancelled before a connection came and some completed after their
/// future was dropped; then as many accepts as clients (each gets one, kept or queued), or
/// none and the listener dropped (the kept connections are closed).
fn dropped_accepts(accept_them_afterwards: bool) {
    let driver = driver();
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let baseline = open_sockets();

    let mut clients = Vec::new();
    // Connections kept by dropped accepts, taken at once by the next accept.
    let mut servers = Vec::new();
    for i in 0..32 {
        let mut accept = listener.accept();
        while let Poll::Ready(kept) = poll_now(&mut accept) {
            servers.push(kept.unwrap());
            accept = listener.accept();
        }
        driver.poll().unwrap(); // the accept is in the kernel, waiting
        if i % 4 == 3 {
            // Cancelled before any connection arrives: the next one stays queued.
            drop(accept);
            for _ in 0..3 {
                driver.park(Some(Duration::from_millis(2))).unwrap();
            }
            clients.push(std::net::TcpStream::connect(addr).unwrap());
            continue;
        }
        let client = std::net::TcpStream::connect(addr).unwrap();
        if i % 2 == 0 {
            // Give the kernel time to complete the accept before the future goes: its
            // connection then reaches an orphan, which keeps it for the next accept.
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(accept);
        for _ in 0..3 {
            driver.park(Some(Duration::from_millis(2))).unwrap();
        }
        clients.push(client);
    }
    for client in &mut clients {
        client
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
    }
    if accept_them_afterwards {
        while servers.len() < clients.len() {
            servers.push(block_on(&driver, listener.accept()).unwrap());
        }
        for (server, peer) in &servers {
            let (sent, _) = block_on(&driver, server.write_all(peer.to_string().into_bytes()));
            sent.unwrap();
        }
        // Every client got its own connection, alive: nothing was closed or lost.
        for client in &mut clients {
            let mut got = vec![0_u8; 64];
            let n = client.read(&mut got).expect("the connection is alive");
            let expected = client.local_addr().unwrap().to_string();
            assert_eq!(std::str::from_utf8(&got[..n]).unwrap(), expected);
        }
        drop(servers);
    } else {
        drop(servers);
        drop(listener);
        // No accept came: every connection was either kept (and is closed with the
        // listener) or still queued (and is reset with it).
        for client in &mut clients {
            let mut byte = [0_u8; 1];
            match client.read(&mut byte) {
                Ok(0) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
                other => panic!("the connection outlived its listener: {other:?}"),
            }
        }
    }
    assert_eq!(
        open_sockets(),
        baseline + clients.len() - usize::from(!accept_them_afterwards),
        "only the clients remain (and the listener, if kept): no descriptor leaked"
    );
}

#[test]
fn connections_of_dropped_accepts_are_kept_for_the_next_accepts_or_closed_with_the_listener() {
    dropped_accepts(true);
    dropped_accepts(false);
}
