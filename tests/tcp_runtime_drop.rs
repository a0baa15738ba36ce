//! Dropping a `Runtime` while its tasks wait in socket ops, on every flavour: reads with no
//! data coming (in spawned tasks, and in a local task on a worker), writes blocked on a peer
//! that does not read, and an accept with no connection coming. The drop returns promptly;
//! every task is cancelled and its future dropped once; every buffer (counting, see
//! [`io_support::CountingBuf`]) is freed exactly once; every socket is closed, and the peers
//! see the end of their streams.

#[macro_use]
mod support;
#[path = "support/io_support.rs"]
mod io_support;

use io_support::{open_socket_inodes, sleep_until_true, socket_inode, BufPool};
use ringloop::net::{TcpListener, TcpStream};
use ringloop::{create_task, Task, TaskState};
use std::io::Read;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::counting::Counters;
use support::{assert_cancelled, block_on_thread, local_task_on_a_worker};

/// Tasks waiting in a read, one of them local.
const READERS: usize = 16;

/// Tasks waiting in a write that cannot finish.
const WRITERS: usize = 4;

/// More than the socket buffers of a loopback connection hold, so a write of it waits for a
/// peer that never reads.
const TOO_MUCH: usize = 16 * 1024 * 1024;

rt_test! {
    fn dropping_the_runtime_cancels_pending_ops_frees_buffers_once_and_closes_sockets(
        flavor: Flavor
    ) {
        let rt = flavor.runtime();
        let pool = BufPool::new();
        let futures = Counters::new();
        let waiting = Arc::new(AtomicUsize::new(0));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut peers = Vec::new();
        let mut inodes = Vec::new();
        let tasks: Vec<Task<()>> = rt.block_on(async {
            let mut tasks = Vec::new();
            for i in 0..READERS + WRITERS {
                peers.push(std::net::TcpStream::connect(addr).unwrap());
                let stream = TcpStream::from_std(listener.accept().unwrap().0).unwrap();
                inodes.push(socket_inode(stream.as_raw_fd()).unwrap());
                let (pool, waiting) = (pool.clone(), waiting.clone());
                let task = futures.track(async move {
                    waiting.fetch_add(1, Ordering::SeqCst);
                    if i < READERS {
                        let (n, _) = stream.read(pool.take(64)).await;
                        panic!("nothing was sent, yet the read completed: {n:?}");
                    }
                    let mut buf = pool.take(TOO_MUCH);
                    buf.extend_from_slice(&vec![b'w'; TOO_MUCH]);
                    let (done, _) = stream.write_all(buf).await;
                    panic!("the peer reads nothing, yet the write completed: {done:?}");
                });
                tasks.push(if i == 0 {
                    local_task_on_a_worker(move || task).await
                } else {
                    create_task(task)
                });
            }
            // An accept in flight, on a listener of the runtime's.
            let idle_listener = TcpListener::bind("127.0.0.1:0").unwrap();
            inodes.push(socket_inode(idle_listener.as_raw_fd()).unwrap());
            tasks.push(create_task(futures.track({
                let waiting = waiting.clone();
                async move {
                    waiting.fetch_add(1, Ordering::SeqCst);
                    let accepted = idle_listener.accept().await;
                    panic!("nobody connects, yet the accept completed: {accepted:?}");
                }
            })));
            sleep_until_true("every task waits in its op", || {
                waiting.load(Ordering::SeqCst) == tasks.len()
                    && tasks.iter().all(|t| t.info().state == TaskState::Idle)
            })
            .await;
            tasks
        });
        let ops = tasks.len();

        let start = Instant::now();
        drop(rt);
        let took = start.elapsed();
        eprintln!("tcp_runtime_drop {flavor:?}: dropped with {ops} ops pending in {took:?}");
        assert!(
            took < Duration::from_secs(10),
            "dropping the runtime took {took:?}"
        );

        for task in tasks {
            assert_cancelled(block_on_thread(task));
        }
        futures.assert_all_dropped_once();
        assert_eq!(pool.created(), READERS + WRITERS);
        pool.assert_all_dropped_once();
        let open = open_socket_inodes();
        for inode in &inodes {
            assert!(!open.contains(inode), "socket {inode} is still open");
        }
        // Each peer sees the end of its stream (after the bytes a writer got through).
        for mut peer in peers {
            peer.set_read_timeout(Some(support::PATIENCE)).unwrap();
            let mut sink = vec![0; 256 * 1024];
            loop {
                match peer.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => continue,
                    Err(e) => panic!("the peer did not see the end of its stream: {e}"),
                }
            }
        }
    }
}
