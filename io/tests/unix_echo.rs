//! Unix-domain streams through the ring: echo round trips through a listener and through a
//! socket pair, half-close, peer close, addresses, and connection errors.

mod common;

use std::io::ErrorKind;
use std::net::Shutdown;
use std::thread;

use common::{block_on, driver, join, socket_path};
use ringloop_io::net::{UnixListener, UnixStream};

/// Reads until end of stream and writes everything back; returns the byte count.
async fn echo_until_eof(stream: &UnixStream) -> usize {
    let mut total = 0;
    loop {
        let (n, buf) = stream.read(Vec::with_capacity(8192)).await;
        let n = n.unwrap();
        if n == 0 {
            return total;
        }
        total += n;
        let (done, _) = stream.write_all(buf).await;
        done.unwrap();
    }
}

async fn round_trips(stream: &UnixStream) -> usize {
    let mut total = 0;
    for len in [1usize, 100, 200_000] {
        let message: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let (done, message) = stream.write_all(message).await;
        done.unwrap();
        let mut echoed = Vec::new();
        while echoed.len() < len {
            let (n, chunk) = stream.read(Vec::with_capacity(len - echoed.len())).await;
            assert!(n.unwrap() > 0, "early end of stream");
            echoed.extend_from_slice(&chunk);
        }
        assert!(echoed == message, "a {len}-byte message echoed intact");
        total += len;
    }
    stream.shutdown(Shutdown::Write).await.unwrap();
    let (n, _) = stream.read(Vec::with_capacity(8)).await;
    assert_eq!(n.unwrap(), 0);
    total
}

#[test]
fn echo_through_a_listener() {
    let path = socket_path("echo");
    let driver = driver();
    let _enter = driver.enter();
    let listener = UnixListener::bind(&path).unwrap();
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    let (sent, echoed) = block_on(
        &driver,
        join(
            async {
                let client = UnixStream::connect(&path).await.unwrap();
                assert_eq!(
                    client.peer_addr().unwrap().as_pathname(),
                    Some(path.as_path())
                );
                round_trips(&client).await
            },
            async {
                let (server, peer) = listener.accept().await.unwrap();
                assert!(peer.is_unnamed(), "a connecting socket has no name");
                echo_until_eof(&server).await
            },
        ),
    );
    assert_eq!(sent, echoed);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn echo_between_two_threads_through_a_pair() {
    let driver = driver();
    let (a, b) = {
        let _enter = driver.enter();
        UnixStream::pair().unwrap()
    };
    let echo = thread::spawn(move || {
        let driver = common::driver();
        block_on(&driver, echo_until_eof(&b))
    });
    let sent = block_on(&driver, round_trips(&a));
    assert_eq!(echo.join().unwrap(), sent);
}

#[test]
fn half_close_then_the_peer_still_writes_back_then_closes() {
    let driver = driver();
    let _enter = driver.enter();
    let (client, server) = UnixStream::pair().unwrap();
    block_on(&driver, async {
        let (done, _) = client.write_all(b"question".to_vec()).await;
        done.unwrap();
        client.shutdown(Shutdown::Write).await.unwrap();
        let (n, buf) = server.read(Vec::with_capacity(64)).await;
        assert_eq!(&buf[..n.unwrap()], b"question");
        let (n, _) = server.read(Vec::with_capacity(64)).await;
        assert_eq!(n.unwrap(), 0);
        let (done, _) = server.write_all(b"answer".to_vec()).await;
        done.unwrap();
        let (n, buf) = client.read(Vec::with_capacity(64)).await;
        assert_eq!(&buf[..n.unwrap()], b"answer");
    });
    drop(server);
    block_on(&driver, async {
        let (n, _) = client.read(Vec::with_capacity(8)).await;
        assert_eq!(n.unwrap(), 0, "closed by the peer");
        let (result, _) = client.write(b"gone".to_vec()).await;
        assert_eq!(result.unwrap_err().kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn connection_errors() {
    let driver = driver();
    let _enter = driver.enter();
    let missing = socket_path("missing");
    let err = block_on(&driver, UnixStream::connect(&missing)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    // A socket file whose listener is gone.
    let stale = socket_path("stale");
    drop(UnixListener::bind(&stale).unwrap());
    let err = block_on(&driver, UnixStream::connect(&stale)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(
        UnixListener::bind(&stale).unwrap_err().kind(),
        ErrorKind::AddrInUse
    );
    std::fs::remove_file(&stale).unwrap();
}

#[test]
fn unix_sockets_need_a_driver() {
    let path = socket_path("nodriver");
    let err = UnixListener::bind(&path).unwrap_err();
    assert!(err.to_string().contains("no io driver"), "{err}");
    assert!(UnixStream::pair().is_err());
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    assert!(UnixStream::from_std(a).is_err());
}

#[test]
fn from_std_listener_and_stream() {
    let path = socket_path("std");
    let driver = driver();
    let _enter = driver.enter();
    let listener =
        UnixListener::from_std(std::os::unix::net::UnixListener::bind(&path).unwrap()).unwrap();
    let client =
        UnixStream::from_std(std::os::unix::net::UnixStream::connect(&path).unwrap()).unwrap();
    block_on(&driver, async {
        let (server, _) = listener.accept().await.unwrap();
        let (done, _) = server.write_all(&b"hi"[..]).await;
        done.unwrap();
        let (n, buf) = client.read(Vec::with_capacity(4)).await;
        assert_eq!(&buf[..n.unwrap()], b"hi");
    });
    std::fs::remove_file(&path).unwrap();
}
