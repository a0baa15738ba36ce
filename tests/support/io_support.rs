//! Shared by the `tcp_*`, `udp_*` and `unix_*` tests of the `ringloop` facade. A test binary
//! includes it next to `support` with `#[path = "support/io_support.rs"] mod io_support;`
//! (`support/mod.rs` is shared by every test binary and stays as it is):
//!
//! - [`BufPool`] and [`CountingBuf`]: an owned I/O buffer that counts creations and drops,
//!   catches a double drop with a canary, and gives its allocation back to its pool when
//!   dropped, so a test can see a cancelled read's buffer come back and reuse it;
//! - descriptors: the `RLIMIT_NOFILE` soft limit, the highest open descriptor, the inode of a
//!   socket descriptor and whether that socket is still open anywhere in the process;
//! - payloads and paths: deterministic message bytes, unique Unix socket paths.
#![allow(dead_code)] // each test binary uses a different subset

use ringloop::net::{TcpListener, TcpStream};
use ringloop::{IoBuf, IoBufMut};
use std::ffi::{c_int, c_ulong};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const CANARY: u64 = 0xB0FF_E12E_D00D_CAFE;

/// Hands out [`CountingBuf`]s, counts their drops, and keeps the allocations they free for
/// the next [`BufPool::take`].
#[derive(Clone, Default)]
pub(crate) struct BufPool {
    inner: Arc<PoolInner>,
}

#[derive(Default)]
struct PoolInner {
    created: AtomicUsize,
    dropped: AtomicUsize,
    double_drops: AtomicUsize,
    /// Allocations of dropped buffers, for reuse.
    free: Mutex<Vec<Vec<u8>>>,
}

impl BufPool {
    pub(crate) fn new() -> BufPool {
        BufPool::default()
    }

    /// An empty buffer with room for `capacity` bytes, reusing a freed allocation that is
    /// large enough if there is one (the most recently freed first).
    pub(crate) fn take(&self, capacity: usize) -> CountingBuf {
        let reused = {
            let mut free = self.inner.free.lock().unwrap();
            let found = free.iter().rposition(|v| v.capacity() >= capacity);
            found.map(|i| free.remove(i))
        };
        let mut data = reused.unwrap_or_else(|| Vec::with_capacity(capacity));
        data.clear();
        self.inner.created.fetch_add(1, Ordering::SeqCst);
        CountingBuf {
            data,
            canary: Box::new(CANARY),
            pool: self.inner.clone(),
        }
    }

    pub(crate) fn created(&self) -> usize {
        self.inner.created.load(Ordering::SeqCst)
    }

    pub(crate) fn dropped(&self) -> usize {
        self.inner.dropped.load(Ordering::SeqCst)
    }

    /// Buffers handed out and not dropped yet.
    pub(crate) fn live(&self) -> usize {
        self.created() - self.dropped()
    }

    /// Whether the allocation at `addr` (see [`CountingBuf::addr`]) waits in the pool for
    /// reuse.
    pub(crate) fn holds(&self, addr: usize) -> bool {
        let free = self.inner.free.lock().unwrap();
        free.iter().any(|v| v.as_ptr() as usize == addr)
    }

    /// Every buffer handed out was dropped exactly once.
    #[track_caller]
    pub(crate) fn assert_all_dropped_once(&self) {
        assert_eq!(
            self.inner.double_drops.load(Ordering::SeqCst),
            0,
            "a buffer was dropped twice"
        );
        assert_eq!(
            self.dropped(),
            self.created(),
            "{} of {} buffers were never dropped (leaked)",
            self.live(),
            self.created()
        );
    }
}

/// A heap buffer of a [`BufPool`]: counts its drop there and returns its allocation to it.
///
/// It holds a boxed canary besides its bytes, so that a second drop of the same buffer (the
/// bug this type exists to catch) is a double free the allocator usually reports, and before
/// that a canary found already cleared.
pub(crate) struct CountingBuf {
    data: Vec<u8>,
    canary: Box<u64>,
    pool: Arc<PoolInner>,
}

impl CountingBuf {
    /// The bytes read into the buffer so far.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Appends `bytes` (to fill a buffer before a write; it may reallocate).
    pub(crate) fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
    }

    /// Where the buffer's memory starts, as a number (a `Send` identity of its allocation).
    pub(crate) fn addr(&self) -> usize {
        self.data.as_ptr() as usize
    }
}

impl std::fmt::Debug for CountingBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountingBuf")
            .field("len", &self.data.len())
            .field("capacity", &self.data.capacity())
            .finish()
    }
}

impl Drop for CountingBuf {
    fn drop(&mut self) {
        if *self.canary != CANARY {
            self.pool.double_drops.fetch_add(1, Ordering::SeqCst);
        }
        *self.canary = 0;
        let data = std::mem::take(&mut self.data);
        self.pool.free.lock().unwrap().push(data);
        self.pool.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

// SAFETY: the bytes live in the `Vec`'s heap allocation, which does not move when the
// `CountingBuf` is moved and is freed (or handed to the pool) only when it is dropped;
// `as_ptr` points to `capacity()` bytes of which the first `len()` are initialised. No method
// reallocates the `Vec` while the buffer is lent to an op (the op owns the buffer then).
unsafe impl IoBuf for CountingBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.data.as_ptr()
    }

    fn bytes_init(&self) -> usize {
        self.data.len()
    }

    fn bytes_total(&self) -> usize {
        self.data.capacity()
    }
}

// SAFETY: `as_mut_ptr` is valid for writes of `capacity()` bytes (= `bytes_total()`), for as
// long as the buffer is alive, wherever it is moved.
unsafe impl IoBufMut for CountingBuf {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.data.as_mut_ptr()
    }

    unsafe fn set_init(&mut self, len: usize) {
        debug_assert!(len <= self.data.capacity());
        // SAFETY: the caller guarantees that `len <= bytes_total() = capacity()` and that the
        // first `len` bytes are initialised, which is what `Vec::set_len` requires.
        unsafe { self.data.set_len(len) };
    }
}

/// `struct rlimit` of `<sys/resource.h>` (`rlim_t` is `unsigned long` on Linux).
#[repr(C)]
struct RLimit {
    cur: c_ulong,
    max: c_ulong,
}

// `RLIMIT_NOFILE` is 7 on Linux except on MIPS (5) and SPARC (6).
#[cfg(any(target_arch = "mips", target_arch = "mips64"))]
const RLIMIT_NOFILE: c_int = 5;
#[cfg(any(target_arch = "sparc", target_arch = "sparc64"))]
const RLIMIT_NOFILE: c_int = 6;
#[cfg(not(any(
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "sparc",
    target_arch = "sparc64"
)))]
const RLIMIT_NOFILE: c_int = 7;

/// `EMFILE`: the process's descriptor limit is reached.
pub(crate) const EMFILE: i32 = 24;

extern "C" {
    fn getrlimit(resource: c_int, limit: *mut RLimit) -> c_int;
    fn setrlimit(resource: c_int, limit: *const RLimit) -> c_int;
}

/// The `RLIMIT_NOFILE` limits: (soft, hard).
#[allow(clippy::useless_conversion)] // `c_ulong` is `u64` only on 64-bit targets
pub(crate) fn nofile_limit() -> (u64, u64) {
    let mut limit = RLimit { cur: 0, max: 0 };
    // SAFETY: `limit` is a valid, writable `struct rlimit` for the call to fill.
    let rc = unsafe { getrlimit(RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", std::io::Error::last_os_error());
    (u64::from(limit.cur), u64::from(limit.max))
}

/// Sets the soft `RLIMIT_NOFILE` to `soft` (at most the hard limit); returns the old
/// (soft, hard) limits.
///
/// The limit is process-wide: only call it from a test binary whose tests cannot run at the
/// same time (one test, or tests serialised by a lock).
pub(crate) fn set_nofile_limit(soft: u64) -> (u64, u64) {
    let (old_soft, hard) = nofile_limit();
    let limit = RLimit {
        cur: c_ulong::try_from(soft.min(hard)).unwrap_or(c_ulong::MAX),
        max: c_ulong::try_from(hard).unwrap_or(c_ulong::MAX),
    };
    // SAFETY: `limit` is a valid `struct rlimit` whose soft limit does not exceed the hard
    // one; the call only reads it.
    let rc = unsafe { setrlimit(RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", std::io::Error::last_os_error());
    (old_soft, hard)
}

/// The numbers of this process's open descriptors.
pub(crate) fn open_fds() -> Vec<RawFd> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd is readable")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The highest open descriptor number.
pub(crate) fn highest_fd() -> RawFd {
    open_fds().into_iter().max().unwrap_or(2)
}

/// The inode of the socket open as `fd` (unique to that socket while it is open), or `None`
/// if `fd` is not an open socket.
pub(crate) fn socket_inode(fd: RawFd) -> Option<u64> {
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()?;
    let target = target.to_str()?;
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The inodes of every socket open in this process.
pub(crate) fn open_socket_inodes() -> Vec<u64> {
    open_fds().into_iter().filter_map(socket_inode).collect()
}

/// The number of sockets open in this process.
pub(crate) fn open_sockets() -> usize {
    open_socket_inodes().len()
}

/// `len` bytes that depend on `seed` and on their position, so that a misplaced, lost or
/// repeated chunk shows in a comparison.
pub(crate) fn payload(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A connected TCP pair `(client, server)` through a fresh listener on `ip`, port 0. Call it
/// from inside a runtime.
pub(crate) async fn tcp_pair(ip: &str) -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind((ip, 0)).expect("bind a loopback listener");
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = ringloop::gather!(TcpStream::connect(addr), listener.accept()).await;
    let client = client.expect("connect");
    let (server, peer) = accepted.expect("accept");
    assert_eq!(peer, client.local_addr().unwrap());
    (client, server)
}

/// Waits, sleeping a millisecond between looks, until `condition` holds; panics with `what`
/// after [`crate::support::PATIENCE`].
///
/// Unlike `support::yield_until` it parks the thread between looks, which leaves the CPU to
/// the workers of a 2-core machine, from a task or from a `block_on` future alike.
pub(crate) async fn sleep_until_true(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        ringloop::sleep(std::time::Duration::from_millis(1))
            .await
            .expect("a sleep in a runtime");
    }
}

/// A Unix socket path in the temporary directory, unique in this process, not existing yet.
pub(crate) fn socket_path(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("ringloop-{name}-{}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Removes a socket file when dropped.
pub(crate) struct RemoveOnDrop(pub(crate) PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
