//! The owner list: every live task of a scheduler, so that shutdown can cancel what is left
//! and [`all_tasks`](crate::all_tasks) can list them.
//!
//! The list is split into shards, each a mutex around a slab of task pointers; a task lives in
//! shard `id % shards` at the index stored in its header (`list_slot`). The list holds one
//! reference per task. Once closed, nothing can be added: a task spawned during shutdown is
//! cancelled on the spot.

use super::raw::RawTask;
use super::{TaskId, TaskInfo};
use crate::loom::{AtomicBool, Mutex, Ordering};

/// A sharded set of tasks, holding one reference to each.
pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Slab>]>,
    closed: AtomicBool,
}

/// Slots of task pointers with a free list threaded through the empty ones.
#[derive(Default)]
struct Slab {
    slots: Vec<Slot>,
    free_head: Option<usize>,
    len: usize,
}

enum Slot {
    Occupied(RawTask),
    Vacant { next_free: Option<usize> },
}

impl OwnedTasks {
    /// A list with at least `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> OwnedTasks {
        let shards = shards.max(1).next_power_of_two();
        OwnedTasks {
            shards: (0..shards).map(|_| Mutex::new(Slab::default())).collect(),
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, id: TaskId) -> &Mutex<Slab> {
        &self.shards[(id.as_u64() as usize) & (self.shards.len() - 1)]
    }

    /// Adds a task, taking over one of its references. Fails once the list is closed; the
    /// caller then still owns that reference.
    pub(crate) fn insert(&self, task: RawTask) -> Result<(), RawTask> {
        let mut shard = self.shard(task.id()).lock();
        // Checked under the shard lock, which `close_and_drain` also takes after closing:
        // a task inserted here is seen by the drain.
        if self.closed.load(Ordering::Acquire) {
            return Err(task);
        }
        let index = shard.insert(task);
        task.header().list_slot.store(index, Ordering::Relaxed);
        Ok(())
    }

    /// Removes a task; true if it was here (its reference now belongs to the caller).
    pub(crate) fn remove(&self, task: RawTask) -> bool {
        let mut shard = self.shard(task.id()).lock();
        let index = task.header().list_slot.load(Ordering::Relaxed);
        shard.remove_if(index, task)
    }

    /// Closes the list and removes every task, handing their references to the caller.
    pub(crate) fn close_and_drain(&self) -> Vec<RawTask> {
        self.closed.store(true, Ordering::Release);
        let mut tasks = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            tasks.extend(shard.drain());
        }
        tasks
    }

    /// A snapshot of every task in the list.
    pub(crate) fn collect_info(&self, out: &mut Vec<TaskInfo>) {
        for shard in self.shards.iter() {
            let shard = shard.lock();
            out.extend(shard.slots.iter().filter_map(|slot| match slot {
                Slot::Occupied(task) => Some(TaskInfo::of(task.header())),
                Slot::Vacant { .. } => None,
            }));
        }
    }
}

impl Slab {
    fn insert(&mut self, task: RawTask) -> usize {
        self.len += 1;
        match self.free_head {
            Some(index) => {
                let Slot::Vacant { next_free } = self.slots[index] else {
                    unreachable!("the free list only links vacant slots")
                };
                self.free_head = next_free;
                self.slots[index] = Slot::Occupied(task);
                index
            }
            None => {
                self.slots.push(Slot::Occupied(task));
                self.slots.len() - 1
            }
        }
    }

    /// Empties slot `index` if it holds `task` (after a drain it may hold another task).
    fn remove_if(&mut self, index: usize, task: RawTask) -> bool {
        match self.slots.get(index) {
            Some(Slot::Occupied(t)) if *t == task => {
                self.slots[index] = Slot::Vacant {
                    next_free: self.free_head,
                };
                self.free_head = Some(index);
                self.len -= 1;
                true
            }
            _ => false,
        }
    }

    fn drain(&mut self) -> impl Iterator<Item = RawTask> + '_ {
        self.free_head = None;
        self.len = 0;
        self.slots.drain(..).filter_map(|slot| match slot {
            Slot::Occupied(task) => Some(task),
            Slot::Vacant { .. } => None,
        })
    }
}
