//! TCP ops and the op lifecycle: a read cancelled in flight (its buffer freed exactly once,
//! then reused), a read moved in flight to another thread with its own driver, a socket
//! dropped while its cancelled read is still in the kernel, and driver shutdown with reads
//! and an accept pending.

mod common;

use std::future::Future;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{block_on, driver, tcp_pair, CountingBuf};
use ringloop_io::net::TcpListener;
use ringloop_io::{Driver, IoBuf, IoBufMut};

/// Polls `future` once with a no-op waker (submits its op to the current driver).
fn poll_now<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Parks `driver` until `done` holds, for at most five seconds.
fn park_until(driver: &Driver, what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(5), "never: {what}");
        driver.park(Some(Duration::from_millis(100))).unwrap();
    }
}

/// A buffer from a pool, returned to the pool when dropped; drops are counted.
struct PooledBuf {
    data: Option<Vec<u8>>,
    pool: Arc<Mutex<Vec<Vec<u8>>>>,
    drops: Arc<AtomicUsize>,
}

impl PooledBuf {
    fn take(pool: &Arc<Mutex<Vec<Vec<u8>>>>, drops: &Arc<AtomicUsize>) -> PooledBuf {
        let data = pool.lock().unwrap().pop().expect("a buffer in the pool");
        PooledBuf {
            data: Some(data),
            pool: pool.clone(),
            drops: drops.clone(),
        }
    }

    fn vec(&self) -> &Vec<u8> {
        self.data.as_ref().unwrap()
    }
}

impl Drop for PooledBuf {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        let mut data = self.data.take().unwrap();
        data.clear();
        self.pool.lock().unwrap().push(data);
    }
}

// SAFETY: delegates to the Vec<u8>, whose heap memory does not move with the struct.
unsafe impl IoBuf for PooledBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.vec().stable_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.vec().bytes_init()
    }
    fn bytes_total(&self) -> usize {
        self.vec().bytes_total()
    }
}

// SAFETY: delegates to the Vec<u8>.
unsafe impl IoBufMut for PooledBuf {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.data.as_mut().unwrap().stable_mut_ptr()
    }
    unsafe fn set_init(&mut self, len: usize) {
        // SAFETY: forwarded from the caller.
        unsafe { self.data.as_mut().unwrap().set_init(len) }
    }
}

#[test]
fn cancelled_read_frees_its_buffer_once_and_the_buffer_is_reused() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    let pool = Arc::new(Mutex::new(vec![Vec::with_capacity(64)]));
    let allocation = pool.lock().unwrap()[0].as_ptr();
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let _enter = driver.enter();
        let mut read = server.read(PooledBuf::take(&pool, &drops));
        assert!(poll_now(&mut read).is_pending());
        driver.poll().unwrap(); // the recv is now in the kernel
        drop(read);
        assert_eq!(drops.load(Ordering::SeqCst), 0, "the kernel still owns it");
        assert!(pool.lock().unwrap().is_empty());
    }
    park_until(&driver, "the cancelled read released its buffer", || {
        drops.load(Ordering::SeqCst) > 0
    });
    for _ in 0..3 {
        driver.park(Some(Duration::from_millis(2))).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1, "freed exactly once");

    // The same allocation serves the next read, which gets the data: the cancelled recv
    // consumed nothing.
    let buf = PooledBuf::take(&pool, &drops);
    assert_eq!(buf.vec().as_ptr(), allocation);
    let (n, buf) = block_on(&driver, async {
        let (done, _) = client.write_all(b"after the cancel".to_vec()).await;
        done.unwrap();
        server.read(buf).await
    });
    assert_eq!(n.unwrap(), 16);
    assert_eq!(buf.vec(), b"after the cancel");
    assert_eq!(buf.vec().as_ptr(), allocation);
    drop(buf);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn read_moved_in_flight_to_another_thread_with_its_own_driver_completes_there() {
    let driver_a = driver();
    let (client, server) = tcp_pair(&driver_a, "127.0.0.1");
    let stop = AtomicBool::new(false);
    let (buf, drops) = CountingBuf::new(64);
    thread::scope(|scope| {
        let _enter = driver_a.enter();
        let mut read = server.read(buf);
        assert!(poll_now(&mut read).is_pending());
        driver_a.poll().unwrap(); // in the kernel, on A's ring

        // The task is stolen by worker B, which has its own driver and parks on it.
        let unparker_a = driver_a.unparker();
        let stop = &stop;
        let worker_b = scope.spawn(move || {
            let driver_b = driver();
            let (n, buf) = block_on(&driver_b, read);
            stop.store(true, Ordering::SeqCst);
            unparker_a.unpark();
            (n.unwrap(), buf.data.clone())
        });
        thread::sleep(Duration::from_millis(20));
        // A keeps ticking: it reaps the read's CQE and wakes B through B's waker.
        let (done, _) = block_on(&driver_a, client.write_all(b"moved".to_vec()));
        done.unwrap();
        park_until(&driver_a, "B got its read", || stop.load(Ordering::SeqCst));
        assert_eq!(worker_b.join().unwrap(), (5, b"moved".to_vec()));
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// The local address of the socket open at `fd`, if it is a socket.
fn local_addr_of(fd: i32) -> std::io::Result<std::net::SocketAddr> {
    // SAFETY: the caller knows `fd` is open; the ManuallyDrop never closes it.
    let stream = ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(fd) });
    stream.local_addr()
}

#[test]
fn dropped_socket_closes_only_after_its_cancelled_read_completes() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    let server_addr = server.local_addr().unwrap();
    let raw = server.as_raw_fd();
    let (buf, drops) = CountingBuf::new(64);
    {
        let _enter = driver.enter();
        let mut read = server.read(buf);
        assert!(poll_now(&mut read).is_pending());
        driver.poll().unwrap();
        // The future borrows the socket, so it goes first: its drop cancels the recv.
        drop(read);
        drop(server);
    }
    // Nothing was reaped yet: the cancelled op still holds the descriptor open.
    assert_eq!(
        local_addr_of(raw).unwrap(),
        server_addr,
        "the descriptor must stay open (and unreused) while the kernel may use it"
    );
    park_until(&driver, "the cancelled read completed", || {
        drops.load(Ordering::SeqCst) == 1
    });
    // The last handle went with the completion: the connection is closed.
    let (n, _) = block_on(&driver, client.read(Vec::with_capacity(8)));
    assert_eq!(n.unwrap(), 0, "the peer sees the close");
}

#[test]
fn driver_shutdown_with_reads_and_an_accept_pending() {
    let driver = driver();
    let (client, server) = tcp_pair(&driver, "127.0.0.1");
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (kept_buf, kept_drops) = CountingBuf::new(64);
    let (dropped_buf, dropped_drops) = CountingBuf::new(64);
    let mut kept = server.read(kept_buf);
    let mut dropped = client.read(dropped_buf);
    let mut accept = listener.accept();
    assert!(poll_now(&mut kept).is_pending());
    assert!(poll_now(&mut dropped).is_pending());
    assert!(poll_now(&mut accept).is_pending());
    driver.poll().unwrap();
    drop(dropped);
    assert_eq!(dropped_drops.load(Ordering::SeqCst), 0);

    driver.shutdown();
    assert_eq!(dropped_drops.load(Ordering::SeqCst), 1, "reaped and freed");
    let Poll::Ready((result, buf)) = poll_now(&mut kept) else {
        panic!("a live read completes at shutdown");
    };
    assert_eq!(result.unwrap_err().raw_os_error(), Some(libc::ECANCELED));
    assert_eq!(
        kept_drops.load(Ordering::SeqCst),
        0,
        "handed back, not freed"
    );
    drop(buf);
    assert_eq!(kept_drops.load(Ordering::SeqCst), 1);
    let Poll::Ready(result) = poll_now(&mut accept) else {
        panic!("a live accept completes at shutdown");
    };
    assert_eq!(result.unwrap_err().raw_os_error(), Some(libc::ECANCELED));

    // Ops polled afterwards fail instead of hanging.
    let (result, _) = block_on_shut_down(server.read(Vec::with_capacity(8)));
    assert!(result.unwrap_err().to_string().contains("shut down"));
}

/// Polls a future that must be ready at once (its op fails to submit).
fn block_on_shut_down<F: Future + Unpin>(mut future: F) -> F::Output {
    match poll_now(&mut future) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("an op on a shut-down driver must fail at once"),
    }
}
