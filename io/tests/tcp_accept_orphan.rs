//! An accept whose future is dropped in flight is cancelled, and if the kernel completed it
//! anyway, the accepted connection is closed: no descriptor leaks.
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

#[test]
fn orphaned_accepts_close_their_connections() {
    let driver = driver();
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let baseline = open_sockets();

    let mut clients = Vec::new();
    let (mut closed_by_orphan, mut left_queued) = (0, 0);
    for i in 0..32 {
        let mut accept = listener.accept();
        assert!(poll_now(&mut accept).is_pending());
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
            // Give the kernel time to complete the accept before the future goes: its CQE
            // then reaches an orphan, which must close the new descriptor.
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(accept);
        for _ in 0..3 {
            driver.park(Some(Duration::from_millis(2))).unwrap();
        }
        clients.push(client);
    }
    // Each connection was either accepted by an orphan and closed (the client reads end of
    // stream), or left queued by the cancel (a new accept gets it).
    for client in &mut clients {
        client
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut byte = [0u8; 1];
        match client.read(&mut byte) {
            Ok(0) => closed_by_orphan += 1,
            Ok(_) => panic!("nobody writes"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let (server, _) = block_on(&driver, listener.accept()).unwrap();
                drop(server);
                left_queued += 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed_by_orphan += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        closed_by_orphan > 0,
        "at least one accept completed after its future was dropped"
    );
    assert!(left_queued > 0, "at least one accept was really cancelled");
    assert_eq!(closed_by_orphan + left_queued, clients.len());
    assert_eq!(
        open_sockets(),
        baseline + clients.len(),
        "only the clients remain: no accepted descriptor leaked"
    );
}
