//! [`File`]: positioned and sequential reads and writes with owned buffers.

use std::ffi::CString;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::buf::{IoBuf, IoBufMut, Tail};
use crate::fd::SharedFd;
use crate::op::open::Open;
use crate::op::read::Read;
use crate::op::write::Write;
use crate::op::Op;

/// The offset that means "the current file position" (-1 to the kernel).
const CURRENT_POSITION: u64 = u64::MAX;

/// A file, pipe end or other descriptor whose I/O goes through the current thread's ring.
///
/// Every method takes its buffer by value and returns it with the result, because the kernel
/// may still be writing into it when the future is dropped.
///
/// # Examples
///
/// ```
/// use std::os::fd::{FromRawFd, OwnedFd};
/// # fn block_on<F: std::future::Future>(driver: &ringloop_io::Driver, f: F) -> F::Output {
/// #     use std::{sync::Arc, task::{Context, Poll, Waker}};
/// #     let _enter = driver.enter();
/// #     let waker = Waker::from(Arc::new(driver.unparker()));
/// #     let mut f = std::pin::pin!(f);
/// #     loop {
/// #         if let Poll::Ready(v) = f.as_mut().poll(&mut Context::from_waker(&waker)) { return v; }
/// #         driver.park(None).unwrap();
/// #     }
/// # }
/// let driver = ringloop_io::Driver::new(&ringloop_io::DriverConfig::new())?;
/// let mut fds = [0; 2];
/// // SAFETY: `fds` has room for the two descriptors.
/// assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
/// // SAFETY: pipe(2) succeeded; the descriptors are new and owned by nobody else.
/// let (read_end, write_end) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
/// let reader = ringloop_io::fs::File::from(read_end);
/// let writer = ringloop_io::fs::File::from(write_end);
/// block_on(&driver, async {
///     let (n, _) = writer.write(b"hello".to_vec()).await;
///     assert_eq!(n?, 5);
///     let (n, buf) = reader.read(Vec::with_capacity(16)).await;
///     assert_eq!(n?, 5);
///     assert_eq!(buf, b"hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct File {
    fd: SharedFd,
}

impl File {
    /// Opens `path` read-only, through the ring (`IORING_OP_OPENAT`).
    ///
    /// If the future is dropped while the open is in flight and the open then succeeds, the
    /// descriptor is closed: it never leaks.
    pub fn open(path: impl AsRef<Path>) -> impl Future<Output = io::Result<File>> + Send + Unpin {
        Self::open_with(path, libc::O_RDONLY, 0)
    }

    /// Opens `path` for writing, creating it (mode 0o644) or truncating it.
    pub fn create(path: impl AsRef<Path>) -> impl Future<Output = io::Result<File>> + Send + Unpin {
        Self::open_with(path, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644)
    }

    fn open_with(
        path: impl AsRef<Path>,
        flags: i32,
        mode: u32,
    ) -> impl Future<Output = io::Result<File>> + Send + Unpin {
        let path = CString::new(path.as_ref().as_os_str().as_bytes());
        let mut op = path
            .map(|p| Op::new(Open::new(p, flags, mode)))
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "ringloop: path contains a NUL byte",
                )
            });
        std::future::poll_fn(move |cx| match &mut op {
            Ok(op) => std::pin::Pin::new(op).poll(cx).map_ok(File::from),
            Err(e) => std::task::Poll::Ready(Err(std::mem::replace(
                e,
                io::Error::other("ringloop: open future polled after completion"),
            ))),
        })
    }

    /// Reads up to `buf.bytes_total()` bytes at offset `pos` into the start of `buf`.
    ///
    /// Returns the byte count (0 at end of file) and the buffer.
    ///
    /// # Cancel safety
    ///
    /// Dropping it in flight loses nothing: a read at an offset changes nothing, and reading
    /// again gets the same bytes.
    pub fn read_at<B: IoBufMut>(
        &self,
        buf: B,
        pos: u64,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin {
        Op::new(Read::new(self.fd.clone(), buf, pos))
    }

    /// Reads at the file position (for pipes, sockets, character devices, or a file's
    /// cursor), advancing it.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes, bytes the kernel read for it
    /// (which moved the position, or left the pipe) are kept, and the next `read` returns them
    /// first, in order.
    pub fn read<B: IoBufMut>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin {
        Op::new(Read::new(self.fd.clone(), buf, CURRENT_POSITION))
    }

    /// Writes the `buf.bytes_init()` bytes of `buf` at offset `pos`.
    ///
    /// Returns the number of bytes written (possibly fewer) and the buffer.
    pub fn write_at<B: IoBuf>(
        &self,
        buf: B,
        pos: u64,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin {
        Op::new(Write::new(self.fd.clone(), buf, pos))
    }

    /// Writes at the file position, advancing it.
    pub fn write<B: IoBuf>(
        &self,
        buf: B,
    ) -> impl Future<Output = (io::Result<usize>, B)> + Send + Unpin {
        Op::new(Write::new(self.fd.clone(), buf, CURRENT_POSITION))
    }

    /// Writes all the `buf.bytes_init()` bytes of `buf` at the file position, one write after
    /// another (a short write, as a pipe or socket makes, goes on from where it stopped);
    /// returns the buffer. The file position advances past the bytes written.
    ///
    /// # Errors
    ///
    /// The `write(2)` error of the write that failed, and `WriteZero` if a write makes no
    /// progress. How much was written before an error is not reported.
    ///
    /// # Examples
    ///
    /// ```
    /// use ringloop::fs::File;
    ///
    /// let path = std::env::temp_dir().join(format!("ringloop-doc-{}", std::process::id()));
    /// ringloop::run(async {
    ///     let file = File::create(&path).await?;
    ///     let (done, buf) = file.write_all(b"hello, ".to_vec()).await;
    ///     done?;
    ///     assert_eq!(buf, b"hello, ", "the buffer comes back");
    ///     let (done, _) = file.write_all("ring").await;
    ///     done?;
    ///     let (done, _) = file.write_all_at(&b"R"[..], 7).await;
    ///     done?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// assert_eq!(std::fs::read_to_string(&path)?, "hello, Ring");
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_all<B: IoBuf>(&self, buf: B) -> impl Future<Output = (io::Result<()>, B)> + Send {
        self.write_all_from(buf, None)
    }

    /// Writes all the `buf.bytes_init()` bytes of `buf` at offset `pos`, one write after
    /// another (a short write goes on from where it stopped, at the offset after it);
    /// returns the buffer. The file position does not change.
    ///
    /// # Errors
    ///
    /// As [`write_all`](File::write_all), and `InvalidInput` if the bytes would go past
    /// offset `u64::MAX - 1` (no file is that large).
    pub fn write_all_at<B: IoBuf>(
        &self,
        buf: B,
        pos: u64,
    ) -> impl Future<Output = (io::Result<()>, B)> + Send {
        self.write_all_from(buf, Some(pos))
    }

    /// Writes all of `buf` at `pos`, or at the file position for `None`.
    fn write_all_from<B: IoBuf>(
        &self,
        buf: B,
        pos: Option<u64>,
    ) -> impl Future<Output = (io::Result<()>, B)> + Send {
        let fd = self.fd.clone();
        async move {
            let mut tail = Tail::new(buf);
            while tail.bytes_init() > 0 {
                let offset = match pos {
                    None => CURRENT_POSITION,
                    // `CURRENT_POSITION` itself would write at the file position instead.
                    Some(pos) => match u64::try_from(tail.start())
                        .ok()
                        .and_then(|written| pos.checked_add(written))
                        .filter(|&offset| offset != CURRENT_POSITION)
                    {
                        Some(offset) => offset,
                        None => {
                            let e = io::Error::new(
                                io::ErrorKind::InvalidInput,
                                "ringloop: write_all_at past the largest file offset",
                            );
                            return (Err(e), tail.into_inner());
                        }
                    },
                };
                let (result, back) = Op::new(Write::new(fd.clone(), tail, offset)).await;
                tail = back;
                match result {
                    Ok(0) => {
                        let e = io::Error::new(
                            io::ErrorKind::WriteZero,
                            "ringloop: the file accepted no more bytes",
                        );
                        return (Err(e), tail.into_inner());
                    }
                    Ok(n) => tail.advance(n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return (Err(e), tail.into_inner()),
                }
            }
            (Ok(()), tail.into_inner())
        }
    }
}

impl From<OwnedFd> for File {
    fn from(fd: OwnedFd) -> File {
        File {
            fd: SharedFd::new(fd),
        }
    }
}

impl From<std::fs::File> for File {
    fn from(file: std::fs::File) -> File {
        File::from(OwnedFd::from(file))
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.raw()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor is owned by `self.fd` and stays open while `self` lives.
        unsafe { BorrowedFd::borrow_raw(self.fd.raw()) }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("fd", &self.fd.raw()).finish()
    }
}
