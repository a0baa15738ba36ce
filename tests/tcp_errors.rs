//! TCP errors through the runtime, on every flavour: a reset by the peer ends a read in flight
//! with `ConnectionReset` (and a later write with `BrokenPipe`, not a `SIGPIPE`); connecting
//! where nobody listens is `ConnectionRefused`, over IPv4 and IPv6.

#[macro_use]
mod support;

use ringloop::net::{TcpListener, TcpStream};
use ringloop::{create_task, TaskState};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use support::yield_until;

/// An address on `ip` where nothing listens: a port the kernel just gave a listener that is
/// closed again.
fn closed_port(ip: &str) -> Option<SocketAddr> {
    let listener = std::net::TcpListener::bind((ip, 0)).ok()?;
    listener.local_addr().ok()
}

rt_test! {
    fn a_reset_by_the_peer_ends_a_read_in_flight_with_connection_reset(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let reading = Arc::new(AtomicBool::new(false));
            let server = create_task({
                let reading = reading.clone();
                async move {
                    let (stream, _) = listener.accept().await.unwrap();
                    // Two bytes, of which the client reads one: closing a socket with unread
                    // data makes the kernel send a reset instead of a FIN.
                    let (written, _) = stream.write_all(b"ab".to_vec()).await;
                    written.unwrap();
                    reading.store(true, Ordering::SeqCst);
                    let (read, _) = stream.read(Vec::with_capacity(16)).await;
                    let (write, _) = stream.write(b"too late".to_vec()).await;
                    (read.map(|_| ()), write.map(|_| ()))
                }
            });
            let client = TcpStream::connect(addr).await.unwrap();
            let (n, buf) = client.read(Vec::with_capacity(1)).await;
            assert_eq!((n.unwrap(), &buf[..]), (1, &b"a"[..]));
            // The server's read is in flight (submitted, its task waiting) before the reset.
            yield_until("the server task waits in its read", || {
                reading.load(Ordering::SeqCst) && server.info().state == TaskState::Idle
            })
            .await;
            drop(client);
            let (read, write) = server.await.expect("the server task failed");
            let read = read.expect_err("a read of a reset connection fails");
            assert_eq!(read.kind(), io::ErrorKind::ConnectionReset, "{read}");
            let write = write.expect_err("a write to a reset connection fails");
            assert_eq!(write.kind(), io::ErrorKind::BrokenPipe, "{write}");
        });
    }

    fn connecting_where_nobody_listens_is_connection_refused(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let mut tried = 0;
            for ip in ["127.0.0.1", "::1"] {
                let Some(addr) = closed_port(ip) else {
                    eprintln!("tcp_errors: skipped {ip}, not available here");
                    continue;
                };
                tried += 1;
                let connect = create_task(TcpStream::connect(addr));
                let err = connect
                    .await
                    .expect("the connecting task failed")
                    .expect_err("nothing listens there");
                assert_eq!(
                    err.kind(),
                    io::ErrorKind::ConnectionRefused,
                    "{addr}: {err}"
                );
                // The failure is the connection's, not the runtime's: connecting again works
                // once someone listens.
                let listener = TcpListener::bind((ip, 0)).unwrap();
                let stream = TcpStream::connect(listener.local_addr().unwrap())
                    .await
                    .unwrap();
                let (accepted, _) = listener.accept().await.unwrap();
                assert_eq!(accepted.peer_addr().unwrap(), stream.local_addr().unwrap());
            }
            assert!(tried > 0, "neither loopback address is available");
        });
    }
}
