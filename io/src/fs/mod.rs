//! Files (and any other descriptor: pipes, eventfds, character devices) through the ring.

mod file;

pub use file::File;
