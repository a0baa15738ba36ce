//! `IORING_OP_CONNECT`: connect a socket to an address owned by the op.

use std::io;

use io_uring::{opcode, squeue, types};
use socket2::SockAddr;

use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::Operation;

/// A `connect(fd, &addr, len)`.
#[derive(Debug)]
pub(crate) struct Connect {
    fd: SharedFd,
    /// Boxed: the kernel may read the address after `Connect` has moved (until the CQE).
    addr: Box<SockAddr>,
}

impl Connect {
    pub(crate) fn new(fd: SharedFd, addr: SockAddr) -> Connect {
        Connect {
            fd,
            addr: Box::new(addr),
        }
    }
}

impl Operation for Connect {
    type Output = io::Result<()>;

    unsafe fn entry(&mut self) -> squeue::Entry {
        opcode::Connect::new(
            types::Fd(self.fd.raw()),
            self.addr.as_ptr(),
            self.addr.len(),
        )
        .build()
    }

    fn complete(self, completion: Completion) -> Self::Output {
        completion.into_result().map(drop)
    }

    fn fail(self, error: io::Error) -> Self::Output {
        Err(error)
    }
}
