//! `IoBuf`/`IoBufMut` for `Box<[u8]>`.

use crate::buf::{IoBuf, IoBufMut};

// SAFETY: a boxed slice's allocation does not move with the box and is fully initialised.
unsafe impl IoBuf for Box<[u8]> {
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

// SAFETY: the slice is valid for writes of its whole length.
unsafe impl IoBufMut for Box<[u8]> {
    fn stable_mut_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }

    unsafe fn set_init(&mut self, _len: usize) {
        // Always fully initialised; the length does not change.
    }
}
