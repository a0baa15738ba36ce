//! ringloop behind [`Rt`]: `create_task` from inside, `Runtime::spawn` from outside; its
//! timers and TCP behind [`IoRt`].

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{IoRt, RemoteSpawn, Rt, RuntimeKind};
use crate::net::EchoServer;

/// A built ringloop runtime (either flavour).
#[derive(Debug)]
pub struct RingloopRt {
    rt: ringloop::Runtime,
    kind: RuntimeKind,
}

impl RingloopRt {
    /// The work-stealing runtime with `workers` worker threads.
    pub fn multi(workers: usize) -> io::Result<Self> {
        let rt = ring_settings(ringloop::Runtime::builder().worker_threads(workers))?.build()?;
        Ok(RingloopRt {
            rt,
            kind: RuntimeKind::RingloopMulti,
        })
    }

    /// The single-threaded runtime.
    pub fn single() -> io::Result<Self> {
        let rt = ring_settings(ringloop::Runtime::builder().single_threaded())?.build()?;
        Ok(RingloopRt {
            rt,
            kind: RuntimeKind::RingloopSingle,
        })
    }

    /// Which flavour this is.
    pub fn kind(&self) -> RuntimeKind {
        self.kind
    }

    /// The runtime itself, e.g. to read [`ringloop::Runtime::metrics`] from another thread
    /// while one runs `block_on`.
    pub fn runtime(&self) -> &ringloop::Runtime {
        &self.rt
    }
}

/// Applies the ring settings named by the environment, for A/B runs of the suite against a
/// non-default setting (server children inherit the environment):
/// `RINGLOOP_BENCH_DEFER_TASKRUN=0|1`, `RINGLOOP_BENCH_COOP_TASKRUN=0|1` (with deferred task
/// work off) and `RINGLOOP_BENCH_BATCH_WAIT_US=<µs>`. Unset: the runtime's defaults, which is
/// what the suite measures.
fn ring_settings(builder: &mut ringloop::Builder) -> io::Result<&mut ringloop::Builder> {
    let setting = |name: &str| match std::env::var(name) {
        Ok(value) => value.parse::<u64>().map(Some).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name} must be a whole number, got {value:?}"),
            )
        }),
        Err(_) => Ok(None),
    };
    if let Some(on) = setting("RINGLOOP_BENCH_DEFER_TASKRUN")? {
        builder.defer_taskrun(on != 0);
    }
    if let Some(on) = setting("RINGLOOP_BENCH_COOP_TASKRUN")? {
        builder.coop_taskrun(on != 0);
    }
    if let Some(micros) = setting("RINGLOOP_BENCH_BATCH_WAIT_US")? {
        builder.batch_wait(Duration::from_micros(micros));
    }
    Ok(builder)
}

impl Rt for RingloopRt {
    fn block_on<F: Future>(&mut self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Dropping the `Task` detaches it.
        drop(ringloop::create_task(fut));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        ringloop::yield_now()
    }
}

impl RemoteSpawn for RingloopRt {
    type Join = ringloop::Task<()>;
    type JoinError = ringloop::TaskError;

    fn spawn_remote<F>(&self, fut: F) -> Self::Join
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.rt.spawn(fut)
    }
}

impl IoRt for RingloopRt {
    async fn sleep(duration: Duration) {
        ringloop::sleep(duration)
            .await
            .expect("ringloop::sleep failed");
    }

    fn spawn_sleeper<F>(duration: Duration, woke: F)
    where
        F: FnOnce(Duration) + Send + 'static,
    {
        drop(ringloop::create_task(async move {
            let deadline = Instant::now() + duration;
            ringloop::sleep(duration)
                .await
                .expect("ringloop::sleep failed");
            woke(Instant::now().saturating_duration_since(deadline));
        }));
    }

    fn spawn_echo_server(listener: std::net::TcpListener, server: Arc<EchoServer>) {
        drop(ringloop::create_task(async move {
            let error = accept_loop(listener, &server).await.err();
            server.accept_loop_done(error);
        }));
    }
}

async fn accept_loop(listener: std::net::TcpListener, server: &Arc<EchoServer>) -> io::Result<()> {
    let listener = ringloop::net::TcpListener::from_std(listener)?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        if !server.accepted() {
            return Ok(());
        }
        let server = server.clone();
        drop(ringloop::create_task(async move {
            echo(stream, &server).await;
            server.connection_done();
        }));
    }
}

/// Reads into an owned buffer and writes back what was read, until end of stream or error
/// (the first read counted by [`EchoServer::first_read`]).
async fn echo(stream: ringloop::net::TcpStream, server: &EchoServer) {
    // The first read, counted, before the loop: no flag lives across the awaits, so the
    // task is as large as a plain echo's (the `connections` workload measures it).
    // Each read fills the buffer from its start and sets its length to the count.
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

impl Drop for RingloopRt {
    /// With `RINGLOOP_BENCH_METRICS` set, prints the runtime's per-worker counters (polls,
    /// steals, parks, hand-overs, ring enters) when a sample's runtime is dropped.
    fn drop(&mut self) {
        if std::env::var_os("RINGLOOP_BENCH_METRICS").is_some() {
            eprintln!("{} metrics: {:?}", self.kind, self.rt.metrics());
        }
    }
}
