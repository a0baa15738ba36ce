//! The errors of [`StreamReader`](super::StreamReader)'s reads: asyncio's
//! `IncompleteReadError` and `LimitOverrunError`, and the I/O errors under them.

use std::error::Error;
use std::fmt;
use std::io;

/// Why `readuntil` or `readexactly` failed.
///
/// Converts into [`io::Error`] (for `?` in functions returning `io::Result`), keeping the
/// typed error inside it: `UnexpectedEof` for [`IncompleteRead`], `InvalidData` for
/// [`LimitOverrun`], reachable with `io::Error::get_ref` and `downcast_ref`.
#[derive(Debug)]
pub enum ReadError {
    /// The stream ended first (asyncio's `IncompleteReadError`).
    IncompleteRead(IncompleteRead),
    /// The separator was not found within the reader's limit (asyncio's
    /// `LimitOverrunError`).
    LimitOverrun(LimitOverrun),
    /// The socket failed (the error of the `recv(2)`), or the arguments were invalid (an
    /// empty separator).
    Io(io::Error),
}

/// The stream ended before the read was complete; the bytes read so far were consumed and
/// are here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteRead {
    /// The bytes the stream held before it ended.
    pub partial: Vec<u8>,
    /// How many bytes `readexactly` wanted; `None` for `readuntil`.
    pub expected: Option<usize>,
}

/// The separator was not found within the limit, or was found past it. Nothing was
/// consumed: the bytes stay in the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitOverrun {
    /// How many bytes at the front of the buffer the search went past: consume them (with
    /// `StreamReader::consume`) to skip the overlong line.
    pub consumed: usize,
    /// The reader's limit.
    pub limit: usize,
}

impl fmt::Display for IncompleteRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.expected {
            Some(n) => write!(
                f,
                "the stream ended after {} of {n} expected bytes",
                self.partial.len()
            ),
            None => write!(
                f,
                "the stream ended after {} bytes, before the separator",
                self.partial.len()
            ),
        }
    }
}

impl fmt::Display for LimitOverrun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no separator within the reader's limit of {} bytes ({} bytes searched)",
            self.limit, self.consumed
        )
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::IncompleteRead(e) => e.fmt(f),
            ReadError::LimitOverrun(e) => e.fmt(f),
            ReadError::Io(e) => e.fmt(f),
        }
    }
}

impl Error for IncompleteRead {}

impl Error for LimitOverrun {}

impl Error for ReadError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            ReadError::IncompleteRead(e) => Some(e),
            ReadError::LimitOverrun(e) => Some(e),
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> io::Error {
        match e {
            ReadError::Io(e) => e,
            ReadError::IncompleteRead(e) => io::Error::new(io::ErrorKind::UnexpectedEof, e),
            ReadError::LimitOverrun(e) => io::Error::new(io::ErrorKind::InvalidData, e),
        }
    }
}

/// A socket error kept so that every later read reports it too (an `io::Error` is not
/// `Clone`).
#[derive(Debug, Clone)]
pub(crate) struct Sticky {
    kind: io::ErrorKind,
    raw: Option<i32>,
    message: String,
}

impl Sticky {
    pub(crate) fn new(e: &io::Error) -> Sticky {
        Sticky {
            kind: e.kind(),
            raw: e.raw_os_error(),
            message: e.to_string(),
        }
    }

    /// The error again: the same OS error if it was one, else the same kind and message.
    pub(crate) fn error(&self) -> io::Error {
        match self.raw {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(self.kind, self.message.clone()),
        }
    }
}
