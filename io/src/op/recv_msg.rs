//! `IORING_OP_RECVMSG`: receive one datagram into an owned buffer, with the sender's address
//! (UDP `recv_from`).

use std::io;
use std::task::{Context, Poll};

use io_uring::{opcode, squeue, types};
use socket2::SockAddr;

use crate::buf::IoBufMut;
use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::msg::MsgHeader;
use crate::op::{Operation, Start};

/// A `recvmsg(fd, {&addr, [buf[..bytes_total]]}, 0)`.
///
/// Cancel-safe: a datagram it receives after its future was dropped is kept, with its
/// sender, for the socket's next receive ([`crate::fd::Leftovers`]).
#[derive(Debug)]
pub(crate) struct RecvMsg<B> {
    fd: SharedFd,
    buf: B,
    /// Boxed header, iovec and address storage; see [`MsgHeader`].
    msg: Box<MsgHeader>,
}

impl<B: IoBufMut> RecvMsg<B> {
    pub(crate) fn new(fd: SharedFd, buf: B) -> RecvMsg<B> {
        RecvMsg {
            fd,
            buf,
            msg: MsgHeader::new(None),
        }
    }
}

impl<B: IoBufMut> Operation for RecvMsg<B> {
    type Output = (io::Result<(usize, SockAddr)>, B);

    unsafe fn entry(&mut self) -> squeue::Entry {
        let hdr = self
            .msg
            .prepare(self.buf.stable_mut_ptr(), self.buf.bytes_total());
        opcode::RecvMsg::new(types::Fd(self.fd.raw()), hdr).build()
    }

    fn complete(mut self, completion: Completion) -> Self::Output {
        let n = match completion.into_result() {
            Ok(n) => n as usize,
            Err(e) => return (Err(e), self.buf),
        };
        // SAFETY: the kernel wrote `n` bytes at the start of the buffer, `n` being at most
        // the length it was given, `bytes_total()`.
        unsafe { self.buf.set_init(n) };
        (Ok((n, self.msg.received_addr())), self.buf)
    }

    fn fail(self, error: io::Error) -> Self::Output {
        (Err(error), self.buf)
    }

    fn start(mut self, cx: &mut Context<'_>) -> Start<Self> {
        match self.fd.leftovers().receive_datagram_into(&mut self.buf, cx) {
            Poll::Ready(Some(result)) => {
                // A datagram kept by a dropped `recv` (a connected socket) has no sender
                // recorded: it came from the peer.
                let result = result.and_then(|(n, from)| match from {
                    Some(from) => Ok((n, from)),
                    None => socket2::SockRef::from(&self.fd.borrow())
                        .peer_addr()
                        .map(|from| (n, from)),
                });
                Start::Ready((result, self.buf))
            }
            Poll::Ready(None) => Start::Submit(self),
            Poll::Pending => Start::Wait(self),
        }
    }

    fn dropped_in_flight(&self) {
        self.fd.leftovers().orphan_started();
    }

    fn orphan(self, completion: Completion) {
        let msg = self.msg;
        let item = crate::fd::received(self.buf, completion, || Some(msg.received_addr()));
        self.fd.leftovers().orphan_finished(item);
    }
}
