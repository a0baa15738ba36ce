//! Which blocking pool belongs to which runtime.
//!
//! `Runtime` and `Handle` have no field for a pool (that needs a change to `runtime.rs`;
//! until then), so pools live in a process-wide registry keyed by the identity of the
//! runtime's scheduler, held weakly so that a dropped runtime's entry can be recognised and
//! purged (an entry is only compared with a live scheduler, whose address cannot be reused).
//!
//! A pool is made on its runtime's first blocking call, with the settings `Builder::build`
//! registered. Its shutdown rides on the runtime's own: the pool spawns one idle *sentinel*
//! task (named `ringloop-blocking-pool`, visible in `all_tasks()`) whose future, dropped
//! when the runtime shuts down, shuts the pool down, waiting up to the configured timeout —
//! inside the runtime's `Drop`, as required.
//!
//! The registry's mutex is a process-wide static, which a loom object cannot be; it guards
//! only this bookkeeping, never a protocol step.

use super::pool::{BlockingConfig, Pool};
use crate::runtime::Handle;
use crate::scheduler::local::LocalShared;
use crate::scheduler::multi_thread;
use crate::scheduler::Scheduler;
use crate::TaskBuilder;
use std::sync::{Arc, Weak};

/// A runtime's scheduler, held weakly.
enum WeakScheduler {
    Multi(Weak<multi_thread::Shared>),
    Single(Weak<LocalShared>),
}

impl WeakScheduler {
    fn new(scheduler: &Scheduler) -> WeakScheduler {
        match scheduler {
            Scheduler::Multi(shared) => WeakScheduler::Multi(Arc::downgrade(shared)),
            Scheduler::Single(local) => WeakScheduler::Single(Arc::downgrade(local)),
        }
    }

    /// True if this is `scheduler` (which is alive, so its address is not reused).
    fn is(&self, scheduler: &Scheduler) -> bool {
        match (self, scheduler) {
            (WeakScheduler::Multi(weak), Scheduler::Multi(arc)) => {
                std::ptr::eq(weak.as_ptr(), Arc::as_ptr(arc))
            }
            (WeakScheduler::Single(weak), Scheduler::Single(arc)) => {
                std::ptr::eq(weak.as_ptr(), Arc::as_ptr(arc))
            }
            _ => false,
        }
    }

    fn is_dead(&self) -> bool {
        match self {
            WeakScheduler::Multi(weak) => weak.strong_count() == 0,
            WeakScheduler::Single(weak) => weak.strong_count() == 0,
        }
    }
}

struct Entry {
    scheduler: WeakScheduler,
    config: BlockingConfig,
    pool: Option<Arc<Pool>>,
}

static REGISTRY: parking_lot::Mutex<Vec<Entry>> = parking_lot::const_mutex(Vec::new());

/// Records the blocking settings of a runtime just built.
pub(crate) fn configure(handle: &Handle, config: BlockingConfig) {
    let mut registry = REGISTRY.lock();
    registry.retain(|entry| !entry.scheduler.is_dead());
    registry.push(Entry {
        scheduler: WeakScheduler::new(handle.scheduler()),
        config,
        pool: None,
    });
}

/// The blocking pool of `handle`'s runtime, made on first use.
pub(crate) fn pool(handle: &Handle) -> Arc<Pool> {
    let (pool, shutdown_timeout) = {
        let mut registry = REGISTRY.lock();
        registry.retain(|entry| !entry.scheduler.is_dead());
        let at = match registry
            .iter()
            .position(|e| e.scheduler.is(handle.scheduler()))
        {
            Some(at) => at,
            None => {
                registry.push(Entry {
                    scheduler: WeakScheduler::new(handle.scheduler()),
                    config: BlockingConfig::DEFAULT,
                    pool: None,
                });
                registry.len() - 1
            }
        };
        let entry = &mut registry[at];
        if let Some(pool) = &entry.pool {
            return pool.clone();
        }
        let pool = Arc::new(Pool::new(entry.config));
        entry.pool = Some(pool.clone());
        (pool, entry.config.shutdown_timeout)
    };
    // Spawned without the registry lock: on a runtime that is shutting down, the sentinel
    // is dropped on arrival, and that shuts the pool down at once.
    let guard = ShutdownOnDrop {
        pool: pool.clone(),
        timeout: shutdown_timeout,
    };
    TaskBuilder::new()
        .name("ringloop-blocking-pool")
        .spawn_on(
            async move {
                let _guard = guard;
                std::future::pending::<()>().await
            },
            handle,
        )
        .detach();
    pool
}

/// Shuts a pool down when the runtime drops the sentinel task's future.
struct ShutdownOnDrop {
    pool: Arc<Pool>,
    timeout: std::time::Duration,
}

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        self.pool.shutdown(self.timeout);
    }
}
