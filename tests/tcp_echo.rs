//! TCP echo through the runtime, on every flavour: a server task that accepts and spawns one
//! echo task per connection, and client tasks that each make round trips of several sizes
//! (one byte to 256 KiB, so that reads and writes are split), over IPv4 and IPv6; and
//! half-close (`shutdown(Write)` ends the peer's reads while both sides keep the other half);
//! and a read polled by a `block_on` future between `yield_now`s.

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

use io_support::payload;
use ringloop::net::{TcpListener, TcpStream};
use ringloop::{create_task, gather, yield_now};
use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

/// Concurrent clients per echo test.
const CLIENTS: usize = 8;

/// The sizes of each client's round trips.
const SIZES: [usize; 5] = [1, 100, 4096, 64 * 1024, 256 * 1024];

/// Accepts `connections` connections, serving each in a task of its own; returns the bytes
/// echoed in all.
async fn serve(listener: TcpListener, connections: usize) -> io::Result<usize> {
    let mut handlers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (stream, peer) = listener.accept().await?;
        assert_eq!(stream.peer_addr()?, peer);
        assert_eq!(stream.local_addr()?, listener.local_addr()?);
        handlers.push(create_task(echo(stream)));
    }
    let mut total = 0;
    for handler in gather(handlers).await {
        total += handler.expect("an echo task failed")?;
    }
    Ok(total)
}

/// Writes back everything it reads, until the end of the stream; returns the byte count.
async fn echo(stream: TcpStream) -> io::Result<usize> {
    let mut total = 0;
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let (n, filled) = stream.read(buf).await;
        if n? == 0 {
            return Ok(total);
        }
        total += filled.len();
        let (written, back) = stream.write_all(filled).await;
        written?;
        buf = back;
    }
}

/// Reads exactly `len` bytes.
async fn read_exact(stream: &TcpStream, len: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut buf = Vec::with_capacity(32 * 1024);
    while out.len() < len {
        let (n, filled) = stream.read(buf).await;
        if n? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&filled);
        buf = filled;
    }
    Ok(out)
}

/// Reads until the end of the stream.
async fn read_to_end(stream: &TcpStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = Vec::with_capacity(32 * 1024);
    loop {
        let (n, filled) = stream.read(buf).await;
        if n? == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&filled);
        buf = filled;
    }
}

/// Connects, makes a round trip of each size in [`SIZES`] (writing and reading at the same
/// time: 256 KiB do not fit in the socket buffers), and closes.
async fn client(addr: SocketAddr, id: usize) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    assert_eq!(stream.peer_addr()?, addr);
    stream.set_nodelay(true)?;
    assert!(stream.nodelay()?);
    for (round, &size) in SIZES.iter().enumerate() {
        let message = payload((id * SIZES.len() + round) as u64, size);
        let ((written, sent), echoed) =
            gather!(stream.write_all(message), read_exact(&stream, size)).await;
        written?;
        assert!(
            echoed? == sent,
            "client {id}: round {round} ({size} bytes) came back changed"
        );
    }
    Ok(())
}

/// Runs [`CLIENTS`] client tasks against a server task listening on `bind`.
fn echo_round_trips(flavor: support::Flavor, bind: &'static str) {
    let rt = flavor.runtime();
    rt.block_on(async {
        let listener = match TcpListener::bind(bind) {
            Ok(listener) => listener,
            Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => {
                eprintln!("tcp_echo: skipped, {bind} is not available here: {e}");
                return;
            }
            Err(e) => panic!("bind {bind}: {e}"),
        };
        let addr = listener.local_addr().unwrap();
        let server = create_task(serve(listener, CLIENTS));
        let clients = (0..CLIENTS).map(|id| create_task(client(addr, id)));
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
        echo_round_trips(flavor, "127.0.0.1:0");
    }

    fn echo_over_ipv6(flavor: Flavor) {
        echo_round_trips(flavor, "[::1]:0");
    }

    fn half_close_ends_the_peers_reads_and_keeps_the_other_direction(flavor: Flavor) {
        const REQUEST: usize = 100 * 1024;
        const REPLY: usize = 70 * 1024;
        let rt = flavor.runtime();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let server = create_task(async move {
                let (stream, _) = listener.accept().await?;
                // The client's shutdown(Write) is the end of the request.
                let request = read_to_end(&stream).await?;
                // The end of the stream stays the end.
                let (n, _) = stream.read(Vec::with_capacity(8)).await;
                assert_eq!(n?, 0, "a second read after the end of the stream");
                // Its own write half is still open: answer, then end the reply the same way.
                let (written, _) = stream.write_all(payload(2, REPLY)).await;
                written?;
                stream.shutdown(Shutdown::Write).await?;
                io::Result::Ok(request)
            });
            let client = create_task(async move {
                let stream = TcpStream::connect(addr).await?;
                let (written, _) = stream.write_all(payload(1, REQUEST)).await;
                written?;
                stream.shutdown(Shutdown::Write).await?;
                // Writing after shutting down the write half is an error (not a SIGPIPE).
                let (late, _) = stream.write(b"late".to_vec()).await;
                assert_eq!(late.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
                // The read half still works: the whole reply, then the end of the stream.
                read_to_end(&stream).await
            });
            let reply = client.await.expect("the client task failed").unwrap();
            let request = server.await.expect("the server task failed").unwrap();
            assert!(
                request == payload(1, REQUEST),
                "the request came through whole"
            );
            assert!(reply == payload(2, REPLY), "the reply came through whole");
        });
    }

    // Regression: `block_on` neither polled nor parked its thread's ring while its future kept
    // waking itself and no task ran (fixed by "runtime: block_on polls its ring on every busy
    // pass").
    fn a_block_on_future_that_yields_in_a_loop_sees_its_read_complete(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (client, server) = io_support::tcp_pair("127.0.0.1").await;
            let (written, _) = client.write_all(&b"ready"[..]).await;
            written.unwrap();
            let mut read = server.read(Vec::with_capacity(16));
            let start = Instant::now();
            loop {
                let polled =
                    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut read).poll(cx))).await;
                if let Poll::Ready((n, buf)) = polled {
                    assert_eq!(&buf[..n.unwrap()], b"ready");
                    break;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(2),
                    "a read of data already there did not complete in 2 s"
                );
                yield_now().await;
            }
        });
    }
}
