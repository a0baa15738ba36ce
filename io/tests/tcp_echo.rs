//! TCP through the ring: echo round trips over IPv4 and IPv6 (on one driver, and across two
//! threads each with its own driver), large `write_all`s, half-close, peer reset, refused
//! connections, address errors, and sockets created without a driver.

mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::thread;
use std::time::Duration;

use common::{block_on, driver, join, poll_once, tcp_pair};
use ringloop_io::net::{TcpListener, TcpStream};

/// Reads until end of stream and writes everything back; returns the byte count.
async fn echo_until_eof(stream: &TcpStream) -> usize {
    let mut total = 0;
    let mut buf = Vec::with_capacity(4096);
    loop {
        let (n, back) = stream.read(buf).await;
        let n = n.expect("server read");
        if n == 0 {
            return total;
        }
        total += n;
        let (done, back) = stream.write_all(back).await;
        done.expect("server write_all");
        buf = back;
        buf.clear();
    }
}

/// Sends messages of several sizes, reads each echo back exactly, then half-closes.
async fn client_round_trips(stream: &TcpStream) -> usize {
    let mut total = 0;
    for (i, len) in [1usize, 7, 1000, 65_536, 3].into_iter().enumerate() {
        let message: Vec<u8> = (0..len).map(|j| (i * 31 + j) as u8).collect();
        let (done, message) = stream.write_all(message).await;
        done.expect("client write_all");
        let mut echoed = Vec::with_capacity(len);
        while echoed.len() < len {
            let (n, chunk) = stream.read(Vec::with_capacity(len - echoed.len())).await;
            assert!(n.expect("client read") > 0, "early end of stream");
            echoed.extend_from_slice(&chunk);
        }
        assert_eq!(echoed, message, "message {i} echoed intact");
        total += len;
    }
    stream.shutdown(Shutdown::Write).await.expect("shutdown");
    let (n, _) = stream.read(Vec::with_capacity(8)).await;
    assert_eq!(n.unwrap(), 0, "server closes after our shutdown");
    total
}

fn echo_on_one_driver(ip: &str) {
    let driver = driver();
    let _enter = driver.enter();
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    assert_eq!(addr.ip().to_string(), ip);
    let (sent, echoed) = block_on(
        &driver,
        join(
            async {
                let client = TcpStream::connect(addr).await.unwrap();
                client_round_trips(&client).await
            },
            async {
                let (server, peer) = listener.accept().await.unwrap();
                assert_eq!(peer.ip(), addr.ip());
                let n = echo_until_eof(&server).await;
                drop(server);
                n
            },
        ),
    );
    assert_eq!(sent, echoed);
}

#[test]
fn echo_ipv4() {
    echo_on_one_driver("127.0.0.1");
}

#[test]
fn echo_ipv6() {
    echo_on_one_driver("::1");
}

#[test]
fn echo_between_two_threads_each_with_its_own_driver() {
    let server_driver = driver();
    let listener = {
        let _enter = server_driver.enter();
        TcpListener::bind("127.0.0.1:0").unwrap()
    };
    let addr = listener.local_addr().unwrap();
    let client = thread::spawn(move || {
        let driver = driver();
        block_on(&driver, async {
            let stream = TcpStream::connect(addr).await.unwrap();
            client_round_trips(&stream).await
        })
    });
    let echoed = block_on(&server_driver, async {
        let (server, _) = listener.accept().await.unwrap();
        echo_until_eof(&server).await
    });
    assert_eq!(client.join().unwrap(), echoed);
}

#[test]
fn write_all_of_a_large_buffer_is_read_intact_by_a_concurrent_reader() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    let data: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
    let expected = data.clone();
    let (written, received) = block_on(
        &driver,
        join(
            async {
                let (done, buf) = client.write_all(data).await;
                done.unwrap();
                client.shutdown(Shutdown::Write).await.unwrap();
                buf.len()
            },
            async {
                let mut received = Vec::new();
                loop {
                    let (n, chunk) = server.read(Vec::with_capacity(256 << 10)).await;
                    if n.unwrap() == 0 {
                        break received;
                    }
                    received.extend_from_slice(&chunk);
                }
            },
        ),
    );
    assert_eq!(written, expected.len());
    assert!(
        received == expected,
        "the stream arrived intact and in order"
    );
}

#[test]
fn half_close_lets_the_peer_read_eof_and_still_write_back() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    block_on(&driver, async {
        let (done, _) = client.write_all(b"request".to_vec()).await;
        done.unwrap();
        client.shutdown(Shutdown::Write).await.unwrap();

        let (n, buf) = server.read(Vec::with_capacity(64)).await;
        assert_eq!((n.unwrap(), &buf[..]), (7, &b"request"[..]));
        let (n, _) = server.read(Vec::with_capacity(64)).await;
        assert_eq!(
            n.unwrap(),
            0,
            "end of stream after the peer's shutdown(Write)"
        );

        // The other direction is still open.
        let (done, _) = server.write_all(b"response".to_vec()).await;
        done.unwrap();
        let (n, buf) = client.read(Vec::with_capacity(64)).await;
        assert_eq!((n.unwrap(), &buf[..]), (8, &b"response"[..]));

        // Writing on the shut-down half fails, without SIGPIPE.
        let (result, _) = client.write(b"late".to_vec()).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::BrokenPipe);
    });
    drop(server);
    let (n, _) = block_on(&driver, client.read(Vec::with_capacity(8)));
    assert_eq!(n.unwrap(), 0, "closed by the server");
}

#[test]
fn peer_reset_is_connection_reset() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    block_on(&driver, async {
        let mut pending = client.read(Vec::with_capacity(64));
        assert!(poll_once(&mut pending).await.is_pending(), "in flight");
        ringloop_io::nop().await.unwrap(); // one driver tick: the read is in the kernel
                                           // Close with SO_LINGER 0: the kernel sends RST instead of FIN.
        socket2::SockRef::from(&server)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(server);
        let (result, _) = pending.await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::ConnectionReset);
        // After the reset, sending fails too (EPIPE, no SIGPIPE).
        let (result, _) = client.write(b"x".to_vec()).await;
        let kind = result.unwrap_err().kind();
        assert!(
            matches!(kind, ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
            "{kind:?}"
        );
    });
}

/// An address nothing listens on (a port just released).
fn closed_port(ip: &str) -> SocketAddr {
    std::net::TcpListener::bind((ip, 0))
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    let driver = driver();
    for ip in ["127.0.0.1", "::1"] {
        let result = block_on(&driver, TcpStream::connect(closed_port(ip)));
        assert_eq!(
            result.unwrap_err().kind(),
            ErrorKind::ConnectionRefused,
            "{ip}"
        );
    }
}

#[test]
fn binding_a_port_in_use_is_addr_in_use() {
    let driver = driver();
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let err = TcpListener::bind(listener.local_addr().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
}

#[test]
fn addresses_and_options() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "::1");
    assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
    assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
    assert!(client.local_addr().unwrap().is_ipv6());
    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    client.set_nodelay(false).unwrap();
    assert!(!client.nodelay().unwrap());
    assert!(format!("{client:?}").contains("TcpStream"));
}

#[test]
fn from_std_sockets_work_through_the_ring() {
    let driver = driver();
    let _enter = driver.enter();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    let std_client = std::net::TcpStream::connect(addr).unwrap();
    let listener = TcpListener::from_std(std_listener).unwrap();
    let client = TcpStream::from_std(std_client).unwrap();
    block_on(&driver, async {
        let (server, _) = listener.accept().await.unwrap();
        let (done, _) = client.write_all(&b"std"[..]).await;
        done.unwrap();
        let (n, buf) = server.read(Vec::with_capacity(8)).await;
        assert_eq!((n.unwrap(), &buf[..]), (3, &b"std"[..]));
    });
}

#[test]
fn sockets_need_a_driver_on_the_creating_thread() {
    // This thread has no current driver.
    let err = TcpListener::bind("127.0.0.1:0").unwrap_err();
    assert!(err.to_string().contains("no io driver"), "{err}");
    let std_stream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(TcpListener::from_std(std_stream).is_err());

    // `connect` creates its socket when first polled: on a thread without a driver it fails.
    let mut connect = std::pin::pin!(TcpStream::connect(closed_port("127.0.0.1")));
    let poll = connect
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    match poll {
        std::task::Poll::Ready(Err(e)) => assert!(e.to_string().contains("no io driver"), "{e}"),
        other => panic!("expected an error, got {other:?}"),
    }

    // After the driver shut down, creating a socket fails too.
    let driver = driver();
    let _enter = driver.enter();
    driver.shutdown();
    let err = TcpListener::bind("127.0.0.1:0").unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
}
