//! Cancel-safe reads and accepts when the user code the runtime runs for a dropped op panics
//! (found by the chaos test, `tests/chaos.rs`):
//!
//! - the buffer of a read dropped in flight panics in its `Drop` when the cancellation
//!   completes: the next read on the socket must still be served (it used to wait forever
//!   for the dropped read, which the descriptor still counted in flight);
//! - two accepts wait for a dropped accept's cancellation, and the first one's waker panics
//!   in `wake`: the second must still be woken (it used to be skipped).

use ringloop::net::TcpListener;
use ringloop::{IoBuf, IoBufMut};
use std::future::Future;
use std::net::TcpStream;
use std::sync::Arc;
use std::task::{Context, Wake, Waker};
use std::time::Duration;

/// A heap buffer whose `Drop` panics.
struct PanicsInDrop(Vec<u8>);

impl Drop for PanicsInDrop {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("a buffer panics in its Drop (on purpose)");
        }
    }
}

// SAFETY: the bytes live in the `Vec`'s heap allocation, which does not move with the buffer
// and is freed only when it is dropped; the first `len()` of its `capacity()` bytes are
// initialised.
unsafe impl IoBuf for PanicsInDrop {
    fn stable_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.0.len()
    }
    fn bytes_total(&self) -> usize {
        self.0.capacity()
    }
}

// SAFETY: as above; the allocation is writable for `capacity()` bytes.
unsafe impl IoBufMut for PanicsInDrop {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, len: usize) {
        // SAFETY: the caller vouches that `len <= capacity()` bytes are initialised.
        unsafe { self.0.set_len(len) };
    }
}

/// Wakes the task, then panics.
struct PanicsInWake(Waker);

impl Wake for PanicsInWake {
    fn wake(self: Arc<Self>) {
        self.0.wake_by_ref();
        panic!("a waker panics in wake (on purpose)");
    }
}

#[ringloop::test]
async fn a_read_after_a_dropped_read_whose_buffer_panics_in_drop_is_served() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().await.unwrap();
    // Nothing to read: the timeout drops the read in flight, and the cancellation's
    // completion releases its buffer, whose Drop panics (the driver logs it).
    let buf = PanicsInDrop(Vec::with_capacity(64));
    let dropped = ringloop::timeout(Duration::from_millis(5), server.read(buf)).await;
    assert!(dropped.is_err(), "nothing was sent, yet the read completed");
    ringloop::sleep(Duration::from_millis(5)).await.unwrap();
    std::io::Write::write_all(&mut client, b"hello").unwrap();
    let next = ringloop::timeout(Duration::from_secs(5), server.read(vec![0u8; 64])).await;
    let (n, buf) = next.expect("the next read waits for the dropped read forever");
    assert_eq!(&buf[..n.unwrap()], b"hello");
}

#[ringloop::test]
async fn a_waiting_accept_is_woken_though_the_waker_before_it_panics() {
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = listener.local_addr().unwrap();
    // An accept dropped in flight: the next accepts wait for its cancellation.
    let dropped = ringloop::timeout(Duration::ZERO, listener.accept()).await;
    assert!(
        dropped.is_err(),
        "nobody connected, yet the accept completed"
    );
    let hostile = ringloop::create_task({
        let listener = listener.clone();
        async move {
            let mut accept = listener.accept();
            std::future::poll_fn(|cx| {
                let waker = Waker::from(Arc::new(PanicsInWake(cx.waker().clone())));
                std::pin::Pin::new(&mut accept).poll(&mut Context::from_waker(&waker))
            })
            .await
            .map(|_| ())
        }
    });
    let plain = ringloop::create_task({
        let listener = listener.clone();
        async move { listener.accept().await.map(|_| ()) }
    });
    ringloop::sleep(Duration::from_millis(20)).await.unwrap();
    let _clients = [
        TcpStream::connect(addr).unwrap(),
        TcpStream::connect(addr).unwrap(),
    ];
    let both = ringloop::timeout(Duration::from_secs(5), async {
        hostile.await.unwrap().unwrap();
        plain.await.unwrap().unwrap();
    })
    .await;
    both.expect("an accept waiting behind the panicking waker was never woken");
}

/// A buffer whose `set_init` panics (as a hostile `IoBufMut` may).
struct PanicsInSetInit(Vec<u8>);

// SAFETY: as for `PanicsInDrop`.
unsafe impl IoBuf for PanicsInSetInit {
    fn stable_ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.0.len()
    }
    fn bytes_total(&self) -> usize {
        self.0.capacity()
    }
}

// SAFETY: as for `PanicsInDrop`.
unsafe impl IoBufMut for PanicsInSetInit {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.0.as_mut_ptr()
    }
    unsafe fn set_init(&mut self, _len: usize) {
        panic!("a buffer panics in set_init (on purpose)");
    }
}

/// A read whose completion arrives after its future was dropped, into a buffer that panics
/// when the driver keeps its bytes: those bytes are lost (the buffer would not take them),
/// but the socket must not count the dropped read in flight forever.
#[ringloop::test]
async fn a_read_after_a_dropped_read_whose_buffer_panics_in_set_init_is_served() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let mut read = server.read(PanicsInSetInit(Vec::with_capacity(64)));
    let pending = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::pin::Pin::new(&mut read).poll(cx).is_pending())
    })
    .await;
    assert!(pending);
    std::io::Write::write_all(&mut client, b"lost").unwrap();
    // Let the completion arrive (reaped, not polled), then drop the read.
    ringloop::sleep(Duration::from_millis(20)).await.unwrap();
    drop(read);
    std::io::Write::write_all(&mut client, b"kept").unwrap();
    let next = ringloop::timeout(Duration::from_secs(5), server.read(vec![0u8; 64])).await;
    let (n, buf) = next.expect("the next read waits for the dropped read forever");
    let got = &buf[..n.unwrap()];
    assert!(got.ends_with(b"kept"), "{got:?}");
}

/// A socket closed while it still holds the bytes of a dropped read, in a buffer whose
/// `Drop` panics: closing the socket must not panic (the panic is caught and logged).
#[ringloop::test]
async fn closing_a_socket_with_a_kept_buffer_that_panics_in_drop_does_not_panic() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let mut read = server.read(PanicsInDrop(Vec::with_capacity(64)));
    let pending = std::future::poll_fn(|cx| {
        std::task::Poll::Ready(std::pin::Pin::new(&mut read).poll(cx).is_pending())
    })
    .await;
    assert!(pending);
    std::io::Write::write_all(&mut client, b"kept").unwrap();
    ringloop::sleep(Duration::from_millis(20)).await.unwrap();
    // The bytes arrived: dropping the read keeps them, in the hostile buffer.
    drop(read);
    let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(server)));
    assert!(closed.is_ok(), "closing the socket panicked");
}
