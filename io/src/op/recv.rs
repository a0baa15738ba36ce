//! `IORING_OP_RECV`: receive from a socket into an owned buffer.

use std::io;

use io_uring::{opcode, squeue, types};

use crate::buf::IoBufMut;
use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::Operation;

/// A `recv(fd, buf, buf.bytes_total(), 0)` into the start of `buf`.
#[derive(Debug)]
pub(crate) struct RecvBuf<B> {
    fd: SharedFd,
    buf: B,
}

impl<B: IoBufMut> RecvBuf<B> {
    pub(crate) fn new(fd: SharedFd, buf: B) -> RecvBuf<B> {
        RecvBuf { fd, buf }
    }
}

impl<B: IoBufMut> Operation for RecvBuf<B> {
    type Output = (io::Result<usize>, B);

    unsafe fn entry(&mut self) -> squeue::Entry {
        let len = u32::try_from(self.buf.bytes_total()).unwrap_or(u32::MAX);
        opcode::Recv::new(types::Fd(self.fd.raw()), self.buf.stable_mut_ptr(), len).build()
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
}
