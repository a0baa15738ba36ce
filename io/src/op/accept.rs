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
    /// This accept holds its listener's one place in the kernel
    /// ([`Leftovers::accept`](crate::fd::Leftovers::accept)): it gives it back when it leaves
    /// the kernel, or when it is dropped before it got there (a submission that unwound).
    holds_place: bool,
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
            holds_place: false,
        }
    }

    /// Gives the listener's place in the kernel back, if this accept holds it.
    fn leave(&mut self) {
        if std::mem::take(&mut self.holds_place) {
            self.fd.leftovers().accept_finished();
        }
    }

    /// The accepted descriptor and peer address of a completion.
    fn accepted(&self, completion: Completion) -> io::Result<(OwnedFd, SockAddr)> {
        let fd = completion.into_result()?;
        // SAFETY: a successful accept returns a new descriptor that nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        // SAFETY: the kernel wrote a socket address of `len` bytes (at most the storage's
        // size, which it was given) into `storage`.
        let addr = unsafe { SockAddr::new(self.addr.storage, self.addr.len) };
        Ok((fd, addr))
    }
}

impl Drop for Accept {
    fn drop(&mut self) {
        self.leave();
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

    fn complete(mut self, completion: Completion) -> Self::Output {
        let accepted = self.accepted(completion);
        self.leave();
        accepted
    }

    fn fail(mut self, error: io::Error) -> Self::Output {
        self.leave();
        Err(error)
    }

    fn start(mut self, cx: &mut Context<'_>) -> Start<Self> {
        match self.fd.leftovers().accept(cx) {
            Poll::Ready(Some(connection)) => Start::Ready(Ok(connection)),
            Poll::Ready(None) => {
                self.holds_place = true;
                Start::Submit(self)
            }
            Poll::Pending => Start::Wait(self),
        }
    }

    fn dropped_in_flight(&self) {
        self.fd.leftovers().orphan_started();
    }

    fn orphan(mut self, completion: Completion) {
        // The future is gone: keep the connection for the listener's next accept (it is
        // closed with the listener if none comes). A failed accept took nothing off the
        // queue, so its error is not kept.
        let item = self
            .accepted(completion)
            .ok()
            .map(|(stream, addr)| Item::Accepted(stream, addr));
        self.fd.leftovers().orphan_finished(item);
        self.leave();
    }
}
