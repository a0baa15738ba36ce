//! `IoBuf`/`IoBufMut` for `bytes::BytesMut` and `IoBuf` for `bytes::Bytes` (feature `bytes`).

use bytes::{Bytes, BytesMut};

use crate::buf::{IoBuf, IoBufMut};

// SAFETY: `Bytes` points to immutable shared memory that does not move with the handle and
// lives while any handle does.
unsafe impl IoBuf for Bytes {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }

    fn bytes_init(&self) -> usize {
        self.len()
    }

    fn bytes_total(&self) -> usize {
        self.len()
    }
}

// SAFETY: a BytesMut's storage does not move with the handle; it is only reallocated by
// methods that take `&mut self`, which nobody calls while the kernel owns the buffer.
unsafe impl IoBuf for BytesMut {
    fn stable_ptr(&self) -> *const u8 {
        self.as_ptr()
    }

    fn bytes_init(&self) -> usize {
        self.len()
    }

    fn bytes_total(&self) -> usize {
        self.capacity()
    }
}

// SAFETY: `as_mut_ptr` is valid for writes of `capacity()` bytes.
unsafe impl IoBufMut for BytesMut {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }

    unsafe fn set_init(&mut self, len: usize) {
        // SAFETY: the caller guarantees `len <= capacity()` and that `len` bytes are
        // initialised.
        unsafe { self.set_len(len) };
    }
}
