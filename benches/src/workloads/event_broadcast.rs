//! event_broadcast: one event set, many waiters woken.
//!
//! 10,000 tasks, spawned from `block_on`, each wait on one event. Once every waiter has
//! been polled once (so it is registered with the primitive, see [`FirstPoll`]), the
//! `block_on` future sets the event; the figure is the time from the set until the last
//! waiter has run.
//! `ringloop::sync::Event` (`set`) against `tokio::sync::Notify` (`notify_waiters`), see
//! `sync_family.rs`.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use super::sync_family::{
    millis_since, run_families, Family, FAMILIES, TWO_FAMILIES, TWO_FAMILY_METRICS,
};
use super::{thousands, ExtraMetric, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::{FirstPoll, Latch};

/// See the module docs.
#[derive(Debug)]
pub(crate) struct EventBroadcast {
    waiters: usize,
}

impl EventBroadcast {
    pub(crate) fn new(_scale: Scale) -> Self {
        EventBroadcast { waiters: 10_000 }
    }
}

impl Workload for EventBroadcast {
    fn name(&self) -> &'static str {
        "event_broadcast"
    }

    fn description(&self) -> String {
        format!(
            "one event set, {} waiting tasks: time from the set until the last waiter ran \
             (tokio: Notify::notify_waiters; {FAMILIES})",
            thousands(self.waiters)
        )
    }

    fn primitive_families(&self) -> &'static [ExtraMetric] {
        TWO_FAMILY_METRICS
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        run_families(rt, TWO_FAMILIES, |rt, family| match family {
            Family::Ringloop => rt.visit(Job::<ringloop::sync::Event>::new(self.waiters)),
            Family::Tokio => rt.visit(Job::<tokio::sync::Notify>::new(self.waiters)),
            Family::AsyncChannel => Err("not an event".to_owned()),
        })
    }
}

/// A one-shot broadcast: many wait, one sets.
trait Broadcast: Send + Sync + 'static {
    fn new() -> Self;
    /// Registers on its first poll; completes once set.
    fn wait(&self) -> impl Future<Output = ()> + Send + '_;
    fn set(&self);
}

impl Broadcast for ringloop::sync::Event {
    fn new() -> Self {
        ringloop::sync::Event::new()
    }

    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        ringloop::sync::Event::wait(self)
    }

    fn set(&self) {
        ringloop::sync::Event::set(self);
    }
}

impl Broadcast for tokio::sync::Notify {
    fn new() -> Self {
        tokio::sync::Notify::new()
    }

    fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        self.notified()
    }

    fn set(&self) {
        self.notify_waiters();
    }
}

struct Job<E> {
    waiters: usize,
    event: PhantomData<E>,
}

impl<E> Job<E> {
    fn new(waiters: usize) -> Self {
        Job {
            waiters,
            event: PhantomData,
        }
    }
}

impl<E: Broadcast> Visit for Job<E> {
    type Output = Result<f64, String>;

    fn visit<R: Rt>(self, rt: &mut R) -> Result<f64, String> {
        let event = Arc::new(E::new());
        let registered = Arc::new(Latch::new(self.waiters));
        let woke = Arc::new(Latch::new(self.waiters));
        let from_set = rt.block_on(async {
            for _ in 0..self.waiters {
                let (event, registered, woke) = (event.clone(), registered.clone(), woke.clone());
                R::spawn(async move {
                    FirstPoll::new(event.wait(), || registered.count_down()).await;
                    woke.count_down();
                });
            }
            registered.wait().await;
            let set_at = Instant::now();
            event.set();
            woke.wait().await;
            millis_since(set_at)
        });
        Ok(from_set)
    }
}
