//! monoio behind [`Rt`]: one thread, io_uring driver with its timer, `monoio::spawn`; its
//! timers and TCP (`monoio::time`, `monoio::net`) behind [`IoRt`]. Two set-ups: monoio's
//! defaults, and tuned as its users set it up for a server ([`MonoioRt::tuned`]); several
//! tuned ones sharing a port are `monoio_reuseport.rs`'s.
//!
//! monoio has no `yield_now`, so it gets our [`YieldNow`], and no way to spawn from
//! outside the runtime, so it does not implement [`super::RemoteSpawn`].

use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use monoio::io::{AsyncReadRent, AsyncWriteRentExt};

use super::{IoRt, Rt, RuntimeKind};
use crate::net::EchoServer;
use crate::sync::YieldNow;

type Driver = monoio::time::TimeDriver<monoio::IoUringDriver>;

/// A built monoio runtime on the io_uring driver, with its timer enabled.
pub struct MonoioRt {
    rt: monoio::Runtime<Driver>,
    kind: RuntimeKind,
}

impl MonoioRt {
    /// `RuntimeBuilder::<IoUringDriver>::new().enable_timer().build()`: monoio's defaults
    /// (a ring of 1,024 entries, no setup flags).
    pub fn new() -> io::Result<Self> {
        let rt = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .enable_timer()
            .build()?;
        Ok(MonoioRt {
            rt,
            kind: RuntimeKind::Monoio,
        })
    }

    /// monoio as its users tune it for a server: the same, with the ring set up with
    /// `IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER`
    /// (no interrupt of the thread to run completion work, a flag saying some is pending,
    /// and one submitting thread: what a thread-per-core runtime allows).
    pub fn tuned() -> io::Result<Self> {
        Self::tuned_as(RuntimeKind::MonoioTuned)
    }

    /// [`MonoioRt::tuned`], reporting itself as `kind` (monoio-reuseport's runtimes are
    /// tuned ones).
    pub(super) fn tuned_as(kind: RuntimeKind) -> io::Result<Self> {
        let mut ring = io_uring_06::IoUring::builder();
        ring.setup_coop_taskrun()
            .setup_taskrun_flag()
            .setup_single_issuer();
        let rt = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .uring_builder(ring)
            .enable_timer()
            .build()?;
        Ok(MonoioRt { rt, kind })
    }

    /// Which configuration this is.
    pub fn kind(&self) -> RuntimeKind {
        self.kind
    }
}

impl fmt::Debug for MonoioRt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonoioRt").finish_non_exhaustive()
    }
}

impl Rt for MonoioRt {
    fn block_on<F: Future>(&mut self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Dropping the `JoinHandle` detaches the task.
        drop(monoio::spawn(fut));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        YieldNow::new()
    }
}

impl IoRt for MonoioRt {
    async fn sleep(duration: Duration) {
        monoio::time::sleep(duration).await;
    }

    fn spawn_sleeper<F>(duration: Duration, woke: F)
    where
        F: FnOnce(Duration) + Send + 'static,
    {
        drop(monoio::spawn(async move {
            let deadline = Instant::now() + duration;
            monoio::time::sleep(duration).await;
            woke(Instant::now().saturating_duration_since(deadline));
        }));
    }

    fn spawn_echo_server(listener: std::net::TcpListener, server: Arc<EchoServer>) {
        drop(monoio::spawn(async move {
            let error = accept_loop(listener, &server).await.err();
            server.accept_loop_done(error);
        }));
    }
}

async fn accept_loop(listener: std::net::TcpListener, server: &Arc<EchoServer>) -> io::Result<()> {
    let listener = monoio::net::TcpListener::from_std(listener)?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        if !server.accepted() {
            return Ok(());
        }
        let server = server.clone();
        drop(monoio::spawn(async move {
            echo(stream, &server).await;
            server.connection_done();
        }));
    }
}

/// Reads into an owned buffer and writes back what was read, until end of stream or error
/// (the first read counted by [`EchoServer::first_read`]).
async fn echo(mut stream: monoio::net::TcpStream, server: &EchoServer) {
    // As ringloop's: the first read, counted, before the loop.
    let buf = Vec::with_capacity(server.buffer_size());
    let (mut read, mut buf) = server.first_read(stream.read(buf)).await;
    loop {
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => server.handle(&buf),
        }
        let (written, back) = stream.write_all(buf).await;
        if written.is_err() {
            return;
        }
        (read, buf) = stream.read(back).await;
    }
}
