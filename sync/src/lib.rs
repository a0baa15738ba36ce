//! ringloop's synchronization primitives, usable from any runtime or none. (Built by issue 4.)
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
