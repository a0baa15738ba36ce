//! 10,000 TCP connections open at the same time, served by tasks, on every flavour: a
//! listener task accepts them all and spawns one echo task per connection; every connection
//! makes an echo round trip while all of them are open.
//!
//! The clients run in a child process. The hard `RLIMIT_NOFILE` of the test machine is 20,000,
//! fewer than the ~20,030 descriptors both ends would need in one process, so — as
//! `io/tests/tcp_many.rs` does — this binary re-runs itself with an environment variable
//! that selects the client side, which connects in waves of 500 on a single-threaded runtime,
//! then echoes on every connection at once, then closes them all. Each process raises its soft
//! limit to the hard limit; if that is still too low, the test runs with as many connections
//! as fit and says so on stderr. The three flavours would need 30,000 descriptors at once, so
//! they take turns.

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

use io_support::{open_sockets, set_nofile_limit};
use ringloop::net::{TcpListener, TcpStream};
use ringloop::{create_task, gather, timeout, Runtime, Task};
use std::io;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const TARGET: usize = 10_000;
const TEST_NAME: &str = "ten_thousand_concurrent_connections_served_by_tasks";
const SERVER_ENV: &str = "RINGLOOP_TCP_MANY_SERVER";
const COUNT_ENV: &str = "RINGLOOP_TCP_MANY_COUNT";
/// Descriptors each process needs besides its connections (std streams, rings, eventfds, the
/// listener, pipes to the child, the test harness).
const SPARE_FDS: u64 = 64;
/// Concurrent connects per wave, so the listener's queue never overflows into SYN retries.
const WAVE: usize = 500;
const MESSAGE: usize = 16;
/// How long the server waits for the next connection before giving up.
const ACCEPT_PATIENCE: Duration = Duration::from_secs(20);

/// One flavour at a time: each needs 10,000 descriptors of the process's 20,000.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Connections open at once, and the most seen.
#[derive(Default)]
struct Gauge {
    live: AtomicUsize,
    peak: AtomicUsize,
    echoed: AtomicUsize,
}

rt_test! {
    fn ten_thousand_concurrent_connections_served_by_tasks(flavor: Flavor) {
        let (_, hard) = set_nofile_limit(u64::MAX);
        if let Ok(server) = std::env::var(SERVER_ENV) {
            let count = std::env::var(COUNT_ENV).unwrap().parse().unwrap();
            return clients(server.parse().unwrap(), count);
        }
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let fit = usize::try_from(hard.saturating_sub(SPARE_FDS)).unwrap_or(usize::MAX);
        let count = TARGET.min(fit);
        if count < TARGET {
            eprintln!(
                "tcp_many: RLIMIT_NOFILE hard limit {hard} allows only {count} of {TARGET} \
                 connections per process"
            );
        }
        server(flavor, count);
    }
}

fn server(flavor: support::Flavor, count: usize) {
    let rt = flavor.runtime();
    let gauge = Arc::new(Gauge::default());
    let start = Instant::now();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                &format!("single_threaded::{TEST_NAME}"),
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SERVER_ENV, addr.to_string())
            .env(COUNT_ENV, count.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let handlers = match create_task(accept_all(listener, count, gauge.clone())).await {
            Ok(Ok(handlers)) => handlers,
            failed => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "the listener task failed: {failed:?}; client:\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        };
        for handler in gather(handlers).await {
            handler.expect("a connection task failed").expect("echo");
        }
        // Every connection was closed by the client, which has exited or is exiting.
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "the client process failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert_eq!(
        peak, count,
        "all connections were open and served at the same time"
    );
    assert_eq!(
        gauge.echoed.load(Ordering::SeqCst),
        count,
        "every connection echoed"
    );
    assert_eq!(gauge.live.load(Ordering::SeqCst), 0);
    eprintln!(
        "tcp_many {flavor:?}: {count} concurrent connections served by tasks in {:?}",
        start.elapsed()
    );
}

/// Accepts `count` connections, spawning an echo task for each; returns their handles.
async fn accept_all(
    listener: TcpListener,
    count: usize,
    gauge: Arc<Gauge>,
) -> io::Result<Vec<Task<io::Result<()>>>> {
    let mut handlers = Vec::with_capacity(count);
    for accepted in 0..count {
        let Ok(connection) = timeout(ACCEPT_PATIENCE, listener.accept()).await else {
            let e = format!("no connection in {ACCEPT_PATIENCE:?} after {accepted}");
            return Err(io::Error::new(io::ErrorKind::TimedOut, e));
        };
        let (stream, _) = connection?;
        let live = gauge.live.fetch_add(1, Ordering::SeqCst) + 1;
        gauge.peak.fetch_max(live, Ordering::SeqCst);
        handlers.push(create_task(serve(stream, gauge.clone())));
    }
    Ok(handlers)
}

/// Echoes until the client closes the connection.
async fn serve(stream: TcpStream, gauge: Arc<Gauge>) -> io::Result<()> {
    let mut buf = Vec::with_capacity(64);
    loop {
        let (n, filled) = stream.read(buf).await;
        if n? == 0 {
            break;
        }
        let (written, back) = stream.write_all(filled).await;
        written?;
        buf = back;
        gauge.echoed.fetch_add(1, Ordering::SeqCst);
    }
    gauge.live.fetch_sub(1, Ordering::SeqCst);
    Ok(())
}

/// The child process: `count` connections to `server`, all open, each echoing once.
fn clients(server: SocketAddr, count: usize) {
    let rt = Runtime::builder().single_threaded().build().unwrap();
    rt.block_on(async {
        let mut streams = Vec::with_capacity(count);
        while streams.len() < count {
            let wave = WAVE.min(count - streams.len());
            for stream in gather((0..wave).map(|_| TcpStream::connect(server))).await {
                streams.push(stream.expect("connect"));
            }
        }
        assert!(open_sockets() >= count, "all client ends are open at once");
        let echoes = streams.into_iter().enumerate().map(|(i, stream)| {
            create_task(async move {
                let message = format!("{i:0width$}", width = MESSAGE).into_bytes();
                let (written, message) = stream.write_all(message).await;
                written.expect("client write");
                let mut echoed = Vec::new();
                while echoed.len() < MESSAGE {
                    let (n, chunk) = stream.read(Vec::with_capacity(MESSAGE)).await;
                    assert!(n.expect("client read") > 0, "connection {i} closed early");
                    echoed.extend_from_slice(&chunk);
                }
                assert_eq!(echoed, message, "connection {i}");
                stream
            })
        });
        // Every connection stays open until all have echoed; then all close.
        let streams: Vec<TcpStream> = gather(echoes)
            .await
            .into_iter()
            .map(|echo| echo.expect("an echo task failed"))
            .collect();
        drop(streams);
    });
}
