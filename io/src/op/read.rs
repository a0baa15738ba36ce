//! `IORING_OP_READ`: read into an owned buffer, at an offset or at the file position.

use std::io;
use std::task::{Context, Poll};

use io_uring::{opcode, squeue, types};

use crate::buf::IoBufMut;
use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::{Operation, Start};

/// A read of up to `buf.bytes_total()` bytes into the start of `buf`.
///
/// A read at the file position is cancel-safe: what it reads after its future was dropped is
/// kept for the next such read on the descriptor ([`crate::fd::Leftovers`]), since reading
/// moved the position (or consumed a pipe's bytes). A read at an offset changes nothing and
/// keeps nothing.
#[derive(Debug)]
pub(crate) struct Read<B> {
    fd: SharedFd,
    buf: B,
    /// `u64::MAX` (-1) reads at, and advances, the file position.
    offset: u64,
}

impl<B: IoBufMut> Read<B> {
    pub(crate) fn new(fd: SharedFd, buf: B, offset: u64) -> Read<B> {
        Read { fd, buf, offset }
    }
}

impl<B: IoBufMut> Operation for Read<B> {
    type Output = (io::Result<usize>, B);

    unsafe fn entry(&mut self) -> squeue::Entry {
        let len = u32::try_from(self.buf.bytes_total()).unwrap_or(u32::MAX);
        opcode::Read::new(types::Fd(self.fd.raw()), self.buf.stable_mut_ptr(), len)
            .offset(self.offset)
            .build()
    }

    fn complete(mut self, completion: Completion) -> Self::Output {
        let result = completion.into_result().map(|n| n as usize);
        if let Ok(n) = result {
            // SAFETY: the kernel wrote `n` bytes at the start of the buffer, `n` being at
            // most the length it was given, `bytes_total()`.
            unsafe { self.buf.set_init(n) };
        }
        (result, self.buf)
    }

    fn fail(self, error: io::Error) -> Self::Output {
        (Err(error), self.buf)
    }

    fn start(mut self, cx: &mut Context<'_>) -> Start<Self> {
        if self.offset != CURRENT_POSITION {
            return Start::Submit(self);
        }
        match self.fd.leftovers().read_into(&mut self.buf, cx) {
            Poll::Ready(Some(result)) => Start::Ready((result, self.buf)),
            Poll::Ready(None) => Start::Submit(self),
            Poll::Pending => Start::Wait(self),
        }
    }

    fn dropped_in_flight(&self) {
        if self.offset == CURRENT_POSITION {
            self.fd.leftovers().orphan_started();
        }
    }

    fn orphan(self, completion: Completion) {
        if self.offset == CURRENT_POSITION {
            let item = crate::fd::received(self.buf, completion, || None);
            self.fd.leftovers().orphan_finished(item);
        }
    }
}

/// The offset that reads at (and advances) the file position.
pub(crate) const CURRENT_POSITION: u64 = u64::MAX;
