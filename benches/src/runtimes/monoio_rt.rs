//! monoio behind [`Rt`]: one thread, io_uring driver, `monoio::spawn`.
//!
//! monoio has no `yield_now`, so it gets our [`YieldNow`], and no way to spawn from
//! outside the runtime, so it does not implement [`super::RemoteSpawn`].

use std::fmt;
use std::future::Future;
use std::io;

use super::Rt;
use crate::sync::YieldNow;

/// A built monoio runtime on the io_uring driver.
pub struct MonoioRt {
    rt: monoio::Runtime<monoio::IoUringDriver>,
}

impl MonoioRt {
    /// `RuntimeBuilder::<IoUringDriver>::new().build()`.
    pub fn new() -> io::Result<Self> {
        let rt = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new().build()?;
        Ok(MonoioRt { rt })
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
