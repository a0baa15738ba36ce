//! Test harness: a tiny `block_on`, a tiny single-thread executor and `join`s over a
//! [`Driver`], a buffer that counts its drops, pipes, and connected socket pairs.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use ringloop_io::{Driver, DriverConfig, IoBuf, IoBufMut, Unparker};

pub(crate) fn driver() -> Driver {
    Driver::new(&DriverConfig::new()).expect("io_uring is available on the test machine")
}

/// Polls `future` with a waker that unparks `driver`, parking between polls.
pub(crate) fn block_on<F: Future>(driver: &Driver, future: F) -> F::Output {
    let _enter = driver.enter();
    let waker = Waker::from(Arc::new(driver.unparker()));
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return out;
        }
        driver.park(None).expect("park");
    }
}

/// A future for [`run_all`]; it may borrow from the caller (sockets, shared state).
pub(crate) type Task<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

struct TaskWaker {
    id: usize,
    queue: Arc<Mutex<VecDeque<usize>>>,
    unparker: Unparker,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.queue.lock().unwrap().push_back(self.id);
        self.unparker.unpark();
    }
}

/// Runs many futures to completion on one driver (a one-thread scheduler).
pub(crate) fn run_all(driver: &Driver, futures: Vec<Task<'_>>) {
    let _enter = driver.enter();
    let queue = Arc::new(Mutex::new((0..futures.len()).collect::<VecDeque<_>>()));
    let mut tasks: Vec<Option<Task<'_>>> = futures.into_iter().map(Some).collect();
    let wakers: Vec<Waker> = (0..tasks.len())
        .map(|id| {
            Waker::from(Arc::new(TaskWaker {
                id,
                queue: queue.clone(),
                unparker: driver.unparker(),
            }))
        })
        .collect();
    let mut left = tasks.len();
    let mut polls = 0u32;
    while left > 0 {
        loop {
            let next = queue.lock().unwrap().pop_front();
            let Some(id) = next else { break };
            if let Some(task) = tasks[id].as_mut() {
                if task
                    .as_mut()
                    .poll(&mut Context::from_waker(&wakers[id]))
                    .is_ready()
                {
                    tasks[id] = None;
                    left -= 1;
                }
            }
            // A scheduler tick: reap I/O and timers every 61 polls, as tokio does.
            polls += 1;
            if polls % 61 == 0 {
                driver.poll().expect("poll");
            }
        }
        if left > 0 {
            driver.park(None).expect("park");
        }
    }
}

/// A heap buffer that counts how many times it was dropped.
#[derive(Debug)]
pub(crate) struct CountingBuf {
    pub(crate) data: Vec<u8>,
    pub(crate) drops: Arc<AtomicUsize>,
}

impl CountingBuf {
    pub(crate) fn new(capacity: usize) -> (CountingBuf, Arc<AtomicUsize>) {
        let drops = Arc::new(AtomicUsize::new(0));
        (
            CountingBuf {
                data: Vec::with_capacity(capacity),
                drops: drops.clone(),
            },
            drops,
        )
    }
}

impl Drop for CountingBuf {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: delegates to Vec<u8>, whose heap memory does not move with the struct.
unsafe impl IoBuf for CountingBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.data.stable_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.data.bytes_init()
    }
    fn bytes_total(&self) -> usize {
        self.data.bytes_total()
    }
}

// SAFETY: delegates to Vec<u8>.
unsafe impl IoBufMut for CountingBuf {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.data.stable_mut_ptr()
    }
    unsafe fn set_init(&mut self, len: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.data.set_init(len) }
    }
}

/// A pipe as two owned descriptors (`std::io::pipe` is newer than our MSRV).
pub(crate) fn raw_pipe() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: pipe2 succeeded: both descriptors are new and owned by nobody else.
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    }
}

/// A pipe as two ring files.
pub(crate) fn pipe() -> (ringloop_io::fs::File, ringloop_io::fs::File) {
    let (r, w) = raw_pipe();
    (
        ringloop_io::fs::File::from(r),
        ringloop_io::fs::File::from(w),
    )
}

/// Polls `future` once with the calling task's waker (submitting an op to the current
/// driver), returning what it returned.
pub(crate) async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// Polls both futures until both are done (no spawning: both run inside one task).
pub(crate) async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    let (mut out_a, mut out_b) = (None, None);
    std::future::poll_fn(|cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready((out_a.take().unwrap(), out_b.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Polls every future until all are done; outputs in order. Each wake polls all the
/// unfinished ones, so keep the batches to a few hundred.
pub(crate) async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(outputs.iter_mut().map(|o| o.take().unwrap()).collect())
        }
    })
    .await
}

/// A connected TCP pair `(client, server)` over a fresh listener on `ip` (port 0).
pub(crate) fn tcp_pair(
    driver: &Driver,
    ip: &str,
) -> (ringloop_io::net::TcpStream, ringloop_io::net::TcpStream) {
    use ringloop_io::net::{TcpListener, TcpStream};
    let _enter = driver.enter();
    let listener = TcpListener::bind((ip, 0)).expect("bind a loopback listener");
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = block_on(driver, join(TcpStream::connect(addr), listener.accept()));
    let (server, peer) = accepted.expect("accept");
    let client = client.expect("connect");
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

/// A socket path in the temporary directory, unique in this process, not existing yet.
pub(crate) fn socket_path(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "ringloop-{}-{}-{}.sock",
        name,
        std::process::id(),
        n
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// Sets the soft `RLIMIT_NOFILE` to `soft` (at most the hard limit); returns (old soft, hard).
///
/// The limit is process-wide: only call it from a test binary that has a single test.
pub(crate) fn set_nofile_limit(soft: u64) -> (u64, u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0);
    let old = (limit.rlim_cur, limit.rlim_max);
    limit.rlim_cur = soft.min(limit.rlim_max);
    // SAFETY: `limit` is a valid rlimit; the soft limit does not exceed the hard one.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", std::io::Error::last_os_error());
    old
}

/// Counts this process's open descriptors that are sockets.
pub(crate) fn open_sockets() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}
