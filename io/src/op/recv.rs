//! `IORING_OP_RECV`: receive from a socket into an owned buffer.

use std::io;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use io_uring::{opcode, squeue, types};

use crate::buf::IoBufMut;
use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::{Operation, Start};

/// A `recv(fd, buf, buf.bytes_total(), 0)` into the start of `buf`, on a stream socket
/// ([`Stream`]) or a datagram socket ([`Datagram`]).
///
/// Cancel-safe: what it receives after its future was dropped is kept for the socket's next
/// receive ([`crate::fd::Leftovers`]): bytes of a stream in order, a datagram whole.
#[derive(Debug)]
pub(crate) struct RecvBuf<B, K = Stream> {
    fd: SharedFd,
    buf: B,
    /// How leftovers are taken: a type, not a field, to keep the future small.
    kind: PhantomData<K>,
}

/// The socket kind a receive is for, which says how it takes leftovers.
pub(crate) trait SocketKind: Send + Sync + 'static {
    /// Leftovers are taken one whole datagram at a time (else as many bytes as fit).
    const DATAGRAM: bool;
}

/// A stream socket (TCP, Unix stream).
#[derive(Debug)]
pub(crate) enum Stream {}

/// A datagram socket (UDP).
#[derive(Debug)]
pub(crate) enum Datagram {}

impl SocketKind for Stream {
    const DATAGRAM: bool = false;
}

impl SocketKind for Datagram {
    const DATAGRAM: bool = true;
}

impl<B: IoBufMut, K: SocketKind> RecvBuf<B, K> {
    pub(crate) fn new(fd: SharedFd, buf: B) -> RecvBuf<B, K> {
        RecvBuf {
            fd,
            buf,
            kind: PhantomData,
        }
    }
}

impl<B: IoBufMut, K: SocketKind> Operation for RecvBuf<B, K> {
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

    fn start(mut self, cx: &mut Context<'_>) -> Start<Self> {
        let leftovers = self.fd.leftovers();
        let served = if K::DATAGRAM {
            leftovers
                .receive_datagram_into(&mut self.buf, cx)
                .map(|served| served.map(|result| result.map(|(n, _)| n)))
        } else {
            leftovers.read_into(&mut self.buf, cx)
        };
        match served {
            Poll::Ready(Some(result)) => Start::Ready((result, self.buf)),
            Poll::Ready(None) => Start::Submit(self),
            Poll::Pending => Start::Wait(self),
        }
    }

    fn dropped_in_flight(&self) {
        self.fd.leftovers().orphan_started();
    }

    fn orphan(self, completion: Completion) {
        let item = crate::fd::received(self.buf, completion, || None);
        self.fd.leftovers().orphan_finished(item);
    }
}
