//! A server task that accepts with the descriptor limit exhausted, on every flavour: its
//! accepts fail with `EMFILE` while the task keeps running (it backs off and accepts again),
//! and once descriptors are free it takes the connections that waited in the listener's queue,
//! which then work.
//!
//! `RLIMIT_NOFILE` is per process, so this binary holds only this test, and its flavours take
//! turns (a lock): lowering the limit cannot disturb any other test.

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

use io_support::{highest_fd, set_nofile_limit, sleep_until_true, EMFILE};
use ringloop::net::{TcpListener, TcpStream};
use ringloop::{create_task, sleep};
use std::fs::File;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// One flavour at a time: the limit is the process's.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Connections the server takes before it returns.
const CONNECTIONS: usize = 2;

/// What the server task reports while it runs.
#[derive(Default)]
struct Progress {
    emfile: AtomicUsize,
    accepted: Mutex<Vec<SocketAddr>>,
}

/// Accepts [`CONNECTIONS`] connections; an `EMFILE` is counted and followed by a short
/// sleep and another accept, as a server would do. Any other error ends it.
async fn accept_loop(listener: TcpListener, progress: Arc<Progress>) -> Vec<TcpStream> {
    let mut streams = Vec::new();
    while streams.len() < CONNECTIONS {
        match listener.accept().await {
            Ok((stream, peer)) => {
                progress.accepted.lock().unwrap().push(peer);
                streams.push(stream);
            }
            Err(e) if e.raw_os_error() == Some(EMFILE) => {
                progress.emfile.fetch_add(1, Ordering::SeqCst);
                sleep(Duration::from_millis(1)).await.expect("sleep");
            }
            Err(e) => panic!("accept failed with another error than EMFILE: {e}"),
        }
    }
    streams
}

/// Restores the soft limit when dropped, so that a failure does not leave it lowered for the
/// next flavour.
struct RestoreLimit(u64);

impl Drop for RestoreLimit {
    fn drop(&mut self) {
        set_nofile_limit(self.0);
    }
}

rt_test! {
    fn a_server_task_keeps_accepting_after_emfile(flavor: Flavor) {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let rt = flavor.runtime();
        let progress = Arc::new(Progress::default());
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            // The connections wait in the listener's queue (the kernel completes handshakes).
            let mut clients: Vec<_> = (0..CONNECTIONS)
                .map(|_| std::net::TcpStream::connect(addr).unwrap())
                .collect();

            // Lower the limit just above what is open, then take every free descriptor.
            let (old_soft, _) = set_nofile_limit(highest_fd() as u64 + 16);
            let restore = RestoreLimit(old_soft);
            let devnull = File::open("/dev/null").unwrap();
            let mut filler = Vec::new();
            let exhausted = loop {
                match devnull.try_clone() {
                    Ok(fd) => filler.push(fd),
                    Err(e) => break e,
                }
                assert!(filler.len() < 100_000, "the limit did not apply");
            };
            assert_eq!(exhausted.raw_os_error(), Some(EMFILE));

            let server = create_task(accept_loop(listener, progress.clone()));
            sleep_until_true("the server task's accepts fail with EMFILE", || {
                progress.emfile.load(Ordering::SeqCst) >= 3
            })
            .await;
            assert!(!server.is_done(), "the server task keeps running");
            assert!(progress.accepted.lock().unwrap().is_empty());

            // One descriptor free: the server takes the first waiting connection, then fails
            // again.
            filler.pop();
            sleep_until_true("the first connection is accepted", || {
                progress.accepted.lock().unwrap().len() == 1
            })
            .await;
            let failures = progress.emfile.load(Ordering::SeqCst);
            sleep_until_true("the server task hits EMFILE again", || {
                progress.emfile.load(Ordering::SeqCst) > failures
            })
            .await;

            // Every descriptor free again: the second connection is taken too.
            drop(filler);
            drop(restore);
            let streams = server.await.expect("the server task failed");
            let peers = progress.accepted.lock().unwrap().clone();
            let expected: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
            assert_eq!(peers, expected, "the waiting connections, in order");

            // Both accepted connections work.
            for (stream, client) in streams.iter().zip(&mut clients) {
                let (written, _) = stream.write_all(&b"ok"[..]).await;
                written.unwrap();
                let mut got = [0u8; 2];
                client.read_exact(&mut got).unwrap();
                assert_eq!(&got, b"ok");
            }
        });
        eprintln!(
            "tcp_accept_emfile {flavor:?}: {} accepts failed with EMFILE; the server task went \
             on and took both connections",
            progress.emfile.load(Ordering::SeqCst)
        );
    }
}
