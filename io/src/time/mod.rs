//! Timers: [`sleep`], [`sleep_until`], [`interval`], [`timeout`].
//!
//! Timers live in a hierarchical wheel (1 ms slots, exact deadlines kept) owned by the
//! driver of the thread that first polls them; the earliest deadline becomes that driver's
//! park timeout, so a timer costs no SQE and no syscall of its own. A timer future may move
//! to another thread: the owner fires it and its waker crosses threads. Dropping it anywhere
//! marks it cancelled (one lock, one counter increment), without waking the owner, which
//! sweeps dead entries lazily. See `DESIGN.md`, "Timers".
//!
//! Timer futures resolve to `io::Result` because registering needs a driver: polled on a
//! thread without one, or after the driver shut down, they return an error instead of
//! panicking.

pub(crate) mod entry;
mod interval;
mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use interval::{interval, interval_at, Interval};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
