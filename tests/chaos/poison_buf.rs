//! [`PoisonBuf`]: an I/O buffer that counts its creation and its drop, and catches the two
//! ways a runtime can mishandle a buffer it holds for the kernel:
//!
//! - **dropped twice, or never**: each buffer has an id, and its pool records whether that id
//!   was dropped; a second drop of the same id is counted (and touches nothing), and at the
//!   end every id must have been dropped exactly once;
//! - **written after its drop** (the kernel finishing a read into freed memory): a dropped
//!   buffer does not free its allocation but fills it with [`POISON`] and parks it in the
//!   pool's quarantine; after the runtime is gone, every quarantined allocation must still
//!   be all poison, and only then is it freed.
//!
//! A buffer can be *armed* to panic in its `Drop` (after doing all of the above) when it is
//! dropped outside the scope of its op ([`crate::scope`]): by the driver releasing the buffer
//! of an op dropped in flight, by a later read taking over a dropped read's bytes, by the
//! close of a descriptor that kept them. Our own code disarms a buffer it gets back before
//! dropping it.

use crate::scope::{in_scope, ScopeId};
use ringloop::{IoBuf, IoBufMut};
use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What a dropped buffer's memory is filled with.
pub(crate) const POISON: u8 = 0xDB;

/// Hands out [`PoisonBuf`]s and keeps the books on them.
#[derive(Clone, Default)]
pub(crate) struct BufPool {
    inner: Arc<PoolInner>,
}

#[derive(Default)]
struct PoolInner {
    /// Indexed by buffer id: whether that buffer was dropped.
    dropped: Mutex<Vec<bool>>,
    double_drops: AtomicUsize,
    drop_panics: AtomicUsize,
    /// The allocations of dropped buffers, poisoned, not freed yet.
    quarantine: Mutex<Vec<Quarantined>>,
}

struct Quarantined {
    id: usize,
    ptr: NonNull<u8>,
    cap: usize,
}

// SAFETY: a quarantined allocation is owned by the pool alone (its buffer is gone); it is
// only read by `check_and_free`, under the quarantine's lock.
unsafe impl Send for Quarantined {}

/// What the pool found at the end; see [`BufPool::check_and_free`].
#[derive(Debug, Default)]
pub(crate) struct BufReport {
    pub(crate) created: usize,
    pub(crate) double_drops: usize,
    pub(crate) drop_panics: usize,
    /// Ids of buffers never dropped.
    pub(crate) leaked: Vec<usize>,
    /// (id, offset) of the first byte found changed in each dropped buffer written after
    /// its drop.
    pub(crate) written_after_drop: Vec<(usize, usize)>,
}

impl BufPool {
    /// An empty buffer with room for `cap` bytes (at least 1); `armed` with the scope of its
    /// op makes its `Drop` panic outside that scope.
    pub(crate) fn take(&self, cap: usize, armed: Option<ScopeId>) -> PoisonBuf {
        let cap = cap.max(1);
        let layout = Layout::array::<u8>(cap).expect("a small buffer");
        // SAFETY: `layout` has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc(layout) }).expect("allocation failed");
        let id = {
            let mut dropped = self.inner.dropped.lock().unwrap();
            dropped.push(false);
            dropped.len() - 1
        };
        PoisonBuf {
            ptr,
            cap,
            len: 0,
            id,
            armed,
            pool: self.inner.clone(),
        }
    }

    /// A buffer holding `bytes` (for a write).
    pub(crate) fn filled(&self, bytes: &[u8], armed: Option<ScopeId>) -> PoisonBuf {
        let mut buf = self.take(bytes.len(), armed);
        // SAFETY: the allocation has room for `cap >= bytes.len()` bytes and is not shared.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.ptr.as_ptr(), bytes.len()) };
        buf.len = bytes.len();
        buf
    }

    /// Checks every buffer's books and every quarantined allocation's poison, then frees the
    /// quarantined allocations. Call once nothing can hold a buffer any more (the runtime is
    /// dropped).
    pub(crate) fn check_and_free(&self) -> BufReport {
        let dropped = self.inner.dropped.lock().unwrap();
        let mut report = BufReport {
            created: dropped.len(),
            double_drops: self.inner.double_drops.load(Ordering::SeqCst),
            drop_panics: self.inner.drop_panics.load(Ordering::SeqCst),
            leaked: (0..dropped.len()).filter(|&id| !dropped[id]).collect(),
            written_after_drop: Vec::new(),
        };
        let mut quarantine = self.inner.quarantine.lock().unwrap();
        for q in quarantine.drain(..) {
            // SAFETY: the allocation is `cap` bytes, initialised (poisoned) at the drop, and
            // owned by the quarantine alone.
            let bytes = unsafe { std::slice::from_raw_parts(q.ptr.as_ptr(), q.cap) };
            if let Some(offset) = bytes.iter().position(|&b| b != POISON) {
                report.written_after_drop.push((q.id, offset));
            }
            // SAFETY: allocated in `take` with this layout, and freed only here, once (an
            // id is quarantined by its first drop only).
            unsafe { dealloc(q.ptr.as_ptr(), Layout::array::<u8>(q.cap).unwrap()) };
        }
        report
    }
}

/// A heap buffer of a [`BufPool`]; see the module docs.
pub(crate) struct PoisonBuf {
    ptr: NonNull<u8>,
    cap: usize,
    len: usize,
    id: usize,
    /// Panic in `Drop` outside this op's scope.
    armed: Option<ScopeId>,
    pool: Arc<PoolInner>,
}

// SAFETY: the buffer owns its allocation outright (no aliasing pointer is kept by anyone but
// the kernel while an op that owns the buffer is in flight); the pool is `Sync`.
unsafe impl Send for PoisonBuf {}

impl PoisonBuf {
    /// The initialised bytes (those read into it, or to be written).
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: the first `len` bytes of the allocation are initialised.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Makes the `Drop` quiet: for a buffer our own code got back and drops.
    pub(crate) fn disarm(mut self) -> PoisonBuf {
        self.armed = None;
        self
    }
}

impl Drop for PoisonBuf {
    fn drop(&mut self) {
        let first = {
            let mut dropped = self.pool.dropped.lock().unwrap();
            !std::mem::replace(&mut dropped[self.id], true)
        };
        if !first {
            // A copy of a buffer already dropped: its memory is the quarantine's; leave it.
            self.pool.double_drops.fetch_add(1, Ordering::SeqCst);
            return;
        }
        // SAFETY: the allocation is `cap` bytes and still ours (this is its first drop).
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr(), POISON, self.cap) };
        self.pool.quarantine.lock().unwrap().push(Quarantined {
            id: self.id,
            ptr: self.ptr,
            cap: self.cap,
        });
        // A panic while unwinding would abort the process: only panic on a normal drop.
        let armed = self.armed.is_some_and(|scope| !in_scope(scope));
        if armed && !std::thread::panicking() {
            self.pool.drop_panics.fetch_add(1, Ordering::SeqCst);
            panic!("chaos: a buffer panics in its Drop (buffer {})", self.id);
        }
    }
}

impl std::fmt::Debug for PoisonBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoisonBuf")
            .field("id", &self.id)
            .field("len", &self.len)
            .field("cap", &self.cap)
            .finish()
    }
}

// SAFETY: `ptr` points to `cap` bytes owned by the buffer, of which the first `len` are
// initialised; the allocation does not move when the buffer is moved, and is not freed (not
// even reused: it is quarantined) when the buffer is dropped.
unsafe impl IoBuf for PoisonBuf {
    fn stable_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    fn bytes_init(&self) -> usize {
        self.len
    }

    fn bytes_total(&self) -> usize {
        self.cap
    }
}

// SAFETY: as above; the allocation is valid for writes of `cap` bytes while the buffer lives.
unsafe impl IoBufMut for PoisonBuf {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    unsafe fn set_init(&mut self, len: usize) {
        assert!(
            len <= self.cap,
            "set_init({len}) beyond the capacity {}",
            self.cap
        );
        self.len = len;
    }
}
