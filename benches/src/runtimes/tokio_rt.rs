//! tokio behind [`Rt`]: `tokio::spawn` from inside, `Runtime::spawn` from outside; its
//! timers and TCP (`tokio::time`, `tokio::net`) behind [`IoRt`].

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{IoRt, RemoteSpawn, Rt, RuntimeKind};
use crate::net::EchoServer;

/// A built tokio runtime (either flavour), with its drivers enabled as an application
/// would have them.
#[derive(Debug)]
pub struct TokioRt {
    rt: tokio::runtime::Runtime,
    kind: RuntimeKind,
}

impl TokioRt {
    /// `multi_thread` with `workers` worker threads, I/O and timers.
    pub fn multi(workers: usize) -> io::Result<Self> {
        Self::multi_with(workers, true)
    }

    /// `current_thread`, with I/O and timers.
    pub fn current() -> io::Result<Self> {
        Self::current_with(true)
    }

    /// `multi_thread` with `workers` worker threads and timers, with the I/O driver if
    /// `io`. Without it, a parked worker sleeps on a condition variable rather than in
    /// `epoll_wait`, and waking it (a spawn from outside, say) is a futex wake rather than
    /// an eventfd write.
    pub fn multi_with(workers: usize, io: bool) -> io::Result<Self> {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers).enable_time();
        if io {
            builder.enable_io();
        }
        Ok(TokioRt {
            rt: builder.build()?,
            kind: RuntimeKind::TokioMulti,
        })
    }

    /// `current_thread` with timers, and the I/O driver if `io` (see [`TokioRt::multi_with`]).
    pub fn current_with(io: bool) -> io::Result<Self> {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_time();
        if io {
            builder.enable_io();
        }
        Ok(TokioRt {
            rt: builder.build()?,
            kind: RuntimeKind::TokioCurrent,
        })
    }

    /// Which flavour this is.
    pub fn kind(&self) -> RuntimeKind {
        self.kind
    }

    /// Threads that run its tasks (1 for `current_thread`).
    pub fn workers(&self) -> usize {
        self.rt.metrics().num_workers()
    }
}

impl Rt for TokioRt {
    fn block_on<F: Future>(&mut self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Dropping the `JoinHandle` detaches the task.
        drop(tokio::spawn(fut));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

impl RemoteSpawn for TokioRt {
    type Join = tokio::task::JoinHandle<()>;
    type JoinError = tokio::task::JoinError;

    fn spawn_remote<F>(&self, fut: F) -> Self::Join
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.rt.spawn(fut)
    }
}

impl IoRt for TokioRt {
    async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn spawn_sleeper<F>(duration: Duration, woke: F)
    where
        F: FnOnce(Duration) + Send + 'static,
    {
        drop(tokio::spawn(async move {
            let deadline = Instant::now() + duration;
            tokio::time::sleep(duration).await;
            woke(Instant::now().saturating_duration_since(deadline));
        }));
    }

    fn spawn_echo_server(listener: std::net::TcpListener, server: Arc<EchoServer>) {
        drop(tokio::spawn(async move {
            let error = accept_loop(listener, &server).await.err();
            server.accept_loop_done(error);
        }));
    }
}

async fn accept_loop(listener: std::net::TcpListener, server: &Arc<EchoServer>) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        if !server.accepted() {
            return Ok(());
        }
        let server = server.clone();
        drop(tokio::spawn(async move {
            echo(stream, &server).await;
            server.connection_done();
        }));
    }
}

/// Reads into the task's buffer and writes back what was read, until end of stream or error
/// (the first read counted by [`EchoServer::first_read`]).
async fn echo(mut stream: tokio::net::TcpStream, server: &EchoServer) {
    // As ringloop's: the first read, counted, before the loop.
    let mut buf = vec![0_u8; server.buffer_size()];
    let mut read = server.first_read(stream.read(&mut buf)).await;
    loop {
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        server.handle(&buf[..n]);
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
        read = stream.read(&mut buf).await;
    }
}
