//! Reads cancelled in flight, on every flavour, with buffers that count their drops
//! ([`io_support::CountingBuf`]): a read dropped by `timeout`, whose buffer the driver keeps
//! until the cancellation completes, then frees once, and whose allocation is then reused by
//! a read that gets the peer's data intact; a task cancelled during a read, which frees the
//! buffer once and closes the socket; and many reads cancelled while data races in, after
//! which every buffer was freed exactly once.

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

use io_support::{open_socket_inodes, sleep_until_true, socket_inode, tcp_pair, BufPool};
use ringloop::{create_task, gather, sleep, timeout, TaskState};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::counting::Counters;
use support::{assert_cancelled, oneshot, yield_until};

const MESSAGE: &[u8] = b"sent after the cancellation";

rt_test! {
    fn a_read_dropped_by_timeout_frees_its_buffer_once_and_the_memory_is_reused(flavor: Flavor) {
        let rt = flavor.runtime();
        let pool = BufPool::new();
        rt.block_on(async {
            let (client, server) = tcp_pair("127.0.0.1").await;
            let (go, sent) = oneshot::channel::<()>();
            let reader = create_task({
                let pool = pool.clone();
                async move {
                    let buf = pool.take(4096);
                    let addr = buf.addr();
                    let out = timeout(Duration::from_millis(20), server.read(buf)).await;
                    assert!(
                        out.is_err(),
                        "nothing was sent, yet the read completed: {out:?}"
                    );
                    // The read was cancelled in flight: its buffer stays with the driver until
                    // the cancellation's completion, and is dropped then, once.
                    yield_until("the cancelled read's buffer is dropped", || {
                        pool.dropped() == 1
                    })
                    .await;
                    assert!(pool.holds(addr), "the buffer went back to the pool");
                    let buf = pool.take(4096);
                    assert_eq!(buf.addr(), addr, "the freed allocation is reused");
                    go.send(()).unwrap();
                    // The cancelled read took none of the data, and writes nothing into the
                    // reused memory: the new read gets the message whole.
                    let (n, buf) = server.read(buf).await;
                    assert_eq!(n.unwrap(), MESSAGE.len());
                    assert_eq!(buf.bytes(), MESSAGE);
                    assert_eq!(buf.addr(), addr);
                }
            });
            sent.await.unwrap();
            let (written, _) = client.write_all(MESSAGE).await;
            written.unwrap();
            reader.await.expect("the reading task failed");
        });
        assert_eq!(pool.created(), 2);
        pool.assert_all_dropped_once();
    }

    fn cancelling_a_task_in_a_read_frees_its_buffer_once_and_closes_the_socket(flavor: Flavor) {
        let rt = flavor.runtime();
        let pool = BufPool::new();
        let futures = Counters::new();
        rt.block_on(async {
            let (client, server) = tcp_pair("127.0.0.1").await;
            let inode = socket_inode(server.as_raw_fd()).expect("a socket");
            let reading = Arc::new(AtomicBool::new(false));
            let reader = create_task(futures.track({
                let (pool, reading) = (pool.clone(), reading.clone());
                async move {
                    reading.store(true, Ordering::SeqCst);
                    let (n, _) = server.read(pool.take(1024)).await;
                    panic!("nothing was sent, yet the read completed: {n:?}");
                }
            }));
            sleep_until_true("the task waits in its read", || {
                reading.load(Ordering::SeqCst) && reader.info().state == TaskState::Idle
            })
            .await;
            assert!(reader.cancel());
            assert_cancelled(reader.await);
            futures.assert_all_dropped_once();
            sleep_until_true("the cancelled read's buffer is dropped", || {
                pool.dropped() == 1
            })
            .await;
            // The stream went with the task; its descriptor closes when the cancelled read
            // completes, and the peer sees the end of the stream.
            let (n, _) = client.read(Vec::with_capacity(8)).await;
            assert_eq!(n.unwrap(), 0, "the peer sees the end of the stream");
            assert!(
                !open_socket_inodes().contains(&inode),
                "the socket is closed"
            );
        });
        assert_eq!(pool.created(), 1);
        pool.assert_all_dropped_once();
    }

    fn reads_cancelled_while_data_races_in_free_every_buffer_once(flavor: Flavor) {
        const PAIRS: usize = 16;
        const ROUNDS: u64 = 40;
        let rt = flavor.runtime();
        let pool = BufPool::new();
        let (completed, cancelled) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        rt.block_on(async {
            let (mut readers, mut writers) = (Vec::new(), Vec::new());
            for pair in 0..PAIRS as u64 {
                let (client, server) = tcp_pair("127.0.0.1").await;
                let (pool, completed, cancelled) =
                    (pool.clone(), completed.clone(), cancelled.clone());
                // Reads with deadlines of 0 to 1.5 ms against writes every 0 to 1.5 ms: some
                // reads complete, some are cancelled, some complete while being cancelled.
                readers.push(create_task(async move {
                    for round in 0..ROUNDS {
                        let wait = Duration::from_micros((pair * 7 + round * 13) % 16 * 100);
                        match timeout(wait, server.read(pool.take(64))).await {
                            Ok((n, _)) => {
                                assert!(n.unwrap() > 0);
                                completed.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(_) => {
                                cancelled.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    server
                }));
                // Both hand their stream back, so that neither end closes while the other is
                // still at work.
                writers.push(create_task(async move {
                    for round in 0..ROUNDS {
                        let wait = Duration::from_micros((pair * 11 + round * 5) % 16 * 100);
                        sleep(wait).await.unwrap();
                        let (written, _) = client.write_all(&b"x"[..]).await;
                        written.unwrap();
                    }
                    client
                }));
            }
            let (servers, clients) = ringloop::gather!(gather(readers), gather(writers)).await;
            for stream in servers.into_iter().chain(clients) {
                stream.expect("a task failed");
            }
            sleep_until_true("every cancelled read's buffer is dropped", || {
                pool.live() == 0
            })
            .await;
        });
        let (completed, cancelled) = (
            completed.load(Ordering::Relaxed),
            cancelled.load(Ordering::Relaxed),
        );
        eprintln!(
            "tcp_cancel: {completed} reads completed, {cancelled} cancelled, {} buffers",
            pool.created()
        );
        assert_eq!(completed + cancelled, PAIRS * ROUNDS as usize);
        assert!(cancelled > 0, "some reads were cancelled");
        pool.assert_all_dropped_once();
    }
}
