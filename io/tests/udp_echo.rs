//! UDP through the ring: `send_to`/`recv_from` round trips over IPv4 and IPv6, connected
//! `send`/`recv`, truncation, ICMP errors, a cancelled `recv_from`, and address errors.

mod common;

use std::future::Future;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use common::{block_on, driver, join, CountingBuf};
use ringloop_io::net::UdpSocket;

fn echo_round_trip(ip: &str) {
    let driver = driver();
    let _enter = driver.enter();
    let server = UdpSocket::bind((ip, 0)).unwrap();
    let client = UdpSocket::bind((ip, 0)).unwrap();
    let server_addr = server.local_addr().unwrap();
    let client_addr = client.local_addr().unwrap();
    block_on(
        &driver,
        join(
            async {
                // Echo three datagrams back to whoever sent them.
                for _ in 0..3 {
                    let (received, buf) = server.recv_from(Vec::with_capacity(2048)).await;
                    let (n, from) = received.unwrap();
                    assert_eq!(from, client_addr);
                    let (sent, _) = server.send_to(buf, from).await;
                    assert_eq!(sent.unwrap(), n);
                }
            },
            async {
                for len in [1usize, 512, 1400] {
                    let message: Vec<u8> = (0..len).map(|i| i as u8).collect();
                    let (sent, message) = client.send_to(message, server_addr).await;
                    assert_eq!(sent.unwrap(), len);
                    let (received, buf) = client.recv_from(Vec::with_capacity(2048)).await;
                    let (n, from) = received.unwrap();
                    assert_eq!((n, from), (len, server_addr));
                    assert_eq!(buf, message);
                }
            },
        ),
    );
}

#[test]
fn echo_ipv4() {
    echo_round_trip("127.0.0.1");
}

#[test]
fn echo_ipv6() {
    echo_round_trip("::1");
}

#[test]
fn connected_send_and_recv() {
    let driver = driver();
    let _enter = driver.enter();
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    a.connect(b.local_addr().unwrap()).unwrap();
    b.connect(a.local_addr().unwrap()).unwrap();
    assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    block_on(&driver, async {
        let (sent, _) = a.send(b"ping".to_vec()).await;
        assert_eq!(sent.unwrap(), 4);
        let (n, buf) = b.recv(Vec::with_capacity(16)).await;
        assert_eq!((n.unwrap(), &buf[..]), (4, &b"ping"[..]));
        let (sent, _) = b.send(&b"pong"[..]).await;
        assert_eq!(sent.unwrap(), 4);
        let (n, buf) = a.recv(vec![0u8; 16].into_boxed_slice()).await;
        assert_eq!(&buf[..n.unwrap()], b"pong");
    });
}

#[test]
fn a_datagram_longer_than_the_buffer_is_truncated() {
    let driver = driver();
    let _enter = driver.enter();
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    block_on(&driver, async {
        let (sent, _) = a.send_to(vec![7u8; 100], b.local_addr().unwrap()).await;
        assert_eq!(sent.unwrap(), 100);
        let (received, buf) = b.recv_from(Vec::with_capacity(10)).await;
        assert_eq!(received.unwrap(), (10, a.local_addr().unwrap()));
        assert_eq!(buf, vec![7u8; 10]);
    });
}

#[test]
fn icmp_port_unreachable_is_connection_refused_on_a_connected_socket() {
    let driver = driver();
    let _enter = driver.enter();
    let closed = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(closed).unwrap();
    block_on(&driver, async {
        let (sent, _) = socket.send(b"anyone?".to_vec()).await;
        sent.unwrap();
        let (result, _) = socket.recv(Vec::with_capacity(16)).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn send_without_a_destination_fails() {
    let driver = driver();
    let _enter = driver.enter();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (result, _) = block_on(&driver, socket.send(b"x".to_vec()));
    assert_eq!(result.unwrap_err().raw_os_error(), Some(libc::EDESTADDRREQ));
    assert_eq!(
        socket.peer_addr().unwrap_err().kind(),
        ErrorKind::NotConnected
    );
}

#[test]
fn cancelled_recv_from_frees_its_buffer_once_and_loses_no_datagram() {
    let driver = driver();
    let _enter = driver.enter();
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    let (buf, drops) = CountingBuf::new(64);
    let mut recv = b.recv_from(buf);
    assert!(Pin::new(&mut recv)
        .poll(&mut Context::from_waker(Waker::noop()))
        .is_pending());
    driver.poll().unwrap();
    drop(recv);
    assert_eq!(drops.load(Ordering::SeqCst), 0, "the kernel still owns it");
    let start = Instant::now();
    while drops.load(Ordering::SeqCst) == 0 {
        assert!(start.elapsed() < Duration::from_secs(5));
        driver.park(Some(Duration::from_millis(100))).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    block_on(&driver, async {
        let (sent, _) = a.send_to(b"kept".to_vec(), b.local_addr().unwrap()).await;
        sent.unwrap();
        let (received, buf) = b.recv_from(Vec::with_capacity(64)).await;
        assert_eq!(received.unwrap().0, 4);
        assert_eq!(buf, b"kept");
    });
}

#[test]
fn udp_sockets_need_a_driver_and_report_bind_errors() {
    let err = UdpSocket::bind("127.0.0.1:0").unwrap_err();
    assert!(err.to_string().contains("no io driver"), "{err}");

    let driver = driver();
    let _enter = driver.enter();
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let err = UdpSocket::bind(a.local_addr().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AddrInUse);
    let from_std = UdpSocket::from_std(std::net::UdpSocket::bind("[::1]:0").unwrap()).unwrap();
    assert!(from_std.local_addr().unwrap().is_ipv6());
}
