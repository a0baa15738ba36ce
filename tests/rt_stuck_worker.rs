//! A worker stuck in one long poll (a blocking call in a task) does not hold other tasks'
//! timers and I/O hostage: its siblings fire its timers and deliver its ring's completions
//! (`runtime/src/scheduler/multi_thread/rescue.rs`).
//!
//! Each test starts a timer or a read on one worker (polling it once there, which registers
//! the timer on that worker's wheel, or queues the read on its ring), hands it to a new task,
//! then blocks that worker for 2 s. The other worker steals the task; the timer is due, or
//! the data arrives, 100 ms in. Before rescues they completed after the 2 s; the tests allow
//! 1 s (the figures measured are in the closing notes and `DESIGN.md`, "Stuck workers").

use ringloop::net::TcpListener;
use ringloop::{create_task, sleep, Builder, Runtime};
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};

const BLOCKED_FOR: Duration = Duration::from_secs(2);
const DUE_AT: Duration = Duration::from_millis(100);
const ALLOWED: Duration = Duration::from_secs(1);

type Started = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Polls `future` once in the current task (on the current worker), then runs it to the end
/// in a new task while the current worker blocks; returns how long after the start it ended.
async fn finish_elsewhere_while_blocked(mut future: Started) -> Duration {
    let start = Instant::now();
    std::future::poll_fn(|cx| {
        assert!(future.as_mut().poll(cx).is_pending(), "started, not done");
        Poll::Ready(())
    })
    .await;
    let task = create_task(async move {
        future.await;
        start.elapsed()
    });
    // The poll of some task that blocks its worker (the mistake this protects against).
    std::thread::sleep(BLOCKED_FOR);
    task.await.unwrap()
}

fn two_workers(configure: impl FnOnce(&mut Builder)) -> Runtime {
    let mut builder = Runtime::builder();
    builder.worker_threads(2);
    configure(&mut builder);
    builder.build().unwrap()
}

fn timer_while_blocked(rt: &Runtime) -> Duration {
    rt.block_on(async {
        create_task(finish_elsewhere_while_blocked(Box::pin(async {
            sleep(DUE_AT).await.unwrap();
        })))
        .await
        .unwrap()
    })
}

fn read_while_blocked(rt: &Runtime) -> Duration {
    let (tx, rx) = mpsc::channel::<std::net::SocketAddr>();
    let writer = std::thread::spawn(move || {
        let mut peer = std::net::TcpStream::connect(rx.recv().unwrap()).unwrap();
        std::thread::sleep(DUE_AT);
        peer.write_all(b"late").unwrap();
        peer
    });
    let took = rt.block_on(async move {
        create_task(async move {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let (stream, _) = listener.accept().await.unwrap();
            finish_elsewhere_while_blocked(Box::pin(async move {
                let (n, buf) = stream.read(vec![0_u8; 16]).await;
                assert_eq!(&buf[..n.unwrap()], b"late");
            }))
            .await
        })
        .await
        .unwrap()
    });
    drop(writer.join().unwrap());
    took
}

fn assert_rescued(what: &str, took: Duration) {
    eprintln!("{what}: completed {took:?} after the start");
    assert!(took >= DUE_AT, "{what}: completed early, at {took:?}");
    assert!(
        took < ALLOWED,
        "{what}: completed at {took:?}, held hostage by the blocked worker"
    );
}

#[test]
fn a_timer_on_a_blocked_worker_fires_on_time() {
    let rt = two_workers(|_| {});
    assert_rescued("timer", timer_while_blocked(&rt));
}

#[test]
fn a_read_on_a_blocked_workers_ring_completes_when_its_data_arrives() {
    let rt = two_workers(|_| {});
    assert_rescued("read", read_while_blocked(&rt));
}

/// Without deferred task work the kernel posts the completions itself, and any thread may
/// submit to the ring: no signal is needed.
#[test]
fn without_deferred_task_work_the_read_is_rescued_too() {
    let rt = two_workers(|b| {
        b.defer_taskrun(false);
    });
    assert_rescued("read, no deferred task work", read_while_blocked(&rt));
}

/// Without the signal, timers are still fired; the read waits for the blocked poll.
#[test]
fn without_the_signal_timers_are_rescued_and_io_waits() {
    let rt = two_workers(|b| {
        b.stuck_worker_signal(None);
    });
    assert_rescued("timer, no signal", timer_while_blocked(&rt));
    let took = read_while_blocked(&rt);
    assert!(
        took >= BLOCKED_FOR,
        "the read needs the blocked thread: {took:?}"
    );
}
