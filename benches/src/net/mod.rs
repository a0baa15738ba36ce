//! TCP for the I/O workloads: the load generator every server faces, its bookkeeping, and
//! what the runtimes' echo servers share (their listeners and their lifecycle).

mod accounting;
mod churn;
mod client;
mod listener;
mod mix;
mod open_loop;
mod server;

pub use accounting::{Exchange, Overrun, Tally};
pub use churn::run_churn;
pub use client::{run_client, spawn_client, ClientConfig, ClientReport};
pub use listener::{loopback_listener, EchoListeners, BACKLOG};
pub use mix::RequestMix;
pub use open_loop::run_open_loop;
pub use server::EchoServer;
