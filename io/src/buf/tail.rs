//! [`Tail`]: the part of a buffer after the bytes already written, for the op that goes on
//! where a short write stopped (`File::write_all`).

use crate::buf::IoBuf;

/// `buf` without its first `start` initialised bytes, as a buffer of its own: the kernel
/// sees `buf[start..bytes_init]`. [`into_inner`](Tail::into_inner) gives `buf` back whole.
#[derive(Debug)]
pub(crate) struct Tail<B> {
    buf: B,
    /// At most `buf.bytes_init()`.
    start: usize,
}

impl<B: IoBuf> Tail<B> {
    /// All of `buf`.
    pub(crate) fn new(buf: B) -> Tail<B> {
        Tail { buf, start: 0 }
    }

    /// How many bytes of `buf` the tail no longer has.
    pub(crate) fn start(&self) -> usize {
        self.start
    }

    /// Drops `n` more bytes from the front (those a write took), up to all of them.
    pub(crate) fn advance(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.buf.bytes_init());
    }

    /// The whole buffer.
    pub(crate) fn into_inner(self) -> B {
        self.buf
    }
}

// SAFETY: the memory is `buf`'s, which is stable and lives as long as `buf` (`B: IoBuf`);
// `start <= buf.bytes_init() <= buf.bytes_total()`, so the pointer stays within, or one past
// the end of, that memory, and the first `bytes_init()` of the `bytes_total()` bytes after it
// are initialised. The subtractions saturate, so nothing here can panic.
unsafe impl<B: IoBuf> IoBuf for Tail<B> {
    fn stable_ptr(&self) -> *const u8 {
        self.buf.stable_ptr().wrapping_add(self.start)
    }

    fn bytes_init(&self) -> usize {
        self.buf.bytes_init().saturating_sub(self.start)
    }

    fn bytes_total(&self) -> usize {
        self.buf.bytes_total().saturating_sub(self.start)
    }
}
