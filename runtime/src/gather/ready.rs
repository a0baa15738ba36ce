//! Which children of a gather were woken since they were last polled.
//!
//! [`ReadyQueue`] (for [`gather`](super::gather) over an iterator) keeps woken children on a
//! lock-free stack, so a poll visits exactly the children that were woken: gathering N
//! futures is O(N + wakes) work, never O(N × polls). Each child has one node, allocated once,
//! which is also its waker; a wake costs a swap, a compare-and-swap and the parent's wake.
//!
//! [`WakeFlags`] (for the [`gather!`](crate::gather!) macro, with a handful of children
//! written out by hand) only keeps a flag per child.
//!
//! Stack protocol: a waker pushes its node only if its `queued` flag was clear (so a node is
//! on the stack at most once). The single consumer (the gather's poll) takes the whole stack
//! with one swap, and for each node reads `next` *before* clearing `queued`: after the clear,
//! a wake may push the node again and overwrite `next`.

use atomic_waker::AtomicWaker;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// The gather's side: the stack head and the waker of the task awaiting the gather.
struct Shared {
    head: AtomicPtr<Node>,
    parent: AtomicWaker,
}

/// One child's node.
struct Node {
    index: usize,
    next: AtomicPtr<Node>,
    queued: AtomicBool,
    shared: Arc<Shared>,
}

/// The woken children of a gather over many futures.
pub(crate) struct ReadyQueue {
    shared: Arc<Shared>,
    nodes: Box<[Arc<Node>]>,
    wakers: Box<[Waker]>,
    /// The first node of the part of a taken stack that the last [`drain`](Self::drain) did
    /// not get to (those nodes are still `queued`, linked by `next`); the consumer's alone.
    rest: Option<usize>,
}

impl ReadyQueue {
    /// A queue for `len` children, all of them initially queued (each must be polled once).
    pub(crate) fn new(len: usize) -> ReadyQueue {
        let shared = Arc::new(Shared {
            head: AtomicPtr::new(ptr::null_mut()),
            parent: AtomicWaker::new(),
        });
        let nodes: Box<[Arc<Node>]> = (0..len)
            .map(|index| {
                Arc::new(Node {
                    index,
                    next: AtomicPtr::new(ptr::null_mut()),
                    queued: AtomicBool::new(false),
                    shared: shared.clone(),
                })
            })
            .collect();
        // Queue in reverse so the first drain yields children in input order.
        for node in nodes.iter().rev() {
            node.push();
        }
        let wakers = nodes.iter().map(|node| Waker::from(node.clone())).collect();
        ReadyQueue {
            shared,
            nodes,
            wakers,
            rest: None,
        }
    }

    /// Records the waker of the task awaiting the gather.
    pub(crate) fn register(&self, waker: &Waker) {
        self.shared.parent.register(waker);
    }

    /// Calls `f` with the index and waker of each child woken since the last call — first
    /// those a previous call did not get to — until `f` returns false. Returns false if `f`
    /// stopped it; the children it did not get to then stay queued for the next call, at no
    /// cost (a poll that stops when its budget is spent must not pay for those it skips).
    pub(crate) fn drain(&mut self, mut f: impl FnMut(usize, &Waker) -> bool) -> bool {
        let mut from_rest = self.rest.is_some();
        let mut current = match self.rest.take() {
            Some(index) => Arc::as_ptr(&self.nodes[index]) as *mut Node,
            None => self.shared.head.swap(ptr::null_mut(), Ordering::Acquire),
        };
        loop {
            while !current.is_null() {
                // SAFETY: a node on the stack (or on the rest of one) is one of `self.nodes`
                // (only our nodes are pushed onto our stack), which we keep alive.
                let node = unsafe { &*current };
                current = node.next.load(Ordering::Relaxed);
                node.queued.store(false, Ordering::Release);
                if !f(node.index, &self.wakers[node.index]) {
                    // SAFETY: as above; `current` is still queued, so nobody rewrites its `next`.
                    self.rest = (!current.is_null()).then(|| unsafe { (*current).index });
                    return false;
                }
            }
            if !from_rest {
                return true;
            }
            // The rest is done: go on with what was woken since.
            from_rest = false;
            current = self.shared.head.swap(ptr::null_mut(), Ordering::Acquire);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }
}

impl Node {
    /// Puts the node on its stack, unless it is already there.
    fn push(self: &Arc<Self>) -> bool {
        if self.queued.swap(true, Ordering::AcqRel) {
            return false;
        }
        let me = Arc::as_ptr(self) as *mut Node;
        let mut head = self.shared.head.load(Ordering::Relaxed);
        loop {
            self.next.store(head, Ordering::Relaxed);
            match self.shared.head.compare_exchange_weak(
                head,
                me,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => head = actual,
            }
        }
    }
}

impl Wake for Node {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.push() {
            self.shared.parent.wake();
        }
    }
}

impl std::fmt::Debug for WakeFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeFlags")
            .field("len", &self.flags.len())
            .finish()
    }
}

/// Per-child "woken" flags, for a gather of a few futures written out in a macro.
pub(crate) struct WakeFlags {
    flags: Box<[Arc<Flag>]>,
    wakers: Box<[Waker]>,
    parent: Arc<AtomicWaker>,
}

struct Flag {
    woken: AtomicBool,
    parent: Arc<AtomicWaker>,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.parent.wake();
        }
    }
}

impl WakeFlags {
    /// Flags for `len` children, all set (each must be polled once).
    pub(crate) fn new(len: usize) -> WakeFlags {
        let parent = Arc::new(AtomicWaker::new());
        let flags: Box<[Arc<Flag>]> = (0..len)
            .map(|_| {
                Arc::new(Flag {
                    woken: AtomicBool::new(true),
                    parent: parent.clone(),
                })
            })
            .collect();
        let wakers = flags.iter().map(|flag| Waker::from(flag.clone())).collect();
        WakeFlags {
            flags,
            wakers,
            parent,
        }
    }

    pub(crate) fn register(&self, waker: &Waker) {
        self.parent.register(waker);
    }

    /// True (and clears the flag) if child `index` was woken since it was last polled.
    pub(crate) fn take(&self, index: usize) -> bool {
        self.flags[index].woken.swap(false, Ordering::AcqRel)
    }

    pub(crate) fn waker(&self, index: usize) -> &Waker {
        &self.wakers[index]
    }
}
