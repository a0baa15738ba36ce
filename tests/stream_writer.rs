//! `StreamWriter` on every flavour: bytes are sent without `drain`, `drain` applies
//! back-pressure with the water marks, `close` and drop send what was written first,
//! `write_eof` half-closes, and a send error is reported, never lost.

#[macro_use]
mod support;

use std::io;
use std::net::Shutdown;
use std::sync::Arc;
use std::time::Duration;

use ringloop::net::UnixStream;
use ringloop::streams::{self, StreamAddr, StreamReader, StreamWriter};
use ringloop::{create_task, sleep, timeout};
use support::Flavor;

fn pair() -> (StreamReader, StreamWriter, UnixStream) {
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    let (reader, writer) = streams::wrap(ours, 1024);
    (reader, writer, theirs)
}

/// Reads from the raw peer until `n` bytes or end of stream.
async fn read_n(peer: &UnixStream, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        let (r, buf) = peer.read(Vec::with_capacity(64 * 1024)).await;
        if r.unwrap() == 0 {
            break;
        }
        got.extend_from_slice(&buf);
    }
    got
}

fn run(flavor: Flavor, test: impl std::future::Future<Output = ()> + Send + 'static) {
    let rt = flavor.runtime();
    rt.block_on(async move { create_task(test).await.expect("the test task") });
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 253) as u8).collect()
}

rt_test! {
    fn written_bytes_are_sent_without_drain(flavor: Flavor) {
        run(flavor, async {
            let (_r, writer, peer) = pair();
            writer.write(b"hello ").unwrap();
            writer.writelines([&b"wor"[..], b"ld"]).unwrap();
            // No drain, no close: the flusher sends on its own.
            assert_eq!(read_n(&peer, 11).await, b"hello world");
            assert_eq!(writer.buffer_size(), 0);
            drop(writer);
        });
    }

    fn drain_waits_above_the_high_mark_until_the_low_mark(flavor: Flavor) {
        run(flavor, async {
            let (_r, writer, peer) = pair();
            writer.set_write_buffer_limits(64 * 1024, 16 * 1024);
            // Below the high mark: drain returns at once.
            writer.write(&[1u8; 1000]).unwrap();
            writer.drain().await.unwrap();
            let _ = read_n(&peer, 1000).await;

            // Far more than the socket buffers hold, and nobody reads: drain must wait.
            let data = pattern(8 << 20);
            writer.write(&data).unwrap();
            assert!(writer.buffer_size() > 64 * 1024);
            let writer = Arc::new(writer);
            let drained = {
                let writer = Arc::clone(&writer);
                create_task(async move {
                    writer.drain().await.unwrap();
                    writer.buffer_size()
                })
            };
            sleep(Duration::from_millis(50)).await.unwrap();
            assert!(!drained.is_done(), "drain returned with {} bytes unsent", writer.buffer_size());
            // The peer reads: drain returns once at most the low mark is unsent.
            let reading = create_task(async move { read_n(&peer, 8 << 20).await });
            let left = drained.await.unwrap();
            assert!(left <= 16 * 1024, "drain returned with {left} bytes unsent");
            assert!(reading.await.unwrap() == data, "the bytes arrived in order, all of them");
        });
    }

    fn close_sends_everything_written_then_the_peer_reads_eof(flavor: Flavor) {
        run(flavor, async {
            let (_r, writer, peer) = pair();
            let data = pattern(3 << 20);
            writer.write(&data).unwrap();
            writer.close();
            assert!(writer.is_closing());
            let err = writer.write(b"late").unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
            let reading = create_task(async move { read_n(&peer, usize::MAX).await });
            writer.wait_closed().await.unwrap();
            assert!(reading.await.unwrap() == data);
        });
    }

    fn dropping_the_writer_sends_everything_then_closes(flavor: Flavor) {
        run(flavor, async {
            let (_r, writer, peer) = pair();
            let data = pattern(1 << 20);
            writer.write(&data).unwrap();
            drop(writer);
            assert!(read_n(&peer, usize::MAX).await == data);
        });
    }

    fn closing_the_writer_leaves_the_reader_reading(flavor: Flavor) {
        run(flavor, async {
            // The writer is dropped at once (`_`): the peer reads end of stream, and the
            // reader of this end still gets all the peer sends.
            let (ours, peer) = UnixStream::pair().unwrap();
            let (mut reader, _) = streams::wrap(ours, 1024);
            assert!(read_n(&peer, usize::MAX).await.is_empty(), "end of stream");
            let data = pattern(500_000);
            let feeder = {
                let data = data.clone();
                create_task(async move {
                    let (r, _) = peer.write_all(data).await;
                    r.unwrap();
                    peer.shutdown(Shutdown::Write).await.unwrap();
                    peer
                })
            };
            assert!(reader.read_to_end().await.unwrap() == data);
            drop(feeder.await.unwrap());
        });
    }

    fn write_eof_half_closes(flavor: Flavor) {
        run(flavor, async {
            let (mut reader, writer, peer) = pair();
            writer.write(b"request").unwrap();
            writer.write_eof().unwrap();
            writer.write_eof().unwrap();
            assert_eq!(read_n(&peer, usize::MAX).await, b"request", "then end of stream");
            assert!(writer.write(b"x").is_err(), "no writes after write_eof");
            // The other direction still works.
            let (r, _) = peer.write_all(b"reply".to_vec()).await;
            r.unwrap();
            peer.shutdown(Shutdown::Write).await.unwrap();
            assert_eq!(reader.read_to_end().await.unwrap(), b"reply");
        });
    }

    fn a_send_error_is_reported_by_drain_write_and_wait_closed(flavor: Flavor) {
        run(flavor, async {
            let (_r, writer, peer) = pair();
            drop(peer);
            // The first bytes may be accepted by nothing at all: keep writing until a send
            // fails, which it must, the peer being gone.
            let mut reported = None;
            for _ in 0..100 {
                let step = match writer.write(&[0u8; 4096]) {
                    Err(e) => Err(e),
                    Ok(()) => timeout(Duration::from_millis(50), writer.drain())
                        .await
                        .unwrap_or(Ok(())),
                };
                if let Err(e) = step {
                    reported = Some(e);
                    break;
                }
                sleep(Duration::from_millis(1)).await.unwrap();
            }
            let e = reported.expect("no send ever failed");
            assert_eq!(e.kind(), io::ErrorKind::BrokenPipe, "{e}");
            assert_eq!(writer.drain().await.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
            assert!(writer.write(b"x").is_err());
            assert!(writer.is_closing());
            writer.close();
            assert_eq!(writer.wait_closed().await.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        });
    }

    fn addresses_of_tcp_and_unix_writers(flavor: Flavor) {
        run(flavor, async {
            let (_r, writer, _peer) = pair();
            assert!(matches!(writer.peer_addr().unwrap(), StreamAddr::Unix(_)));
            assert!(writer.local_addr().unwrap().as_inet().is_none());

            let listener = ringloop::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let (_r, writer) = ringloop::open_connection("127.0.0.1", addr.port()).await.unwrap();
            let (_accepted, peer) = listener.accept().await.unwrap();
            assert_eq!(writer.peer_addr().unwrap().as_inet(), Some(addr));
            assert_eq!(writer.local_addr().unwrap().as_inet(), Some(peer));
        });
    }
}
