//! A task stolen while its read is in flight (multi-threaded runtime, 2 workers; inherently
//! about threads, so not run on every flavour).
//!
//! The reader task submits its read on the worker that first polls it (the read's *owner*
//! ring), then spawns a CPU-bound task there, which lands in the same worker's queue. If that
//! task runs on the owner, it wakes the reader — which goes to the owner's queue, behind the
//! busy task — and spins: only the other worker can run the reader now, by stealing it. If
//! the other worker took the busy task instead, the attempt is repeated. Once the reader has
//! been polled on the other worker with its read still in flight (no data has been sent yet),
//! the peer writes; the completion is reaped by the owner ring and reaches the task, and the
//! read must give exactly the bytes written. Each round records the threads the reader was
//! polled on and the attempts it took; the totals, and the runtime's steal counters, are
//! printed.

#[path = "support/io_support.rs"]
mod io_support;
#[allow(unused_macros)] // `rt_test!`: this test is about two workers, not every flavour
mod support;

use io_support::sleep_until_true;
use ringloop::net::TcpStream;
use ringloop::{create_task, Runtime};
use std::future::{poll_fn, Future};
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread::{self, ThreadId};
use support::{spin_until, Watchdog, WATCHDOG};

/// Rounds, each with a fresh connection and reader.
const ROUNDS: usize = 20;

/// Attempts a round may take before the test fails: each attempt that misses costs a
/// microsecond-scale race, so needing many means the reader cannot be stolen.
const MAX_ATTEMPTS: usize = 100;

const MESSAGE: &[u8] = b"read on one worker, stolen by the other";

/// What the reader and its busy helper share.
#[derive(Default)]
struct Round {
    /// The thread that first polled the reader, whose ring the read went to.
    owner: Mutex<Option<ThreadId>>,
    /// Every thread the reader was polled on, in order.
    polled_on: Mutex<Vec<ThreadId>>,
    /// Polls of the reader so far.
    polls: AtomicUsize,
    /// The reader was polled on the other worker while its read was in flight.
    stolen: AtomicBool,
    /// Busy tasks spawned so far.
    attempts: AtomicUsize,
    /// The reader's waker, for the busy task.
    waker: Mutex<Option<Waker>>,
}

/// Reads once from `stream`, trying to get itself stolen while the read is in flight; see
/// the module docs.
async fn reader(stream: TcpStream, round: Arc<Round>) -> (std::io::Result<usize>, Vec<u8>) {
    let mut read = stream.read(Vec::with_capacity(256));
    poll_fn(|cx| {
        let here = thread::current().id();
        round.polled_on.lock().unwrap().push(here);
        let polls = round.polls.fetch_add(1, Ordering::SeqCst) + 1;
        if let Poll::Ready(out) = Pin::new(&mut read).poll(cx) {
            return Poll::Ready(out);
        }
        let owner = *round.owner.lock().unwrap().get_or_insert(here);
        if here != owner {
            round.stolen.store(true, Ordering::SeqCst);
            return Poll::Pending;
        }
        if round.stolen.load(Ordering::SeqCst) {
            // Back on the owner after the steal: wait for the data.
            return Poll::Pending;
        }
        let attempt = round.attempts.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(
            attempt <= MAX_ATTEMPTS,
            "the reader was not stolen in {MAX_ATTEMPTS} attempts"
        );
        *round.waker.lock().unwrap() = Some(cx.waker().clone());
        create_task(busy(round.clone(), owner, polls)).detach();
        Poll::Pending
    })
    .await
}

/// Wakes the reader from the worker this task runs on, then stays inside its poll until the
/// reader has been polled again (elsewhere, if this is the owner).
async fn busy(round: Arc<Round>, owner: ThreadId, polls: usize) -> bool {
    let on_owner = thread::current().id() == owner;
    let waker = round
        .waker
        .lock()
        .unwrap()
        .take()
        .expect("the reader's waker");
    waker.wake();
    assert!(
        spin_until(|| round.polls.load(Ordering::SeqCst) > polls),
        "the woken reader was not polled again (on_owner: {on_owner})"
    );
    on_owner
}

#[test]
fn a_task_stolen_while_its_read_is_in_flight_gets_its_data() {
    let _watchdog = Watchdog::start("a_task_stolen_while_its_read_is_in_flight", WATCHDOG);
    let rt = Runtime::builder().worker_threads(2).build().unwrap();
    let steals_before: u64 = rt.metrics().workers.iter().map(|w| w.steals).sum();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut attempts = Vec::new();
    let mut completed_elsewhere = 0;
    for number in 0..ROUNDS {
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let round = Arc::new(Round::default());
        let (read, buf) = rt.block_on(async {
            let stream = TcpStream::from_std(server).unwrap();
            let task = create_task(reader(stream, round.clone()));
            sleep_until_true("the reader is polled on the other worker", || {
                round.stolen.load(Ordering::SeqCst)
            })
            .await;
            // Only now is there anything to read: the read was in flight during the steal.
            client.write_all(MESSAGE).unwrap();
            task.await.expect("the reader task failed")
        });
        assert_eq!(
            read.expect("the read failed"),
            MESSAGE.len(),
            "round {number}"
        );
        assert_eq!(buf, MESSAGE, "round {number}");

        let owner = round.owner.lock().unwrap().expect("the reader was polled");
        let polled_on = round.polled_on.lock().unwrap().clone();
        assert_eq!(polled_on[0], owner);
        let steal = polled_on
            .iter()
            .position(|t| *t != owner)
            .expect("polled on the other worker");
        assert!(
            steal < polled_on.len() - 1,
            "the read completed after the steal"
        );
        if *polled_on.last().unwrap() != owner {
            completed_elsewhere += 1;
        }
        attempts.push(round.attempts.load(Ordering::SeqCst));
    }
    let steals: u64 = rt.metrics().workers.iter().map(|w| w.steals).sum::<u64>() - steals_before;
    let total: usize = attempts.iter().sum();
    eprintln!(
        "tcp_steal: {ROUNDS} rounds stolen with reads in flight after {total} attempts \
         (per round: {attempts:?}); completion taken on the thief in {completed_elsewhere} \
         rounds, on the owner in the others; worker steals counted: {steals}"
    );
    assert!(steals >= ROUNDS as u64, "the runtime counted the steals");
}
