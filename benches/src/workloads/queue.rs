//! queue_bounded and queue_unbounded: producers and consumers on all workers.
//!
//! 4 producer tasks each put 25,000 numbers into one queue; 4 consumer tasks take them
//! until the queue is closed and add them up (checked). The bounded queue holds 64 items,
//! so producers wait for room. Three queues (see `sync_family.rs`):
//!
//! - `ringloop::sync::Queue` (multi-consumer; closed with `shutdown` once the producers are
//!   done): every runtime's main figure.
//! - `tokio::sync::mpsc` (`channel(64)` or `unbounded_channel`), closed when the last sender
//!   is dropped; it has one receiver, so the consumers share it behind a
//!   `tokio::sync::Mutex`, the usual tokio idiom for a work queue.
//! - `async-channel` (`bounded(64)` or `unbounded()`), a multi-consumer channel: each
//!   consumer holds a receiver clone, as `ringloop::sync::Queue`'s consumers share it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::sync_family::{
    millis_since, run_families, Family, FAMILIES, QUEUE_FAMILIES, QUEUE_FAMILY_METRICS,
};
use super::{thousands, ExtraMetric, Phase, Sample, Scale, Workload};
use crate::runtimes::{AnyRuntime, Rt, Visit};
use crate::sync::Latch;

/// A queue of 64 items.
pub(super) const BOUNDED: Option<usize> = Some(64);
/// A queue without bound.
pub(super) const UNBOUNDED: Option<usize> = None;

const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct QueueWorkload {
    capacity: Option<usize>,
    items_per_producer: u64,
}

impl QueueWorkload {
    pub(crate) fn new(_scale: Scale, capacity: Option<usize>) -> Self {
        QueueWorkload {
            capacity,
            items_per_producer: 25_000,
        }
    }
}

impl Workload for QueueWorkload {
    fn name(&self) -> &'static str {
        match self.capacity {
            Some(_) => "queue_bounded",
            None => "queue_unbounded",
        }
    }

    fn description(&self) -> String {
        let queue = match self.capacity {
            Some(n) => format!("a queue of {n}"),
            None => "an unbounded queue".to_owned(),
        };
        format!(
            "{PRODUCERS} producers x {} items through {queue} to {CONSUMERS} consumers \
             (tokio::sync: mpsc, the consumers sharing the receiver behind a tokio Mutex; \
             async-channel: each consumer a receiver clone; {FAMILIES})",
            thousands(self.items_per_producer as usize)
        )
    }

    fn primitive_families(&self) -> &'static [ExtraMetric] {
        QUEUE_FAMILY_METRICS
    }

    fn run(&self, rt: &mut AnyRuntime, _phase: Phase) -> Result<Sample, String> {
        run_families(rt, QUEUE_FAMILIES, |rt, family| {
            rt.visit(Job {
                family,
                capacity: self.capacity,
                items: self.items_per_producer,
            })
        })
    }
}

struct Job {
    family: Family,
    capacity: Option<usize>,
    items: u64,
}

impl Visit for Job {
    type Output = Result<f64, String>;

    fn visit<R: Rt>(self, rt: &mut R) -> Result<f64, String> {
        let sum = Arc::new(AtomicU64::new(0));
        let consumed = Arc::new(Latch::new(CONSUMERS));
        let start = Instant::now();
        match self.family {
            Family::Ringloop => rt.block_on(ringloop_queue::<R>(
                self.capacity,
                self.items,
                &sum,
                &consumed,
            )),
            Family::Tokio => {
                rt.block_on(tokio_mpsc::<R>(self.capacity, self.items, &sum, &consumed))
            }
            Family::AsyncChannel => rt.block_on(async_channel::<R>(
                self.capacity,
                self.items,
                &sum,
                &consumed,
            )),
        }
        let elapsed = millis_since(start);
        let expected = PRODUCERS as u64 * (self.items * (self.items - 1) / 2);
        match sum.load(Ordering::Relaxed) {
            n if n == expected => Ok(elapsed),
            n => Err(format!("the consumers added up {n}, expected {expected}")),
        }
    }
}

async fn ringloop_queue<R: Rt>(
    capacity: Option<usize>,
    items: u64,
    sum: &Arc<AtomicU64>,
    consumed: &Arc<Latch>,
) {
    let queue = Arc::new(ringloop::sync::Queue::new(capacity.unwrap_or(0)));
    let produced = Arc::new(Latch::new(PRODUCERS));
    for _ in 0..CONSUMERS {
        let (queue, sum, consumed) = (queue.clone(), sum.clone(), consumed.clone());
        R::spawn(async move {
            let mut total = 0;
            while let Ok(item) = queue.get().await {
                total += item;
            }
            sum.fetch_add(total, Ordering::Relaxed);
            consumed.count_down();
        });
    }
    for _ in 0..PRODUCERS {
        let (queue, produced) = (queue.clone(), produced.clone());
        R::spawn(async move {
            for item in 0..items {
                queue.put(item).await.expect("not shut down yet");
            }
            produced.count_down();
        });
    }
    produced.wait().await;
    // The consumers take what is left, then `get` fails.
    queue.shutdown(false);
    consumed.wait().await;
}

async fn tokio_mpsc<R: Rt>(
    capacity: Option<usize>,
    items: u64,
    sum: &Arc<AtomicU64>,
    consumed: &Arc<Latch>,
) {
    // One sender per producer; the channel closes when the last one is dropped.
    let (senders, receiver) = match capacity {
        Some(n) => {
            let (tx, rx) = tokio::sync::mpsc::channel(n);
            (Senders::Bounded(tx), Receiver::Bounded(rx))
        }
        None => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (Senders::Unbounded(tx), Receiver::Unbounded(rx))
        }
    };
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    for _ in 0..CONSUMERS {
        let (receiver, sum, consumed) = (receiver.clone(), sum.clone(), consumed.clone());
        R::spawn(async move {
            let mut total = 0;
            while let Some(item) = receiver.lock().await.recv().await {
                total += item;
            }
            sum.fetch_add(total, Ordering::Relaxed);
            consumed.count_down();
        });
    }
    for _ in 0..PRODUCERS {
        let senders = senders.clone();
        R::spawn(async move {
            for item in 0..items {
                senders.send(item).await;
            }
        });
    }
    drop(senders);
    consumed.wait().await;
}

async fn async_channel<R: Rt>(
    capacity: Option<usize>,
    items: u64,
    sum: &Arc<AtomicU64>,
    consumed: &Arc<Latch>,
) {
    // The channel closes when the last sender is dropped.
    let (sender, receiver) = match capacity {
        Some(n) => async_channel::bounded(n),
        None => async_channel::unbounded(),
    };
    for _ in 0..CONSUMERS {
        let (receiver, sum, consumed) = (receiver.clone(), sum.clone(), consumed.clone());
        R::spawn(async move {
            let mut total = 0;
            while let Ok(item) = receiver.recv().await {
                total += item;
            }
            sum.fetch_add(total, Ordering::Relaxed);
            consumed.count_down();
        });
    }
    drop(receiver);
    for _ in 0..PRODUCERS {
        let sender = sender.clone();
        R::spawn(async move {
            for item in 0..items {
                sender
                    .send(item)
                    .await
                    .expect("the receivers live until every item is taken");
            }
        });
    }
    drop(sender);
    consumed.wait().await;
}

#[derive(Clone)]
enum Senders {
    Bounded(tokio::sync::mpsc::Sender<u64>),
    Unbounded(tokio::sync::mpsc::UnboundedSender<u64>),
}

impl Senders {
    async fn send(&self, item: u64) {
        let sent = match self {
            Senders::Bounded(tx) => tx.send(item).await.is_ok(),
            Senders::Unbounded(tx) => tx.send(item).is_ok(),
        };
        assert!(sent, "the receiver lives until every item is taken");
    }
}

enum Receiver {
    Bounded(tokio::sync::mpsc::Receiver<u64>),
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<u64>),
}

impl Receiver {
    async fn recv(&mut self) -> Option<u64> {
        match self {
            Receiver::Bounded(rx) => rx.recv().await,
            Receiver::Unbounded(rx) => rx.recv().await,
        }
    }
}
