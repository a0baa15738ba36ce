//! `IORING_OP_ACCEPT`: take a connection off a listening socket's queue. Cancel-safe: a
//! connection accepted after the future was dropped is kept for the listener's next accept
//! ([`crate::fd::Leftovers`]).

use std::io;
use std::mem;
use std::os::fd::{FromRawFd, OwnedFd};
use std::task::{Context, Poll};

use io_uring::{opcode, squeue, types};
use socket2::SockAddr;

use crate::driver::lifecycle::Completion;
use crate::fd::Item;
use crate::fd::SharedFd;
use crate::op::{Operation, Start};

/// An `accept4(fd, &addr, &len, SOCK_CLOEXEC)`.
#[derive(Debug)]
pub(crate) struct Accept {
    fd: SharedFd,
    /// Boxed: the kernel writes the peer's address and its length here at completion, and
    /// the box's memory does not move with `Accept`.
    addr: Box<PeerAddr>,
}

/// Where the kernel writes the accepted peer's address.
struct PeerAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

impl std::fmt::Debug for PeerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerAddr").field("len", &self.len).finish()
    }
}

impl Accept {
    pub(crate) fn new(fd: SharedFd) -> Accept {
        Accept {
            fd,
            addr: Box::new(PeerAddr {
                // SAFETY: `sockaddr_storage` is a plain C struct; all zeroes is a valid value.
                storage: unsafe { mem::zeroed() },
                len: 0,
            }),
        }
    }
}

impl Operation for Accept {
    type Output = io::Result<(OwnedFd, SockAddr)>;

    unsafe fn entry(&mut self) -> squeue::Entry {
        self.addr.len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let storage: *mut libc::sockaddr_storage = &mut self.addr.storage;
        opcode::Accept::new(types::Fd(self.fd.raw()), storage.cast(), &mut self.addr.len)
            .flags(libc::SOCK_CLOEXEC)
            .build()
    }

    fn complete(self, completion: Completion) -> Self::Output {
        let fd = completion.into_result()?;
        // SAFETY: a successful accept returns a new descriptor that nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        // SAFETY: the kernel wrote a socket address of `len` bytes (at most the storage's
        // size, which it was given) into `storage`.
        let addr = unsafe { SockAddr::new(self.addr.storage, self.addr.len) };
        Ok((fd, addr))
    }

    fn fail(self, error: io::Error) -> Self::Output {
        Err(error)
    }

    fn start(self, cx: &mut Context<'_>) -> Start<Self> {
        match self.fd.leftovers().accept(cx) {
            Poll::Ready(Some(connection)) => Start::Ready(Ok(connection)),
            Poll::Ready(None) => Start::Submit(self),
            Poll::Pending => Start::Wait(self),
        }
    }

    fn dropped_in_flight(&self) {
        self.fd.leftovers().orphan_started();
    }

    fn orphan(self, completion: Completion) {
        // The future is gone: keep the connection for the listener's next accept (it is
        // closed with the listener if none comes). A failed accept took nothing off the
        // queue, so its error is not kept.
        let fd = self.fd.clone();
        let item = self
            .complete(completion)
            .ok()
            .map(|(stream, addr)| Item::Accepted(stream, addr));
        fd.leftovers().orphan_finished(item);
    }
}
