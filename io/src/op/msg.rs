//! [`MsgHeader`]: what `IORING_OP_SENDMSG` and `IORING_OP_RECVMSG` lend to the kernel — a
//! `msghdr`, its single `iovec` and a socket address — in one heap block.
//!
//! This is not an opcode but the part [`super::send_msg`] and [`super::recv_msg`] share.
//! The header points into itself (at its `iovec` and address) and at the op's buffer, so it
//! is only ever used boxed: the box's memory does not move when the op does, and the op keeps
//! the box until its completion. `RECVMSG` writes the sender's address, its length and the
//! message flags back into the block at completion.

use std::fmt;
use std::mem;

use socket2::SockAddr;

/// A `msghdr` with one `iovec` and room for any socket address.
pub(crate) struct MsgHeader {
    hdr: libc::msghdr,
    iov: libc::iovec,
    addr: libc::sockaddr_storage,
    /// The address length the kernel is given: the destination's (send), or the storage's
    /// size (receive).
    addr_len: libc::socklen_t,
}

// SAFETY: the raw pointers inside `hdr` and `iov` only point into this same heap block and
// into the buffer of the op that owns it; Rust code never dereferences them (only the kernel
// does, while the op is in flight), so moving the block to another thread is harmless.
unsafe impl Send for MsgHeader {}

impl MsgHeader {
    /// A header for a send to `addr`, or (with `None`) for a receive.
    pub(crate) fn new(addr: Option<SockAddr>) -> Box<MsgHeader> {
        let (addr, addr_len) = match addr {
            Some(addr) => {
                let len = addr.len();
                (addr.as_storage(), len)
            }
            None => (
                // SAFETY: `sockaddr_storage` is a plain C struct; all zeroes is a valid value.
                unsafe { mem::zeroed() },
                mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t,
            ),
        };
        Box::new(MsgHeader {
            // SAFETY: `msghdr` is a plain C struct (pointers, lengths, flags, and padding on
            // some targets); all zeroes is a valid, empty header.
            hdr: unsafe { mem::zeroed() },
            iov: libc::iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            },
            addr,
            addr_len,
        })
    }

    /// Points the header at `len` bytes at `data` and at its own address; returns the header
    /// to give the kernel.
    ///
    /// Called on the boxed header (see the module docs), so the pointers into it stay valid
    /// while the box lives.
    pub(crate) fn prepare(&mut self, data: *mut u8, len: usize) -> *mut libc::msghdr {
        self.iov = libc::iovec {
            iov_base: data.cast(),
            iov_len: len,
        };
        let addr: *mut libc::sockaddr_storage = &mut self.addr;
        self.hdr.msg_name = addr.cast();
        self.hdr.msg_namelen = self.addr_len;
        self.hdr.msg_iov = &mut self.iov;
        self.hdr.msg_iovlen = 1;
        self.hdr.msg_control = std::ptr::null_mut();
        self.hdr.msg_controllen = 0;
        self.hdr.msg_flags = 0;
        &mut self.hdr
    }

    /// The address the kernel wrote (after a completed receive).
    pub(crate) fn received_addr(&self) -> SockAddr {
        let len = self.hdr.msg_namelen.min(self.addr_len);
        // SAFETY: after a `recvmsg` the kernel wrote an address of `msg_namelen` bytes (it
        // may report more if it truncated one longer than the storage, hence the `min`).
        unsafe { SockAddr::new(self.addr, len) }
    }
}

impl fmt::Debug for MsgHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsgHeader")
            .field("addr_len", &self.addr_len)
            .finish_non_exhaustive()
    }
}
