//! ringloop behind [`Rt`]: `create_task` from inside, `Runtime::spawn` from outside.

use std::future::Future;
use std::io;

use super::{RemoteSpawn, Rt};

/// A built ringloop runtime (either flavour).
#[derive(Debug)]
pub struct RingloopRt {
    rt: ringloop::Runtime,
}

impl RingloopRt {
    /// The work-stealing runtime with `workers` worker threads.
    pub fn multi(workers: usize) -> io::Result<Self> {
        let rt = ringloop::Runtime::builder()
            .worker_threads(workers)
            .build()?;
        Ok(RingloopRt { rt })
    }

    /// The single-threaded runtime.
    pub fn single() -> io::Result<Self> {
        let rt = ringloop::Runtime::builder().single_threaded().build()?;
        Ok(RingloopRt { rt })
    }
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
