//! The in-process echo run shared by the TCP rows (`tcp_echo_*`, `tcp_latency`,
//! `bulk_transfer_*`, `open_loop_*`, `accept_churn`, `mixed_*`): the runtime under test
//! serves ([`IoRt::serve_echo`], on the listeners of [`IoRt::echo_listeners`]), a load
//! generator ([`crate::net::run_client`], [`crate::net::run_open_loop`] or
//! [`crate::net::run_churn`]) drives it from its own thread.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use parking_lot::Mutex;

use crate::net::{
    run_churn, run_client, run_open_loop, ClientConfig, ClientReport, EchoServer, RequestMix,
};
use crate::runtimes::{IoRt, VisitIo};

/// How often the runtime looks whether the load generator has finished (see
/// [`IoRt::wait_until_set`]); only the end of a run waits on it, never its window.
const CLIENT_CHECK: Duration = Duration::from_millis(2);

/// One run: start the server, run the client to the end of its window, stop the server.
pub(super) struct EchoRun {
    /// Connections, one message in flight on each.
    pub(super) connections: usize,
    /// Bytes per message; also the server's buffer size.
    pub(super) message_size: usize,
    /// Uncounted traffic first.
    pub(super) warm_up: Duration,
    /// The measurement window.
    pub(super) window: Duration,
    /// Whether to keep every round-trip time.
    pub(super) keep_rtts: bool,
    /// Which client drives the server.
    pub(super) client: Client,
    /// `Some`: the server runs each request's handler and the client draws the requests
    /// from this mix (the `mixed_*` rows; see `crate::net::mix`).
    pub(super) mix: Option<RequestMix>,
}

/// The load generator of an [`EchoRun`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Client {
    /// The closed loop ([`crate::net::run_client`]): one message in flight per connection.
    Closed,
    /// The open loop ([`crate::net::run_open_loop`]) at this many requests per second.
    OpenLoop(f64),
    /// Connect, one request, close ([`crate::net::run_churn`]), this many at once.
    Churn,
}

impl EchoRun {
    /// The closed-loop run most rows use: plain echoes, no request mix.
    pub(super) fn closed(
        connections: usize,
        message_size: usize,
        warm_up: Duration,
        window: Duration,
        keep_rtts: bool,
    ) -> Self {
        EchoRun {
            connections,
            message_size,
            warm_up,
            window,
            keep_rtts,
            client: Client::Closed,
            mix: None,
        }
    }
}

impl VisitIo for EchoRun {
    type Output = Result<ClientReport, String>;

    fn visit<R: IoRt>(self, rt: &mut R) -> Result<ClientReport, String> {
        // Every listener is bound before the client connects.
        let listeners = rt
            .echo_listeners()
            .map_err(|e| format!("cannot listen: {e}"))?;
        let addr: SocketAddr = listeners.addr();
        let server = match self.mix {
            Some(_) => EchoServer::with_handlers(self.message_size),
            None => EchoServer::new(self.message_size),
        };
        let config = ClientConfig {
            keep_rtts: self.keep_rtts,
            mix: self.mix,
            ..ClientConfig::new(
                addr,
                self.connections,
                self.message_size,
                self.warm_up,
                self.window,
            )
        };
        let client = self.client;
        let finished = Arc::new(Finished::default());
        let finished_by_client = finished.clone();
        thread::Builder::new()
            .name("bench-load".to_owned())
            .spawn(move || {
                let finished = SetDoneOnDrop(finished_by_client);
                let report = match client {
                    Client::Closed => run_client(&config),
                    Client::OpenLoop(rate) => run_open_loop(&config, rate),
                    Client::Churn => run_churn(&config),
                };
                *finished.0.report.lock() = Some(report);
            })
            .map_err(|e| format!("cannot start the load generator: {e}"))?;
        // Stops the server in every case, so no task outlives the sample.
        let stopped = rt.serve_echo(
            listeners,
            &server,
            R::wait_until_set(&finished.done, CLIENT_CHECK),
        );
        let report = finished
            .report
            .lock()
            .take()
            .ok_or("the load generator panicked")?
            .map_err(|e| format!("load generator: {e}"))?;
        stopped?;
        Ok(report)
    }
}

/// The load generator's result, and a flag set when it has ended (also by a panic).
#[derive(Default)]
struct Finished {
    report: Mutex<Option<io::Result<ClientReport>>>,
    done: AtomicBool,
}

/// Sets [`Finished::done`] when the load generator's thread ends, however it ends.
struct SetDoneOnDrop(Arc<Finished>);

impl Drop for SetDoneOnDrop {
    fn drop(&mut self) {
        self.0.done.store(true, Ordering::Release);
    }
}
