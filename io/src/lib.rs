//! ringloop's io_uring driver: one ring per worker thread carrying its sockets, timers and
//! park/unpark. (Built by issue 3.)
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
