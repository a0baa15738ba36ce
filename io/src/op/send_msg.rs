//! `IORING_OP_SENDMSG`: send the initialised bytes of an owned buffer to an address (UDP
//! `send_to`).

use std::io;

use io_uring::{opcode, squeue, types};
use socket2::SockAddr;

use crate::buf::IoBuf;
use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::msg::MsgHeader;
use crate::op::Operation;

/// A `sendmsg(fd, {addr, [buf[..bytes_init]]}, MSG_NOSIGNAL)`.
#[derive(Debug)]
pub(crate) struct SendMsg<B> {
    fd: SharedFd,
    buf: B,
    /// Boxed header, iovec and destination; see [`MsgHeader`].
    msg: Box<MsgHeader>,
}

impl<B: IoBuf> SendMsg<B> {
    pub(crate) fn new(fd: SharedFd, buf: B, addr: SockAddr) -> SendMsg<B> {
        SendMsg {
            fd,
            buf,
            msg: MsgHeader::new(Some(addr)),
        }
    }
}

impl<B: IoBuf> Operation for SendMsg<B> {
    type Output = (io::Result<usize>, B);

    unsafe fn entry(&mut self) -> squeue::Entry {
        // The kernel only reads through this pointer (a send); `iovec` is just not const.
        let data = self.buf.stable_ptr().cast_mut();
        let hdr = self.msg.prepare(data, self.buf.bytes_init());
        opcode::SendMsg::new(types::Fd(self.fd.raw()), hdr)
            .flags(libc::MSG_NOSIGNAL as u32)
            .build()
    }

    fn complete(self, completion: Completion) -> Self::Output {
        (completion.into_result().map(|n| n as usize), self.buf)
    }

    fn fail(self, error: io::Error) -> Self::Output {
        (Err(error), self.buf)
    }
}
