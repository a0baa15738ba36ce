//! The state a task group's handles, children and scope share, and its protocol.
//!
//! # State (one mutex)
//! - `phase`: `Open` (tasks may be added) → `Aborting` (a task failed, or the scope was
//!   dropped or its body panicked: the children are being cancelled, new tasks are
//!   cancelled on arrival) → `Closed` (the scope finished: new tasks are cancelled on
//!   arrival). `Open` may also go straight to `Closed`.
//! - `children`: one entry per live child, keyed by a group-local id, holding the child's
//!   `Task<()>` handle (to cancel it), or `None` while it is being spawned or after an abort
//!   took the handle to cancel it. A child leaves the map when its future is dropped — after
//!   completing, panicking or being cancelled — so "no children" means "all finished".
//! - `failures`, and the scope's waker.
//!
//! # Protocol
//! 1. `create_task`: [`begin_child`](Shared::begin_child) reserves an id (refused unless
//!    `Open`), the task is spawned with no lock held, then [`attach`](Shared::attach) stores
//!    its handle — or, if the group started aborting meanwhile, cancels it.
//! 2. A child that fails calls [`fail`](Shared::fail) *before* it exits: `Open → Aborting`,
//!    every stored handle is taken, and cancelled after the lock is released.
//! 3. A child's future, when dropped for any reason, calls [`exit`](Shared::exit), which
//!    removes its entry and wakes the scope when the map becomes empty.
//! 4. The scope, once its body is done, waits for an empty map and
//!    [`close`](Shared::close)s the group.
//!
//! No user code runs and no task is cancelled or spawned under the mutex: cancelling may drop
//! a child's future on the spot, and that drop calls `exit`, which takes the mutex. The
//! scope's waker is woken and dropped after the unlock, and a panic in it is reported
//! (`crate::user_waker`): it must not stop a child from exiting.

use super::error::Failure;
use crate::loom::Mutex;
use crate::{Handle, Task};
use std::collections::HashMap;
use std::task::Waker;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    Aborting,
    Closed,
}

pub(super) struct Shared {
    state: Mutex<State>,
    /// The runtime the group's `Send` tasks are spawned on.
    pub(super) handle: Handle,
}

struct State {
    phase: Phase,
    next_id: u64,
    children: HashMap<u64, Option<Task<()>>>,
    failures: Vec<Failure>,
    scope: Option<Waker>,
}

impl Shared {
    pub(super) fn new(handle: Handle) -> Shared {
        Shared {
            state: Mutex::new(State {
                phase: Phase::Open,
                next_id: 0,
                children: HashMap::new(),
                failures: Vec::new(),
                scope: None,
            }),
            handle,
        }
    }

    /// Reserves an id for a new child, unless the group no longer takes tasks.
    pub(super) fn begin_child(&self) -> Option<u64> {
        let mut state = self.state.lock();
        if state.phase != Phase::Open {
            return None;
        }
        let id = state.next_id;
        state.next_id += 1;
        state.children.insert(id, None);
        Some(id)
    }

    /// Stores the handle of child `id`, just spawned.
    pub(super) fn attach(&self, id: u64, task: Task<()>) {
        let mut state = self.state.lock();
        let aborting = state.phase != Phase::Open;
        match state.children.get_mut(&id) {
            Some(slot) if !aborting => *slot = Some(task),
            Some(_) => {
                drop(state);
                task.cancel();
            }
            // It already finished: nothing to keep.
            None => {
                drop(state);
                drop(task);
            }
        }
    }

    /// Takes child `id`'s handle, to cancel it; `None` if it finished or is being cancelled.
    pub(super) fn take_handle(&self, id: u64) -> Option<Task<()>> {
        self.state
            .lock()
            .children
            .get_mut(&id)
            .and_then(Option::take)
    }

    /// Records a failure; the first one starts the abort.
    pub(super) fn fail(&self, failure: Failure) {
        let mut state = self.state.lock();
        state.failures.push(failure);
        self.abort_locked(state);
    }

    /// Cancels every child (the scope was dropped, or its body panicked).
    pub(super) fn abort(&self) {
        let state = self.state.lock();
        self.abort_locked(state);
    }

    fn abort_locked(&self, mut state: crate::loom::MutexGuard<'_, State>) {
        if state.phase != Phase::Open {
            return;
        }
        state.phase = Phase::Aborting;
        let handles: Vec<Task<()>> = state
            .children
            .values_mut()
            .filter_map(Option::take)
            .collect();
        let scope = state.scope.take();
        drop(state);
        for task in &handles {
            task.cancel();
        }
        drop(handles);
        if let Some(scope) = scope {
            crate::user_waker::wake(scope, "a task group");
        }
    }

    /// Child `id`'s future was dropped.
    pub(super) fn exit(&self, id: u64) {
        let mut state = self.state.lock();
        let task = state.children.remove(&id).flatten();
        let scope = if state.children.is_empty() {
            state.scope.take()
        } else {
            None
        };
        drop(state);
        drop(task);
        if let Some(scope) = scope {
            crate::user_waker::wake(scope, "a task group");
        }
    }

    /// Records the scope's waker, for a failure or the last child's exit.
    pub(super) fn register(&self, waker: &Waker) {
        let replaced = {
            let mut state = self.state.lock();
            match &state.scope {
                Some(scope) if scope.will_wake(waker) => None,
                _ => state.scope.replace(waker.clone()),
            }
        };
        // Not under the lock: dropping it runs the waker's code.
        drop(replaced);
    }

    /// True once a failure (or the scope) started cancelling the children.
    pub(super) fn is_aborting(&self) -> bool {
        self.state.lock().phase == Phase::Aborting
    }

    /// If no child is left, closes the group (later tasks are cancelled on arrival) and
    /// returns its failures.
    pub(super) fn close(&self) -> Option<Vec<Failure>> {
        let mut state = self.state.lock();
        if !state.children.is_empty() {
            return None;
        }
        state.phase = Phase::Closed;
        let scope = state.scope.take();
        let failures = std::mem::take(&mut state.failures);
        drop(state);
        // Not under the lock: dropping it runs the waker's code.
        drop(scope);
        Some(failures)
    }

    /// Children not finished yet.
    pub(super) fn len(&self) -> usize {
        self.state.lock().children.len()
    }

    /// True unless the group is still open to new tasks.
    pub(super) fn is_closed(&self) -> bool {
        self.state.lock().phase != Phase::Open
    }
}
