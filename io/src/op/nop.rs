//! `IORING_OP_NOP`: a round trip through the ring that does nothing.

use std::io;

use io_uring::{opcode, squeue};

use crate::driver::lifecycle::Completion;
use crate::op::Operation;

/// A no-op.
#[derive(Debug)]
pub(crate) struct Nop;

impl Operation for Nop {
    type Output = io::Result<()>;

    unsafe fn entry(&mut self) -> squeue::Entry {
        opcode::Nop::new().build()
    }

    fn complete(self, completion: Completion) -> io::Result<()> {
        completion.into_result().map(drop)
    }

    fn fail(self, error: io::Error) -> io::Result<()> {
        Err(error)
    }
}
