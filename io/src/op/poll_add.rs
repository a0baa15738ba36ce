//! `IORING_OP_POLL_ADD`: wait until a descriptor is ready, without reading or writing it.

use std::io;

use io_uring::{opcode, squeue, types};

use crate::driver::lifecycle::Completion;
use crate::fd::SharedFd;
use crate::op::Operation;

/// A one-shot `poll(2)` of `fd` for `events` (`POLLIN`, ...); completes with the events that
/// are ready.
///
/// It consumes nothing, so it is cancel-safe, and several polls of one descriptor, on any
/// rings, all complete when it becomes ready: the signal self-pipe ([`crate::signal`]) relies
/// on both.
#[derive(Debug)]
pub(crate) struct PollAdd {
    fd: SharedFd,
    events: u32,
}

impl PollAdd {
    pub(crate) fn new(fd: SharedFd, events: libc::c_short) -> PollAdd {
        PollAdd {
            fd,
            events: events as u16 as u32,
        }
    }
}

impl Operation for PollAdd {
    /// The ready events (`revents`).
    type Output = io::Result<u32>;

    unsafe fn entry(&mut self) -> squeue::Entry {
        // No memory: only the descriptor, which `self.fd` keeps open.
        opcode::PollAdd::new(types::Fd(self.fd.raw()), self.events).build()
    }

    fn complete(self, completion: Completion) -> Self::Output {
        completion.into_result()
    }

    fn fail(self, error: io::Error) -> Self::Output {
        Err(error)
    }
}
