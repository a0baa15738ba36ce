//! The loop's low-level API (asyncio's `loop.call_soon`, `call_soon_threadsafe`,
//! `call_later`, `call_at` and `create_future`), as methods of [`Handle`](crate::Handle),
//! the running loop (`Handle::current()` is asyncio's `get_running_loop()`).
//!
//! - `call.rs`: the `call_*` methods and [`CallHandle`];
//! - `future_cell.rs`: [`FutureCell`], completed by hand, and [`create_future`];
//! - `future_error.rs`: [`FutureError`] and [`InvalidStateError`].
//!
//! `run_in_executor` lives with the blocking pool, in `blocking/`.

mod call;
mod future_cell;
mod future_error;

pub use call::CallHandle;
pub use future_cell::{create_future, FutureCell};
pub use future_error::{FutureError, InvalidStateError};
