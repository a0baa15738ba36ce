//! [`SharedFd`]: a descriptor shared by its owner and the ops in flight on it.
//!
//! Every op holds a clone, so the descriptor stays open (and its number is not reused) until
//! the last op on it has completed, even if the `File` or socket was dropped meanwhile.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;

/// A reference-counted owned descriptor.
#[derive(Debug, Clone)]
pub(crate) struct SharedFd {
    fd: Arc<OwnedFd>,
}

impl SharedFd {
    pub(crate) fn new(fd: OwnedFd) -> SharedFd {
        SharedFd { fd: Arc::new(fd) }
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The descriptor, borrowed for as long as this handle lives.
    pub(crate) fn borrow(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
