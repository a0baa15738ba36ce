//! tokio behind [`Rt`]: `tokio::spawn` from inside, `Runtime::spawn` from outside.

use std::future::Future;
use std::io;

use super::{RemoteSpawn, Rt};

/// A built tokio runtime (either flavour), with its drivers enabled as an application
/// would have them.
#[derive(Debug)]
pub struct TokioRt {
    rt: tokio::runtime::Runtime,
}

impl TokioRt {
    /// `multi_thread` with `workers` worker threads.
    pub fn multi(workers: usize) -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?;
        Ok(TokioRt { rt })
    }

    /// `current_thread`.
    pub fn current() -> io::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(TokioRt { rt })
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
