//! Owned buffers: the traits an op needs from a buffer it hands to the kernel.
//!
//! An op takes its buffer by value and gives it back with the result, because the kernel
//! may write into it after the future that started the op is gone (see
//! [`crate::driver::lifecycle`]). The traits are `unsafe` because the kernel trusts the
//! pointer and length they return.

mod boxed;
#[cfg(feature = "bytes")]
mod bytes;
mod tail;
mod vec;

pub(crate) use tail::Tail;

/// A buffer the kernel may read from (the source of a write or send).
///
/// Implemented for `Vec<u8>`, `Box<[u8]>`, `&'static [u8]`, `&'static str` (and
/// `bytes::Bytes`/`BytesMut` with the `bytes` feature).
///
/// # Safety
///
/// * [`stable_ptr`](IoBuf::stable_ptr) must point to at least
///   [`bytes_total`](IoBuf::bytes_total) bytes of memory, of which the first
///   [`bytes_init`](IoBuf::bytes_init) are initialised.
/// * That memory must not move or be freed when the buffer value is moved, and must stay
///   valid until the value is dropped (so stack arrays do not qualify; heap buffers do).
pub unsafe trait IoBuf: Send + 'static {
    /// Start of the buffer's memory.
    fn stable_ptr(&self) -> *const u8;
    /// Number of initialised bytes (what a write sends).
    fn bytes_init(&self) -> usize;
    /// Total capacity in bytes.
    fn bytes_total(&self) -> usize;
}

/// A buffer the kernel may write into (the destination of a read or receive).
///
/// A read fills the buffer from its start, up to [`bytes_total`](IoBuf::bytes_total), and
/// then calls [`set_init`](IoBufMut::set_init) with the number of bytes read: a `Vec<u8>`
/// read into ends up with exactly the bytes read as its contents, so give it capacity
/// (`Vec::with_capacity(n)`); a `Box<[u8]>` keeps its length and the count tells how much of
/// it is new.
///
/// # Safety
///
/// As for [`IoBuf`], and [`stable_mut_ptr`](IoBufMut::stable_mut_ptr) must be valid for
/// writes of `bytes_total()` bytes.
pub unsafe trait IoBufMut: IoBuf {
    /// Start of the buffer's memory, for writing.
    fn stable_mut_ptr(&mut self) -> *mut u8;

    /// Records that the first `len` bytes now hold data (the result of a read).
    ///
    /// # Safety
    ///
    /// The first `len` bytes must be initialised, and `len <= bytes_total()`.
    unsafe fn set_init(&mut self, len: usize);
}
