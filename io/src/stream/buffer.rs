//! [`ReadBuffer`]: a [`StreamReader`](super::StreamReader)'s one buffer, which the kernel fills
//! in place while the reader goes on reading the bytes already there.
//!
//! # Layout
//!
//! One heap allocation of `cap` bytes, shared ([`Arc`]) between the buffer and the fill op in
//! flight, if any:
//!
//! ```text
//! 0        start            end                      cap
//! |consumed|  data (unread)  |  free: the kernel's    |
//! ```
//!
//! A fill lends the kernel `[end, cap)` as a [`FillTarget`]; when it completes with `n` bytes,
//! [`ReadBuffer::filled`] moves `end` by `n`. Meanwhile the reader reads `[start, end)`,
//! which the kernel never touches.
//!
//! # Invariants
//!
//! * `start <= end <= cap`, and `[0, end)` is initialised.
//! * While a fill is in flight (the reader holds its op), `end` and the allocation do not
//!   change: [`ReadBuffer::make_room`] is called only with no fill in flight (the reader's
//!   state says so), and only `start` moves (consuming never touches memory).
//! * The allocation is freed when the last of the buffer and the [`FillTarget`] goes. A fill
//!   op dropped in flight (the reader was dropped) hands its target to the driver, which keeps
//!   it, and so the memory, until the kernel is done.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::buf::{IoBuf, IoBufMut};

/// One heap allocation of bytes, freed on drop.
#[derive(Debug)]
struct Memory {
    ptr: NonNull<u8>,
    cap: usize,
}

// SAFETY: `Memory` is a plain owned allocation; who may read or write which part of it, and
// when, is `ReadBuffer`'s protocol (module docs), which never lets two threads touch the same
// bytes at once: the kernel writes only the free part lent to a fill, the reader reads only
// the data part.
unsafe impl Send for Memory {}
// SAFETY: as above; `&Memory` gives access to nothing but the pointer and the length.
unsafe impl Sync for Memory {}

impl Memory {
    /// `cap` bytes, uninitialised (`cap > 0`).
    fn new(cap: usize) -> Memory {
        let layout = Layout::array::<u8>(cap).expect("buffer size overflows isize");
        // SAFETY: `layout` has a non-zero size (`cap > 0`, checked by the callers, which
        // never ask for less than `MIN_CAPACITY`).
        let ptr = unsafe { alloc::alloc(layout) };
        let ptr = NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout));
        Memory { ptr, cap }
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        let layout = Layout::array::<u8>(self.cap).expect("checked in new");
        // SAFETY: allocated in `new` with this layout, and freed only here, once.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), layout) };
    }
}

/// The smallest allocation, and the size a buffer starts with.
pub(crate) const MIN_CAPACITY: usize = 8 * 1024;

/// An emptied buffer larger than this goes back to [`MIN_CAPACITY`], so that one large
/// message does not keep a connection's memory high for the rest of its life.
const SHRINK_ABOVE: usize = 64 * 1024;

/// The reader's buffer; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct ReadBuffer {
    /// `None` until the first fill: a connection that never reads allocates nothing.
    memory: Option<Arc<Memory>>,
    start: usize,
    end: usize,
}

impl ReadBuffer {
    /// The unread bytes.
    pub(crate) fn data(&self) -> &[u8] {
        match &self.memory {
            // SAFETY: `[start, end)` lies within the allocation, is initialised, and the
            // kernel never writes it (module invariants); the slice borrows `self`, during
            // which `start`/`end` and the allocation cannot change.
            Some(memory) => unsafe {
                std::slice::from_raw_parts(memory.ptr.as_ptr().add(self.start), self.len())
            },
            None => &[],
        }
    }

    /// Number of unread bytes.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    /// The allocation's size (0 before the first fill).
    pub(crate) fn capacity(&self) -> usize {
        self.memory.as_ref().map_or(0, |m| m.cap)
    }

    /// Drops the first `n` unread bytes (all of them if `n` is larger).
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            // Nothing to move: the next fill starts at the front.
            self.start = 0;
            self.end = 0;
        }
    }

    /// Takes the first `n` unread bytes (at most all of them) out as a `Vec`.
    pub(crate) fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.data()[..n].to_vec();
        self.consume(n);
        out
    }

    /// Makes at least `free` bytes free after the data, moving the data to the front or
    /// moving to a larger allocation, and returns the fill target for the free part.
    ///
    /// Called only when no fill is in flight (the caller's state says so).
    pub(crate) fn make_room(&mut self, free: usize) -> FillTarget {
        let free = free.max(1);
        let len = self.len();
        let cap = self.capacity();
        let needed = len.checked_add(free).expect("buffer size overflows usize");
        let shrink = len == 0 && cap > SHRINK_ABOVE && free <= MIN_CAPACITY;
        let reuse = self.memory.as_ref().filter(|_| !shrink && cap >= needed);
        if let Some(memory) = reuse {
            if cap - self.end < free {
                // Room enough once the data moves to the front.
                // SAFETY: both ranges lie within the allocation (`end <= cap`); `copy` allows
                // overlap; no fill is in flight, so nothing else touches the memory.
                unsafe {
                    std::ptr::copy(
                        memory.ptr.as_ptr().add(self.start),
                        memory.ptr.as_ptr(),
                        len,
                    );
                }
                self.start = 0;
                self.end = len;
            }
        } else {
            // Doubling when data must be kept, so a message arriving in pieces is copied a
            // logarithmic number of times.
            let grown = if len == 0 { 0 } else { cap.saturating_mul(2) };
            let memory = Memory::new(needed.max(MIN_CAPACITY).max(grown));
            if len > 0 {
                // SAFETY: the old data range is initialised and within the old allocation;
                // the new one has room for `needed >= len` bytes; they are two allocations,
                // so they do not overlap.
                unsafe {
                    std::ptr::copy_nonoverlapping(self.data().as_ptr(), memory.ptr.as_ptr(), len);
                }
            }
            self.memory = Some(Arc::new(memory));
            self.start = 0;
            self.end = len;
        }
        let memory = Arc::clone(self.memory.as_ref().expect("allocated above"));
        FillTarget {
            offset: self.end,
            len: memory.cap - self.end,
            init: 0,
            memory,
        }
    }

    /// A fill through `target` (made by the last `make_room`) completed with `n` bytes.
    pub(crate) fn filled(&mut self, target: &FillTarget) {
        debug_assert_eq!(target.offset, self.end, "the buffer moved under a fill");
        self.end += target.init.min(target.len);
    }
}

/// The free part of a [`ReadBuffer`], lent to a receive op.
#[derive(Debug)]
pub(crate) struct FillTarget {
    memory: Arc<Memory>,
    offset: usize,
    len: usize,
    /// Bytes the receive wrote (at most `len`).
    init: usize,
}

// SAFETY: the memory is a heap allocation kept alive by the `Arc` this value holds, so it
// does not move or go away while the value lives; `offset + len <= cap`, so the pointer and
// length stay within it. `[offset, offset + init)` is initialised once `set_init` recorded it.
// Nobody else writes `[offset, offset + len)` while the target is lent (module invariants).
unsafe impl IoBuf for FillTarget {
    fn stable_ptr(&self) -> *const u8 {
        self.memory.ptr.as_ptr().wrapping_add(self.offset)
    }

    fn bytes_init(&self) -> usize {
        self.init
    }

    fn bytes_total(&self) -> usize {
        self.len
    }
}

// SAFETY: as for `IoBuf`; the free part is exclusively the target's while it is lent.
unsafe impl IoBufMut for FillTarget {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.memory.ptr.as_ptr().wrapping_add(self.offset)
    }

    unsafe fn set_init(&mut self, len: usize) {
        self.init = len.min(self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `bytes` through a target, as the kernel would.
    fn fill(buf: &mut ReadBuffer, free: usize, bytes: &[u8]) {
        let mut target = buf.make_room(free);
        assert!(target.bytes_total() >= bytes.len());
        // SAFETY: the target lends at least `bytes.len()` writable bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), target.stable_mut_ptr(), bytes.len());
            target.set_init(bytes.len());
        }
        buf.filled(&target);
    }

    #[test]
    fn data_survives_moving_to_the_front_and_growing() {
        let mut buf = ReadBuffer::default();
        assert_eq!(buf.capacity(), 0);
        fill(&mut buf, 1, b"hello world");
        assert_eq!(buf.capacity(), MIN_CAPACITY);
        buf.consume(6);
        assert_eq!(buf.data(), b"world");
        // Room at the end: no move.
        fill(&mut buf, 10, b"!");
        assert_eq!(buf.data(), b"world!");
        // More than the free part: the data moves to the front.
        fill(&mut buf, MIN_CAPACITY - 6, b"?");
        assert_eq!(buf.data(), b"world!?");
        assert_eq!(buf.capacity(), MIN_CAPACITY);
        // More than the allocation: a larger one, data kept.
        let big = vec![7u8; MIN_CAPACITY];
        fill(&mut buf, MIN_CAPACITY, &big);
        assert_eq!(&buf.data()[..7], b"world!?");
        assert_eq!(buf.len(), 7 + MIN_CAPACITY);
        assert_eq!(buf.take(7), b"world!?");
        assert_eq!(buf.len(), MIN_CAPACITY);
    }

    #[test]
    fn an_emptied_large_buffer_shrinks() {
        let mut buf = ReadBuffer::default();
        fill(&mut buf, 1 << 20, &[1u8; 100]);
        assert!(buf.capacity() >= 1 << 20);
        buf.consume(100);
        fill(&mut buf, 1, b"x");
        assert_eq!(buf.capacity(), MIN_CAPACITY);
        assert_eq!(buf.data(), b"x");
    }

    #[test]
    fn a_target_keeps_the_memory_after_the_buffer_is_gone() {
        let mut buf = ReadBuffer::default();
        let mut target = buf.make_room(16);
        drop(buf);
        // SAFETY: the target lends at least 16 writable bytes, alive through its `Arc`.
        unsafe {
            std::ptr::write_bytes(target.stable_mut_ptr(), 9, 16);
            target.set_init(16);
        }
        assert_eq!(target.bytes_init(), 16);
    }
}
