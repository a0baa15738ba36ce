//! Runtime-agnostic primitives shared by the workloads.
//!
//! Every runtime under test gets the very same signalling code, built only on std's
//! [`Waker`](std::task::Waker), atomics and `parking_lot`, so no runtime is favoured by
//! its own channel implementation.

mod first_poll;
mod latch;
pub mod oneshot;
mod wait_group;
mod yield_now;

pub use first_poll::FirstPoll;
pub use latch::Latch;
pub use wait_group::{WaitGroup, WaitGroupWait};
pub use yield_now::YieldNow;
