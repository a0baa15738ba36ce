//! [`ReadySet`]: which children of a `wait` or `as_completed` were woken since they were last
//! polled, so that a poll visits only those (N futures cost O(N + wakes), not O(N × polls)).
//!
//! # Protocol
//! Each child has a node, allocated once, which is also its waker. The state is:
//! - `Node::queued` (per child): set while the child's index is in the woken list or about
//!   to be polled; a wake pushes the index only if it sets the flag (so an index is in the
//!   list at most once);
//! - `Shared::state` (a mutex): the woken list, and the waker of the task that awaits the
//!   whole set (the parent).
//!
//! 1. A wake: `queued.swap(true)`; if it was clear, lock, push the index, take the parent's
//!    waker, unlock, wake the parent.
//! 2. The parent's poll: [`register`](ReadySet::register) its waker, then
//!    [`poll_woken`](ReadySet::poll_woken) takes the list (one lock) and, for each index,
//!    clears `queued` with a swap (which synchronizes with the waker's swap, so the child
//!    sees what was written before the wake) *before* the child is polled: a wake during
//!    the poll queues it again. Indices it stops before (the task's budget is spent)
//!    keep their `queued` flag and go back to the list.
//!
//! Taking the parent's waker in step 1 is enough: the parent, woken, polls and registers
//! again before it looks at the list. Nothing is unsafe here.

#[cfg(all(test, loom))]
mod loom_ready;

use crate::loom::{AtomicBool, Mutex, Ordering};
use std::fmt;
use std::sync::Arc;
use std::task::{Wake, Waker};

struct Shared {
    state: Mutex<State>,
}

struct State {
    woken: Vec<usize>,
    parent: Option<Waker>,
}

struct Node {
    index: usize,
    queued: AtomicBool,
    shared: Arc<Shared>,
}

/// Per-child wakers for a fixed number of children, and the list of those woken.
pub(crate) struct ReadySet {
    shared: Arc<Shared>,
    nodes: Box<[Arc<Node>]>,
    wakers: Box<[Waker]>,
}

impl ReadySet {
    /// A set of `len` children, all initially woken (each must be polled once), in order.
    pub(crate) fn new(len: usize) -> ReadySet {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                woken: (0..len).collect(),
                parent: None,
            }),
        });
        let nodes: Box<[Arc<Node>]> = (0..len)
            .map(|index| {
                Arc::new(Node {
                    index,
                    queued: AtomicBool::new(true),
                    shared: shared.clone(),
                })
            })
            .collect();
        let wakers = nodes.iter().map(|node| Waker::from(node.clone())).collect();
        ReadySet {
            shared,
            nodes,
            wakers,
        }
    }

    /// Records the waker of the task awaiting the set.
    pub(crate) fn register(&self, waker: &Waker) {
        let replaced = {
            let mut state = self.shared.state.lock();
            match &state.parent {
                Some(parent) if parent.will_wake(waker) => None,
                _ => state.parent.replace(waker.clone()),
            }
        };
        // Not under the lock: dropping it runs the waker's code.
        drop(replaced);
    }

    /// Forgets the parent's waker: children that complete later wake nobody.
    pub(crate) fn clear_parent(&self) {
        let parent = self.shared.state.lock().parent.take();
        drop(parent);
    }

    /// Calls `poll(index, waker)` for each child woken since the last call, in the order of
    /// their wakes. When the running task's cooperative budget is
    /// spent, stops early: the children not visited stay queued, and `parent` is woken so
    /// that the task comes back to them after the others had their turn.
    pub(crate) fn poll_woken(&self, parent: &Waker, mut poll: impl FnMut(usize, &Waker)) {
        let woken = std::mem::take(&mut self.shared.state.lock().woken);
        let mut rest = woken.iter().copied();
        for index in rest.by_ref() {
            // Clear before polling (a wake during the poll queues the child again); the swap
            // synchronizes with the waker's.
            self.nodes[index].queued.swap(false, Ordering::AcqRel);
            poll(index, &self.wakers[index]);
            if crate::coop::budget_spent() {
                let rest: Vec<usize> = rest.collect();
                if !rest.is_empty() {
                    // Still `queued`: put them back as they are.
                    self.shared.state.lock().woken.extend(rest);
                    parent.wake_by_ref();
                }
                return;
            }
        }
    }
}

impl Node {
    fn wake_parent(&self) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let parent = {
            let mut state = self.shared.state.lock();
            state.woken.push(self.index);
            state.parent.take()
        };
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl Wake for Node {
    fn wake(self: Arc<Self>) {
        self.wake_parent();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_parent();
    }
}

impl fmt::Debug for ReadySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadySet")
            .field("len", &self.nodes.len())
            .finish_non_exhaustive()
    }
}
