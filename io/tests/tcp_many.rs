//! 10,000 TCP connections open at the same time, each carrying an echo round trip.
//!
//! The hard `RLIMIT_NOFILE` of the test machine may be 20,000, fewer than the ~20,010
//! descriptors both ends would need in one process, so the clients run in a child process:
//! this test binary re-runs itself with an environment variable that selects the client
//! side. Each process raises its soft limit to the hard limit (process-wide, hence a binary
//! with this single test). If the hard limit is still too low, the test runs with as many
//! connections as fit and says so on stderr.

mod common;

use std::cell::Cell;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{block_on, driver, join_all, open_sockets, run_all, set_nofile_limit, Task};
use ringloop_io::net::{TcpListener, TcpStream};
use ringloop_io::time::timeout;

const TARGET: usize = 10_000;
const TEST_NAME: &str = "ten_thousand_concurrent_connections";
const SERVER_ENV: &str = "RINGLOOP_TCP_MANY_SERVER";
const COUNT_ENV: &str = "RINGLOOP_TCP_MANY_COUNT";
/// Descriptors each process needs besides its connections (std streams, rings, eventfds,
/// the listener, the test harness).
const SPARE_FDS: u64 = 64;
/// Concurrent connects per wave, so the listener's queue (capped by somaxconn) never
/// overflows into SYN retransmissions.
const WAVE: usize = 500;
const MESSAGE: usize = 16;

#[test]
fn ten_thousand_concurrent_connections() {
    let (_, hard) = set_nofile_limit(u64::MAX);
    if let Ok(server) = std::env::var(SERVER_ENV) {
        let count = std::env::var(COUNT_ENV).unwrap().parse().unwrap();
        return clients(server.parse().unwrap(), count);
    }
    let fit = usize::try_from(hard.saturating_sub(SPARE_FDS)).unwrap_or(usize::MAX);
    let count = TARGET.min(fit);
    if count < TARGET {
        eprintln!(
            "tcp_many: RLIMIT_NOFILE hard limit {hard} allows only {count} of {TARGET} \
             connections per process"
        );
    }
    server(count);
}

fn server(count: usize) {
    let driver = driver();
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(SERVER_ENV, addr.to_string())
        .env(COUNT_ENV, count.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();

    let streams = block_on(&driver, async {
        let mut streams = Vec::with_capacity(count);
        while streams.len() < count {
            match timeout(Duration::from_secs(30), listener.accept()).await {
                Ok(accepted) => streams.push(accepted.expect("accept").0),
                Err(_) => break,
            }
        }
        streams
    });
    if streams.len() < count {
        let out = child.wait_with_output().unwrap();
        panic!(
            "accepted {} of {count}; client: {}\n{}",
            streams.len(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(open_sockets() > count, "all server ends are open at once");

    // Echo on every connection concurrently, until the client closes them.
    let echoed = Cell::new(0usize);
    let tasks: Vec<Task<'_>> = streams
        .iter()
        .map(|stream| {
            let echoed = &echoed;
            Box::pin(async move {
                loop {
                    let (n, buf) = stream.read(Vec::with_capacity(64)).await;
                    if n.expect("server read") == 0 {
                        break;
                    }
                    let (done, _) = stream.write_all(buf).await;
                    done.expect("server write");
                    echoed.set(echoed.get() + 1);
                }
            }) as Task<'_>
        })
        .collect();
    run_all(&driver, tasks);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "client process failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(echoed.get() >= count, "every connection echoed");
    eprintln!(
        "tcp_many: {count} concurrent connections echoed in {:?}",
        start.elapsed()
    );
}

fn clients(server: SocketAddr, count: usize) {
    let driver = driver();
    let streams = block_on(&driver, async {
        let mut streams = Vec::with_capacity(count);
        while streams.len() < count {
            let wave = WAVE.min(count - streams.len());
            let connects = (0..wave).map(|_| TcpStream::connect(server)).collect();
            for stream in join_all(connects).await {
                streams.push(stream.expect("connect"));
            }
        }
        streams
    });
    assert!(open_sockets() >= count, "all client ends are open at once");

    let tasks: Vec<Task<'_>> = streams
        .iter()
        .enumerate()
        .map(|(i, stream)| {
            Box::pin(async move {
                let message = format!("{i:0width$}", width = MESSAGE).into_bytes();
                let (done, message) = stream.write_all(message).await;
                done.expect("client write");
                let mut echoed = Vec::new();
                while echoed.len() < MESSAGE {
                    let (n, chunk) = stream.read(Vec::with_capacity(MESSAGE)).await;
                    assert!(n.expect("client read") > 0, "connection {i} closed early");
                    echoed.extend_from_slice(&chunk);
                }
                assert_eq!(echoed, message, "connection {i}");
            }) as Task<'_>
        })
        .collect();
    run_all(&driver, tasks);
    // All `count` connections were open during every echo; closing them ends the server.
    drop(streams);
}
