//! `IORING_OP_SEND`: send the initialised bytes of an owned buffer, from an offset.

use std::io;

use io_uring::{opcode, squeue, types};

use crate::buf::IoBuf;
use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::Operation;

/// A `send(fd, &buf[offset..buf.bytes_init()], MSG_NOSIGNAL)`.
///
/// `MSG_NOSIGNAL`: a send on a connection the peer reset fails with `EPIPE` instead of
/// raising `SIGPIPE`, which would kill a process that has not ignored it.
#[derive(Debug)]
pub(crate) struct SendBuf<B> {
    fd: SharedFd,
    buf: B,
    /// Bytes at the start of `buf` already sent (by earlier ops of a `write_all`).
    offset: usize,
}

impl<B: IoBuf> SendBuf<B> {
    /// A send of `buf[offset..bytes_init]`; `offset` is clamped to `bytes_init`.
    pub(crate) fn new(fd: SharedFd, buf: B, offset: usize) -> SendBuf<B> {
        let offset = offset.min(buf.bytes_init());
        SendBuf { fd, buf, offset }
    }
}

impl<B: IoBuf> Operation for SendBuf<B> {
    type Output = (io::Result<usize>, B);

    unsafe fn entry(&mut self) -> squeue::Entry {
        let len = u32::try_from(self.buf.bytes_init() - self.offset).unwrap_or(u32::MAX);
        // SAFETY: `offset <= bytes_init() <= bytes_total()` (clamped in `new`), so the
        // pointer stays within, or one past the end of, the buffer's allocation.
        let start = unsafe { self.buf.stable_ptr().add(self.offset) };
        opcode::Send::new(types::Fd(self.fd.raw()), start, len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
    }

    fn complete(self, completion: Completion) -> Self::Output {
        (completion.into_result().map(|n| n as usize), self.buf)
    }

    fn fail(self, error: io::Error) -> Self::Output {
        (Err(error), self.buf)
    }
}
