//! Test harness: a tiny `block_on` and a tiny single-thread executor over a [`Driver`], and
//! a buffer that counts its drops.
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

type Task = Pin<Box<dyn Future<Output = ()>>>;

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
pub(crate) fn run_all(driver: &Driver, futures: Vec<Task>) {
    let _enter = driver.enter();
    let queue = Arc::new(Mutex::new((0..futures.len()).collect::<VecDeque<_>>()));
    let mut tasks: Vec<Option<Task>> = futures.into_iter().map(Some).collect();
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
