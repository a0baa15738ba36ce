//! `IORING_OP_OPENAT`: open a file; the op creates a descriptor, so an orphaned completion
//! closes it.

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

use io_uring::{opcode, squeue, types};

use crate::driver::lifecycle::Completion;
use crate::op::Operation;

/// An `openat(AT_FDCWD, path, flags, mode)`.
#[derive(Debug)]
pub(crate) struct Open {
    /// Heap-allocated, so its address survives moves of `Open`.
    path: CString,
    flags: i32,
    mode: u32,
}

impl Open {
    pub(crate) fn new(path: CString, flags: i32, mode: u32) -> Open {
        Open { path, flags, mode }
    }
}

impl Operation for Open {
    type Output = io::Result<OwnedFd>;

    unsafe fn entry(&mut self) -> squeue::Entry {
        opcode::OpenAt::new(types::Fd(libc::AT_FDCWD), self.path.as_ptr())
            .flags(self.flags | libc::O_CLOEXEC)
            .mode(self.mode)
            .build()
    }

    fn complete(self, completion: Completion) -> Self::Output {
        let fd = completion.into_result()?;
        // SAFETY: a successful openat returns a new descriptor that nobody else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
    }

    fn fail(self, error: io::Error) -> Self::Output {
        Err(error)
    }

    fn orphan(self, completion: Completion) {
        // The future is gone: close what the kernel opened for it.
        drop(self.complete(completion));
    }
}
