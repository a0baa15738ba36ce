//! UDP echo through the runtime, on every flavour: a server task answering each datagram to
//! its sender, and client tasks, half of them connected (`send`/`recv`) and half not
//! (`send_to`/`recv_from`), over IPv4 and IPv6; datagram boundaries (an empty datagram, one
//! of 60,000 bytes, one longer than the buffer it is received into).

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

use io_support::payload;
use ringloop::net::UdpSocket;
use ringloop::{create_task, gather, timeout};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// Concurrent clients per echo test.
const CLIENTS: usize = 8;

/// The sizes of each client's datagrams. Small enough that all clients' datagrams fit in the
/// server's receive buffer at once: loopback does not drop them then.
const SIZES: [usize; 5] = [0, 1, 512, 1200, 8192];

/// How long a datagram may take to come back before the test fails (instead of hanging).
const PATIENCE: Duration = Duration::from_secs(10);

/// Answers `count` datagrams, each to its sender; returns the bytes echoed.
async fn serve(socket: UdpSocket, count: usize) -> io::Result<usize> {
    let mut total = 0;
    let mut buf = Vec::with_capacity(64 * 1024);
    for _ in 0..count {
        let (received, filled) = socket.recv_from(buf).await;
        let (n, peer) = received?;
        assert_eq!(n, filled.len());
        total += n;
        let (sent, back) = socket.send_to(filled, peer).await;
        assert_eq!(sent?, n, "a datagram is sent whole");
        buf = back;
    }
    Ok(total)
}

/// Sends each size of [`SIZES`] and checks the answer; connected or not.
async fn client(server: SocketAddr, id: usize, connected: bool) -> io::Result<()> {
    let socket = UdpSocket::bind((server.ip(), 0))?;
    if connected {
        socket.connect(server)?;
        assert_eq!(socket.peer_addr()?, server);
    }
    for (round, &size) in SIZES.iter().enumerate() {
        let message = payload((id * SIZES.len() + round) as u64, size);
        let (sent, message) = if connected {
            socket.send(message).await
        } else {
            socket.send_to(message, server).await
        };
        assert_eq!(sent?, size);
        let buf = Vec::with_capacity(16 * 1024);
        let echoed = if connected {
            let (n, buf) = timeout(PATIENCE, socket.recv(buf)).await?;
            assert_eq!(n?, size);
            buf
        } else {
            let (received, buf) = timeout(PATIENCE, socket.recv_from(buf)).await?;
            let (n, from) = received?;
            assert_eq!((n, from), (size, server));
            buf
        };
        assert!(
            echoed == message,
            "client {id}: datagram {round} came back changed"
        );
    }
    Ok(())
}

fn echo_round_trips(flavor: support::Flavor, ip: &'static str) {
    let rt = flavor.runtime();
    rt.block_on(async {
        let server = match UdpSocket::bind((ip, 0)) {
            Ok(socket) => socket,
            Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => {
                eprintln!("udp_echo: skipped, {ip} is not available here: {e}");
                return;
            }
            Err(e) => panic!("bind {ip}: {e}"),
        };
        let addr = server.local_addr().unwrap();
        let server = create_task(serve(server, CLIENTS * SIZES.len()));
        let clients = (0..CLIENTS).map(|id| create_task(client(addr, id, id % 2 == 0)));
        for (id, outcome) in gather(clients).await.into_iter().enumerate() {
            let outcome = outcome.expect("a client task failed");
            outcome.unwrap_or_else(|e| panic!("client {id}: {e}"));
        }
        let echoed = server.await.expect("the server task failed").unwrap();
        assert_eq!(echoed, CLIENTS * SIZES.iter().sum::<usize>());
    });
}

rt_test! {
    fn echo_over_ipv4(flavor: Flavor) {
        echo_round_trips(flavor, "127.0.0.1");
    }

    fn echo_over_ipv6(flavor: Flavor) {
        echo_round_trips(flavor, "::1");
    }

    fn datagrams_keep_their_boundaries(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
            let to = receiver.local_addr().unwrap();
            let receiving = create_task(async move {
                let mut got = Vec::new();
                // 60,000 bytes in one datagram; then an empty one; then one of 100 bytes into
                // a 10-byte buffer, whose rest is discarded; then the next one, whole.
                for capacity in [64 * 1024, 16, 10, 16] {
                    let (received, buf) =
                        timeout(PATIENCE, receiver.recv_from(Vec::with_capacity(capacity)))
                            .await
                            .expect("a datagram was lost");
                    let (n, _) = received.unwrap();
                    assert_eq!(n, buf.len());
                    got.push(buf);
                }
                got
            });
            let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
            let big = payload(7, 60_000);
            let long = payload(8, 100);
            for message in [big.clone(), Vec::new(), long.clone(), b"next".to_vec()] {
                let len = message.len();
                let (sent, _) = sender.send_to(message, to).await;
                assert_eq!(sent.unwrap(), len);
            }
            let got = receiving.await.expect("the receiving task failed");
            assert!(got[0] == big, "the 60,000-byte datagram came whole");
            assert!(got[1].is_empty(), "an empty datagram is a datagram");
            assert_eq!(got[2], long[..10], "a long datagram is cut to the buffer");
            assert_eq!(got[3], b"next", "and its rest is not the next datagram");
        });
    }
}
