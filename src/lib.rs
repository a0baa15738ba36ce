//! ringloop: an io_uring, work-stealing async runtime with Python asyncio's model.
pub use ringloop_runtime::*;
