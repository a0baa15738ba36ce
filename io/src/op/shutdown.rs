//! `IORING_OP_SHUTDOWN`: shut down one or both directions of a connection.

use std::io;

use io_uring::{opcode, squeue, types};

use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::Operation;

/// A `shutdown(fd, how)`, `how` being `SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`.
#[derive(Debug)]
pub(crate) struct Shutdown {
    fd: SharedFd,
    how: i32,
}

impl Shutdown {
    pub(crate) fn new(fd: SharedFd, how: std::net::Shutdown) -> Shutdown {
        let how = match how {
            std::net::Shutdown::Read => libc::SHUT_RD,
            std::net::Shutdown::Write => libc::SHUT_WR,
            std::net::Shutdown::Both => libc::SHUT_RDWR,
        };
        Shutdown { fd, how }
    }
}

impl Operation for Shutdown {
    type Output = io::Result<()>;

    unsafe fn entry(&mut self) -> squeue::Entry {
        opcode::Shutdown::new(types::Fd(self.fd.raw()), self.how).build()
    }

    fn complete(self, completion: Completion) -> Self::Output {
        completion.into_result().map(drop)
    }

    fn fail(self, error: io::Error) -> Self::Output {
        Err(error)
    }
}
