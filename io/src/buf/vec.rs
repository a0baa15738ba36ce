//! `IoBuf`/`IoBufMut` for `Vec<u8>` and `IoBuf` for static slices and strings.

use crate::buf::{IoBuf, IoBufMut};

// SAFETY: a Vec's heap allocation does not move when the Vec is moved; `as_ptr` points to
// `capacity()` bytes of which `len()` are initialised.
unsafe impl IoBuf for Vec<u8> {
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
unsafe impl IoBufMut for Vec<u8> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }

    unsafe fn set_init(&mut self, len: usize) {
        // SAFETY: the caller guarantees `len <= capacity()` and that `len` bytes are
        // initialised.
        unsafe { self.set_len(len) };
    }
}

// SAFETY: static data never moves nor is freed, and is fully initialised.
unsafe impl IoBuf for &'static [u8] {
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

// SAFETY: as for `&'static [u8]`.
unsafe impl IoBuf for &'static str {
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
