//! [`SharedFd`]: a descriptor shared by its owner and the ops in flight on it, with what
//! dropped reads and accepts left behind on it ([`Leftovers`]).
//!
//! Every op holds a clone, so the descriptor stays open (and its number is not reused) until
//! the last op on it has completed, even if the `File` or socket was dropped meanwhile.

mod leftovers;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

// No weak count (nothing downgrades a `SharedFd`): the descriptor, its leftovers pointer and
// the count fit in 24 bytes, as the descriptor and std's two counts did before leftovers.
use triomphe::Arc;

pub(crate) use leftovers::{received, Item, Leftovers};

/// A reference-counted owned descriptor.
#[derive(Debug, Clone)]
pub(crate) struct SharedFd {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fd: OwnedFd,
    leftovers: Leftovers,
}

impl SharedFd {
    pub(crate) fn new(fd: OwnedFd) -> SharedFd {
        SharedFd {
            inner: Arc::new(Inner {
                fd,
                leftovers: Leftovers::new(),
            }),
        }
    }

    pub(crate) fn raw(&self) -> RawFd {
        self.inner.fd.as_raw_fd()
    }

    /// The descriptor, borrowed for as long as this handle lives.
    pub(crate) fn borrow(&self) -> BorrowedFd<'_> {
        self.inner.fd.as_fd()
    }

    /// What dropped reads and accepts on this descriptor left for the next ones.
    pub(crate) fn leftovers(&self) -> &Leftovers {
        &self.inner.leftovers
    }
}
