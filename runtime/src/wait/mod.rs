//! Waiting for many futures and bounding waits in time (asyncio's `wait`, `as_completed`,
//! `wait_for` and `timeout`).
//!
//! - `wait_set.rs`: [`wait`] with [`ReturnWhen`] and an optional timeout;
//! - `as_completed.rs`: [`as_completed`], outputs in completion order;
//! - `wait_for.rs`: [`wait_for`], one future with an optional timeout;
//! - `timeout_scope.rs`: [`TimeoutScope`], a movable deadline for a block;
//! - `ready.rs`: the per-child wakers that let `wait` and `as_completed` poll only the
//!   children that were woken.
//!
//! Children are polled by the task that awaits the combinator, as in
//! [`gather`](crate::gather); pass [`Task`](crate::Task)s to run them in parallel.

mod as_completed;
mod ready;
mod timeout_scope;
mod wait_for;
mod wait_set;

pub use as_completed::{as_completed, AsCompleted, Next};
pub use timeout_scope::{timeout_scope, timeout_scope_at, Scoped, TimeoutScope};
pub use wait_for::{wait_for, WaitFor};
pub use wait_set::{wait, Outcome, ReturnWhen, Wait};
