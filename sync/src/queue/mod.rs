//! asyncio's queues: [`Queue`] (FIFO), [`LifoQueue`] and [`PriorityQueue`].
//!
//! The three types are thin, separately documented faces of one engine,
//! [`core::Core`], which owns the state, the fairness rules and the cancellation protocol (read
//! its module docs first). They differ only in their [`buffer::Buffer`]. The futures
//! ([`Put`], [`Get`], [`Join`]) and the errors are shared.

mod buffer;
mod core;
mod error;
mod fifo;
mod future;
mod lifo;
mod priority;

pub use self::error::{QueueShutDown, TaskDoneError, TryGetError, TryPutError};
pub use self::fifo::Queue;
pub use self::future::{Get, Join, Put};
pub use self::lifo::LifoQueue;
pub use self::priority::PriorityQueue;
