//! `StreamReader` on every flavour: asyncio's read methods, their errors (`IncompleteRead`,
//! `LimitOverrun`, a reset peer), and cancel safety: reads cancelled at every step lose no
//! byte and read none twice.

#[macro_use]
mod support;

use std::io;
use std::net::Shutdown;
use std::time::Duration;

use ringloop::net::UnixStream;
use ringloop::streams::{self, ReadError, StreamReader, StreamWriter};
use ringloop::{create_task, sleep, timeout, yield_now};
use support::Flavor;

/// A reader (and its writer) on one end of a socket pair, and the raw other end to feed it.
fn pair(limit: usize) -> (StreamReader, StreamWriter, UnixStream) {
    let (ours, theirs) = UnixStream::pair().expect("socketpair");
    let (reader, writer) = streams::wrap(ours, limit);
    (reader, writer, theirs)
}

/// Sends `chunks` one by one, pausing between them so that each arrives on its own.
async fn feed(peer: &UnixStream, chunks: &[&[u8]]) {
    for chunk in chunks {
        let (r, _) = peer.write_all(chunk.to_vec()).await;
        r.expect("the peer's write");
        sleep(Duration::from_millis(2)).await.unwrap();
    }
}

fn run(flavor: Flavor, test: impl std::future::Future<Output = ()> + Send + 'static) {
    let rt = flavor.runtime();
    rt.block_on(async move { create_task(test).await.expect("the test task") });
}

rt_test! {
    fn read_returns_what_is_buffered_and_empty_at_eof(flavor: Flavor) {
        run(flavor, async {
            let (mut reader, _w, peer) = pair(1024);
            assert!(reader.read(0).await.unwrap().is_empty());
            feed(&peer, &[b"hello world"]).await;
            assert_eq!(reader.read(5).await.unwrap(), b"hello");
            assert_eq!(reader.read(100).await.unwrap(), b" world");
            assert!(!reader.at_eof(), "the end is not known until a receive returns 0");
            peer.shutdown(Shutdown::Write).await.unwrap();
            assert!(reader.read(100).await.unwrap().is_empty());
            assert!(reader.at_eof());
            assert!(reader.read(100).await.unwrap().is_empty(), "empty again after EOF");
        });
    }

    fn readline_joins_pieces_and_returns_the_rest_at_eof(flavor: Flavor) {
        run(flavor, async {
            let (mut reader, _w, peer) = pair(1024);
            let feeder = create_task(async move {
                feed(&peer, &[b"fir", b"st\nsec", b"ond\n", b"\nlast"]).await;
                peer.shutdown(Shutdown::Write).await.unwrap();
                peer
            });
            assert_eq!(reader.readline().await.unwrap(), b"first\n");
            assert_eq!(reader.readline().await.unwrap(), b"second\n");
            assert_eq!(reader.readline().await.unwrap(), b"\n");
            assert_eq!(reader.readline().await.unwrap(), b"last", "no newline at the end");
            assert!(reader.readline().await.unwrap().is_empty());
            assert!(reader.at_eof());
            drop(feeder.await.unwrap());
        });
    }

    fn next_line_iterates_until_the_end(flavor: Flavor) {
        run(flavor, async {
            let (mut reader, _w, peer) = pair(1024);
            feed(&peer, &[b"a\nb\nc"]).await;
            peer.shutdown(Shutdown::Write).await.unwrap();
            let mut lines = Vec::new();
            while let Some(line) = reader.next_line().await {
                lines.push(line.unwrap());
            }
            assert_eq!(lines, [&b"a\n"[..], b"b\n", b"c"]);
        });
    }

    fn readuntil_finds_a_separator_split_across_reads(flavor: Flavor) {
        run(flavor, async {
            let (mut reader, _w, peer) = pair(1024);
            let feeder = create_task(async move {
                feed(&peer, &[b"GET / HTTP/1.1\r", b"\nHost: x\r\n\r", b"\nrest"]).await;
                peer.shutdown(Shutdown::Write).await.unwrap();
                peer
            });
            assert_eq!(reader.readuntil(b"\r\n").await.unwrap(), b"GET / HTTP/1.1\r\n");
            assert_eq!(reader.readuntil(b"\r\n\r\n").await.unwrap(), b"Host: x\r\n\r\n");
            match reader.readuntil(b"\r\n").await {
                Err(ReadError::IncompleteRead(e)) => {
                    assert_eq!(e.partial, b"rest");
                    assert_eq!(e.expected, None);
                }
                other => panic!("expected IncompleteRead, got {other:?}"),
            }
            assert!(reader.at_eof(), "the partial bytes were consumed");
            let empty = reader.readuntil(b"").await.unwrap_err();
            assert!(matches!(empty, ReadError::Io(ref e) if e.kind() == io::ErrorKind::InvalidInput));
            drop(feeder.await.unwrap());
        });
    }

    fn a_line_over_the_limit_is_an_overrun_and_its_bytes_stay(flavor: Flavor) {
        run(flavor, async {
            let (mut reader, _w, peer) = pair(16);
            assert_eq!(reader.limit(), 16);
            // No separator in 40 bytes.
            feed(&peer, &[&[b'x'; 40], b"\nok\n"]).await;
            let e = match reader.readline().await {
                Err(e) => e,
                Ok(line) => panic!("a line of 40 bytes passed a limit of 16: {line:?}"),
            };
            assert_eq!(e.kind(), io::ErrorKind::InvalidData);
            let overrun = e
                .get_ref()
                .and_then(|e| e.downcast_ref::<streams::LimitOverrun>())
                .copied()
                .expect("a LimitOverrun inside");
            assert!(overrun.consumed > 16, "{overrun:?}");
            assert!(reader.buffer().len() >= overrun.consumed, "nothing was consumed");
            assert!(reader.buffer().iter().take(overrun.consumed).all(|&b| b == b'x'));
            // The caller skips the overlong line and goes on.
            let skip = reader.buffer().iter().position(|&b| b == b'\n').unwrap() + 1;
            reader.consume(skip);
            assert_eq!(reader.readline().await.unwrap(), b"ok\n");

            // A separator found past the limit is an overrun at its position.
            feed(&peer, &[b"0123456789012345678901234\n"]).await;
            while reader.buffer().len() < 26 {
                reader.fill().await.unwrap();
            }
            match reader.readuntil(b"\n").await {
                Err(ReadError::LimitOverrun(e)) => assert_eq!(e.consumed, 25),
                other => panic!("expected LimitOverrun, got {other:?}"),
            }
            assert_eq!(reader.buffer().len(), 26);
        });
    }

    fn readexactly_waits_for_all_and_reports_a_short_stream(flavor: Flavor) {
        run(flavor, async {
            let (mut reader, _w, peer) = pair(16);
            let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            let feeder = {
                let big = big.clone();
                create_task(async move {
                    feed(&peer, &[b"abc", b"defgh"]).await;
                    for chunk in big.chunks(7_000) {
                        let (r, _) = peer.write_all(chunk.to_vec()).await;
                        r.unwrap();
                    }
                    feed(&peer, &[b"xyz"]).await;
                    peer.shutdown(Shutdown::Write).await.unwrap();
                    peer
                })
            };
            assert_eq!(reader.readexactly(8).await.unwrap(), b"abcdefgh");
            // Far past the line limit: readexactly is not bounded by it.
            assert_eq!(reader.readexactly(big.len()).await.unwrap(), big);
            match reader.readexactly(10).await {
                Err(ReadError::IncompleteRead(e)) => {
                    assert_eq!(e.partial, b"xyz");
                    assert_eq!(e.expected, Some(10));
                    let as_io: io::Error = ReadError::IncompleteRead(e).into();
                    assert_eq!(as_io.kind(), io::ErrorKind::UnexpectedEof);
                }
                other => panic!("expected IncompleteRead, got {other:?}"),
            }
            assert!(reader.at_eof());
            drop(feeder.await.unwrap());
        });
    }

    fn read_to_end_collects_a_large_stream(flavor: Flavor) {
        run(flavor, async {
            let (mut reader, _w, peer) = pair(1024);
            let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
            let feeder = {
                let data = data.clone();
                create_task(async move {
                    let (r, _) = peer.write_all(data).await;
                    r.unwrap();
                    peer.shutdown(Shutdown::Write).await.unwrap();
                    peer
                })
            };
            assert_eq!(reader.read_to_end().await.unwrap(), data);
            assert!(reader.at_eof());
            drop(feeder.await.unwrap());
        });
    }

    fn a_reset_is_reported_by_every_read_that_needs_bytes(flavor: Flavor) {
        run(flavor, async {
            let (a, b) = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| {
                    let c = std::net::TcpStream::connect(l.local_addr()?)?;
                    Ok((c, l.accept()?.0))
                })
                .unwrap();
            let (mut reader, _w) = streams::wrap(ringloop::net::TcpStream::from_std(a).unwrap(), 64);
            // Unread data at close makes the kernel send a reset.
            let peer = socket2::Socket::from(b);
            peer.set_linger(Some(Duration::ZERO)).unwrap();
            drop(peer);
            let first = reader.read(10).await.unwrap_err();
            assert_eq!(first.kind(), io::ErrorKind::ConnectionReset);
            let again = reader.readline().await.unwrap_err();
            assert_eq!(again.kind(), io::ErrorKind::ConnectionReset);
        });
    }

    fn cancelled_reads_lose_nothing(flavor: Flavor) {
        run(flavor, async {
            // Lines of varied lengths sent in pieces of varied sizes; the reader's calls are
            // cut short by timeouts of 0 to 300 us, about half of them while waiting.
            let (mut reader, _w, peer) = pair(1 << 16);
            let mut expected = Vec::new();
            for i in 0..400u32 {
                let len = (i * 37 % 300) as usize;
                let mut line = format!("{i}:").into_bytes();
                line.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len));
                line.push(b'\n');
                expected.push(line);
            }
            let stream: Vec<u8> = expected.concat();
            let feeder = create_task(async move {
                let mut at = 0;
                let mut step = 1;
                while at < stream.len() {
                    let end = (at + step * 13 % 900 + 1).min(stream.len());
                    let (r, _) = peer.write_all(stream[at..end].to_vec()).await;
                    r.unwrap();
                    at = end;
                    step += 1;
                    if step % 3 == 0 {
                        yield_now().await;
                    } else {
                        sleep(Duration::from_micros(50)).await.unwrap();
                    }
                }
                peer.shutdown(Shutdown::Write).await.unwrap();
                peer
            });
            let mut got = Vec::new();
            let mut cancelled = 0;
            let mut n = 0u64;
            loop {
                n += 1;
                let limit = Duration::from_micros(n * 7919 % 300);
                // Alternate the methods: each must leave the stream intact for the next.
                let result = match n % 3 {
                    0 => timeout(limit, reader.readline()).await.map(|r| r.unwrap()),
                    1 => timeout(limit, reader.readuntil(b"\n"))
                        .await
                        .map(|r| match r {
                            Ok(line) => line,
                            Err(ReadError::IncompleteRead(e)) => e.partial,
                            Err(e) => panic!("{e}"),
                        }),
                    _ => {
                        // readexactly of the next line's length, once its header is there.
                        match reader.buffer().iter().position(|&b| b == b'\n') {
                            Some(at) => timeout(limit, reader.readexactly(at + 1))
                                .await
                                .map(|r| r.unwrap()),
                            None => match timeout(limit, reader.fill()).await {
                                Ok(r) => {
                                    if r.unwrap() == 0 && reader.buffer().is_empty() {
                                        Ok(Vec::new())
                                    } else {
                                        continue;
                                    }
                                }
                                Err(_) => {
                                    cancelled += 1;
                                    continue;
                                }
                            },
                        }
                    }
                };
                match result {
                    Ok(line) if line.is_empty() => break,
                    Ok(line) => got.push(line),
                    Err(_) => cancelled += 1,
                }
            }
            assert_eq!(got.len(), expected.len(), "lines lost or split");
            assert!(got == expected, "a line differs");
            assert!(cancelled > 10, "only {cancelled} reads were cancelled: the test tests nothing");
            drop(feeder.await.unwrap());
        });
    }
}
