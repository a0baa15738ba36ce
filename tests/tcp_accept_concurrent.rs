//! Two tasks accept from one listener, one of them racing its accepts against short
//! timeouts (so accepts are cancelled in flight while the other's accept is armed); two
//! clients connect. Each task must get its connection.
//!
//! Found by the chaos test (`cargo test --test chaos -- --with concurrent_accepts`): with
//! two accepts armed on one listener, the kernel wakes only one of them for a new connection
//! (accept polls are exclusive waiters); if that one was being cancelled, the wake-up was
//! spent on it, and the other accept never heard of the connection, which sat in the queue
//! (its ring's `fdinfo` listed the accept armed; `/proc/net/tcp` showed the backlog). One
//! round in 50-130 got stuck. Now a listener has at most one accept in the kernel
//! (`io/src/fd/leftovers.rs`, `Leftovers::accept`); this runs 500 rounds.

use ringloop::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// Timeouts for the dropping acceptor's accepts: mostly none, some zero (dropped right after
/// submission), some up to 1.5 ms.
fn limits(round: u64) -> Vec<Option<Duration>> {
    let mut x = round.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..64)
        .map(|_| match next() % 12 {
            0 => Some(Duration::ZERO),
            1..=3 => Some(Duration::from_micros(next() % 1500)),
            _ => None,
        })
        .collect()
}

/// One round; what the kernel holds if an accept got stuck.
fn round(round: u64) -> Option<String> {
    let rt = ringloop::Runtime::builder()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let addr = listener.local_addr().unwrap();
        let dropping = ringloop::create_task({
            let listener = listener.clone();
            async move {
                for limit in limits(round) {
                    let accepted = match limit {
                        Some(limit) => ringloop::timeout(limit, listener.accept()).await.ok(),
                        None => Some(listener.accept().await),
                    };
                    if let Some(accepted) = accepted {
                        return Some(accepted.unwrap().0);
                    }
                }
                None
            }
        });
        let plain = ringloop::create_task({
            let listener = listener.clone();
            async move { listener.accept().await.unwrap().0 }
        });
        let clients: Vec<_> = (0..2)
            .map(|_| ringloop::create_task(TcpStream::connect(addr)))
            .collect();
        let all = ringloop::timeout(Duration::from_secs(2), async {
            let accepted = (dropping.await.unwrap(), plain.await.unwrap());
            (accepted, ringloop::gather(clients).await)
        })
        .await;
        all.is_err().then(|| kernel_view(addr.port()))
    })
}

/// The listener's line of `/proc/net/tcp` (its `rx_queue` is its backlog), and the armed
/// polls of every ring of the process (opcode 13 is an accept).
fn kernel_view(port: u16) -> String {
    let port = format!(":{port:04X} ");
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let mut out: Vec<String> = tcp
        .lines()
        .filter(|l| l.contains(&port) && l.split_whitespace().nth(3) == Some("0A"))
        .map(|l| format!("listener: {}", l.trim()))
        .collect();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let link = std::fs::read_link(entry.path()).unwrap_or_default();
        if link.to_string_lossy().contains("io_uring") {
            let fd = entry.file_name().to_string_lossy().into_owned();
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"));
            let info = info.unwrap_or_default();
            let keep = |l: &&str| {
                l.starts_with("SQEs") || l.starts_with("CQEs") || l.trim().starts_with("op=")
            };
            let lines: Vec<_> = info.lines().filter(keep).map(str::trim).collect();
            out.push(format!("ring fd {fd}: {}", lines.join("; ")));
        }
    }
    out.join("\n")
}

#[test]
fn concurrent_accepts_with_cancellations_take_every_connection() {
    for n in 0..500 {
        if let Some(kernel) = round(n) {
            panic!("round {n}: an accept is stuck with a connection waiting:\n{kernel}");
        }
    }
}
