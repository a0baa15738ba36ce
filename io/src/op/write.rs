//! `IORING_OP_WRITE`: write the initialised bytes of an owned buffer.

use std::io;

use io_uring::{opcode, squeue, types};

use crate::buf::IoBuf;
use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::Operation;

/// A write of `buf.bytes_init()` bytes from the start of `buf`.
#[derive(Debug)]
pub(crate) struct Write<B> {
    fd: SharedFd,
    buf: B,
    /// `u64::MAX` (-1) writes at, and advances, the file position.
    offset: u64,
}

impl<B: IoBuf> Write<B> {
    pub(crate) fn new(fd: SharedFd, buf: B, offset: u64) -> Write<B> {
        Write { fd, buf, offset }
    }
}

impl<B: IoBuf> Operation for Write<B> {
    type Output = (io::Result<usize>, B);

    unsafe fn entry(&mut self) -> squeue::Entry {
        let len = u32::try_from(self.buf.bytes_init()).unwrap_or(u32::MAX);
        opcode::Write::new(types::Fd(self.fd.raw()), self.buf.stable_ptr(), len)
            .offset(self.offset)
            .build()
    }

    fn complete(self, completion: Completion) -> Self::Output {
        (completion.into_result().map(|n| n as usize), self.buf)
    }

    fn fail(self, error: io::Error) -> Self::Output {
        (Err(error), self.buf)
    }
}
