//! `IORING_OP_ACCEPT`: take a connection off a listening socket's queue; the op creates a
//! descriptor, so an orphaned completion closes it.

use std::io;
use std::mem;
use std::os::fd::{FromRawFd, OwnedFd};

use io_uring::{opcode, squeue, types};
use socket2::SockAddr;

use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::Operation;

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

    fn orphan(self, completion: Completion) {
        // The future is gone: close the connection the kernel accepted for it.
        drop(self.complete(completion));
    }
}
