//! The in-process echo run shared by `tcp_echo_*`, `tcp_latency`, `bulk_transfer_*` and
//! `open_loop_*`: the runtime under test serves ([`IoRt::serve_echo`], on the listeners of
//! [`IoRt::echo_listeners`]), the load generator ([`crate::net::run_client`], or
//! [`crate::net::run_open_loop`]) drives it from its own thread.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use parking_lot::Mutex;

use crate::net::{run_client, run_open_loop, ClientConfig, ClientReport, EchoServer};
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
    /// `Some(rate)`: the open-loop client at `rate` requests per second
    /// ([`crate::net::run_open_loop`]) instead of the closed loop.
    pub(super) open_loop_rate: Option<f64>,
}

impl VisitIo for EchoRun {
    type Output = Result<ClientReport, String>;

    fn visit<R: IoRt>(self, rt: &mut R) -> Result<ClientReport, String> {
        // Every listener is bound before the client connects.
        let listeners = rt
            .echo_listeners()
            .map_err(|e| format!("cannot listen: {e}"))?;
        let addr: SocketAddr = listeners.addr();
        let server = EchoServer::new(self.message_size);
        let config = ClientConfig {
            keep_rtts: self.keep_rtts,
            ..ClientConfig::new(
                addr,
                self.connections,
                self.message_size,
                self.warm_up,
                self.window,
            )
        };
        let open_loop_rate = self.open_loop_rate;
        let finished = Arc::new(Finished::default());
        let client = finished.clone();
        thread::Builder::new()
            .name("bench-load".to_owned())
            .spawn(move || {
                let finished = SetDoneOnDrop(client);
                let report = match open_loop_rate {
                    Some(rate) => run_open_loop(&config, rate),
                    None => run_client(&config),
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
