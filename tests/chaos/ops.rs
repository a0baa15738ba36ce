//! [`Chaos`]: how a task runs each of its ops: in the op's scope ([`crate::scope`]), maybe
//! through a hostile waker ([`crate::hostile`]), maybe raced against a short timeout that
//! drops it in flight, with buffers that may be armed to panic in their `Drop`; and what a
//! side does between two ops (block its thread, sleep, or panic as planned).

use crate::hostile::{hostile, HOSTILITIES};
use crate::poison_buf::PoisonBuf;
use crate::rng::Rng;
use crate::scope::{scoped, ScopeId};
use crate::world::{Entry, Role, Stats, World};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How a side's planned panic's message starts.
pub(crate) const PLANNED_PANIC: &str = "chaos: a side panics at step";

/// Runs a task's ops with the chaos the plan's odds call for.
pub(crate) struct Chaos<'w> {
    pub(crate) world: &'w World,
    pub(crate) rng: Rng,
    /// The scope of the op being prepared ([`Chaos::begin`]).
    scope: ScopeId,
    /// Where to say what op the task waits for.
    entry: Option<Arc<Entry>>,
}

impl<'w> Chaos<'w> {
    pub(crate) fn new(world: &'w World, role: &Role, n: u64) -> Chaos<'w> {
        Chaos {
            world,
            rng: world.rng(role, n),
            scope: 0,
            entry: None,
        }
    }

    /// Says what op `entry`'s task waits for, in its entry.
    pub(crate) fn reporting(mut self, entry: &Arc<Entry>) -> Chaos<'w> {
        self.entry = Some(entry.clone());
        self
    }

    /// Starts preparing an op: the buffers made until the next `begin` belong to it.
    pub(crate) fn begin(&mut self) {
        self.scope = self.world.next_scope();
    }

    /// An empty buffer for the op being prepared, maybe armed.
    pub(crate) fn take(&mut self, cap: usize) -> PoisonBuf {
        let armed = self.armed();
        self.world.pool.take(cap, armed)
    }

    /// A buffer holding `bytes` for the op being prepared, maybe armed.
    pub(crate) fn filled(&mut self, bytes: &[u8]) -> PoisonBuf {
        let armed = self.armed();
        self.world.pool.filled(bytes, armed)
    }

    fn armed(&mut self) -> Option<ScopeId> {
        let odds = self.world.plan.odds.armed_buffer;
        self.rng.one_in(odds).then_some(self.scope)
    }

    /// Runs `op` in its scope (see [`Chaos::begin`]), through a hostile waker once in
    /// `odds.hostile` times, raced against a timeout of up to 1.5 ms once in `drop_odds` times
    /// (never for 0); `None` if the timeout dropped it.
    pub(crate) async fn op<T>(
        &mut self,
        op: impl Future<Output = T> + Send,
        drop_odds: usize,
    ) -> Option<T> {
        let scope = self.scope;
        scoped(scope, self.run(op, scope, drop_odds)).await
    }

    async fn run<T>(
        &mut self,
        op: impl Future<Output = T> + Send,
        scope: ScopeId,
        drop_odds: usize,
    ) -> Option<T> {
        let odds = &self.world.plan.odds;
        let stats = &self.world.stats;
        let hostility = self
            .rng
            .one_in(odds.hostile)
            .then(|| *self.rng.pick(&HOSTILITIES));
        let limit = self.rng.one_in(drop_odds).then(|| {
            // Now and then zero: the op is dropped right after its first poll submitted it.
            if self.rng.one_in(4) {
                Duration::ZERO
            } else {
                self.rng.micros(0..1500)
            }
        });
        if hostility.is_some() {
            Stats::bump(&stats.hostile_ops);
        }
        let panics = stats.waker_panics.clone();
        if let Some(entry) = &self.entry {
            *entry.doing.lock().unwrap() =
                format!("op {scope}: hostile {hostility:?}, timeout {limit:?}");
        }
        let timed = match (hostility, limit) {
            (None, None) => return Some(op.await),
            (Some(h), None) => return Some(hostile(op, scope, h, panics).await),
            (None, Some(limit)) => ringloop::timeout(limit, op).await,
            (Some(h), Some(limit)) => hostile(ringloop::timeout(limit, op), scope, h, panics).await,
        };
        match timed {
            Ok(output) => Some(output),
            Err(elapsed) => {
                if let Some(cause) = elapsed.cause() {
                    self.world
                        .failed(format!("a timeout's timer could not be armed: {cause}"));
                }
                None
            }
        }
    }

    /// What a side does between two ops: maybe its planned panic, maybe block the thread,
    /// maybe sleep (the sleep dropped now and then).
    pub(crate) async fn step(&mut self, steps: &AtomicUsize, panics_at: Option<usize>) {
        let step = steps.fetch_add(1, Ordering::SeqCst);
        if panics_at == Some(step) {
            Stats::bump(&self.world.stats.planned_panics);
            panic!("{PLANNED_PANIC} {step}");
        }
        let odds = &self.world.plan.odds;
        if self.rng.one_in(odds.block) {
            Stats::bump(&self.world.stats.blocks);
            std::thread::sleep(self.rng.micros(500..4000));
        }
        if self.rng.one_in(odds.sleep) {
            let duration = self.rng.micros(0..2000);
            self.sleep(duration).await;
        }
    }

    /// Sleeps `duration`, the sleep maybe dropped early or polled by a hostile waker.
    pub(crate) async fn sleep(&mut self, duration: Duration) {
        let drop_odds = self.world.plan.odds.drop_read;
        self.begin();
        match self.op(ringloop::sleep(duration), drop_odds).await {
            None => Stats::bump(&self.world.stats.dropped_sleeps),
            Some(Ok(())) => {}
            Some(Err(e)) => self.world.failed(format!("a sleep failed: {e}")),
        }
    }
}
