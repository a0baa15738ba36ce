//! Runtime-agnostic primitives shared by the workloads.
//!
//! Every runtime under test gets the very same signalling code, built only on std's
//! [`Waker`](std::task::Waker), atomics and `parking_lot`, so no runtime is favoured by
//! its own channel implementation.

mod latch;
pub mod oneshot;
mod yield_now;

pub use latch::Latch;
pub use yield_now::YieldNow;
