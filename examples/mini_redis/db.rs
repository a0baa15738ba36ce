//! The store: string keys to string values with an optional expiry, sharded so that workers
//! serving different keys do not wait on one lock. Runtime-independent.
//!
//! # Sharding
//!
//! `shards` hash tables (a power of two, at least 4 per worker: see [`Db::shards_for`]), each
//! behind its own mutex. A key is hashed once per command: the hash picks the shard and then
//! the key's place in the shard's table (hashbrown's `HashTable`, which takes the hash as
//! given: std's `HashMap` would hash the key again, and twice for a lookup then an insert). A command on one key takes one lock;
//! `MGET`/`MSET` take the locks of every shard they touch, in shard order (so two of them
//! cannot deadlock), which makes them atomic as in Redis. No lock is held while anything but
//! the table and the caller's reply encoding runs.
//!
//! # Expiry
//!
//! Lazy, as Redis does: an expired entry found by a command is removed then and counts as
//! missing. And active: [`Db::sweep`] removes the expired entries of a few shards per call
//! (the server calls it every 100 ms), skipping shards with no entry that expires.
//!
//! Only strings are stored, so Redis's `WRONGTYPE` error cannot arise.

use std::hash::{BuildHasher, RandomState};
use std::time::Instant;

use hashbrown::hash_table::{Entry as Slot, HashTable};
use parking_lot::{Mutex, MutexGuard};

/// A key, its value, and when it expires.
#[derive(Debug)]
struct Entry {
    /// The key's hash, kept so that growing the table does not hash the keys again.
    hash: u64,
    key: Vec<u8>,
    value: Vec<u8>,
    expires: Option<Instant>,
}

impl Entry {
    fn expired(&self) -> bool {
        self.expires.is_some_and(|at| Instant::now() >= at)
    }
}

/// One shard: a hash table of entries, found by the hash [`Db`] computed once per key.
#[derive(Debug, Default)]
struct Shard {
    table: HashTable<Entry>,
    /// Entries with an expiry (so that the sweep can skip the shard when there are none).
    volatile: usize,
}

impl Shard {
    /// The live entry of `key`, removing it if it has expired.
    fn live(&mut self, hash: u64, key: &[u8]) -> Option<&mut Entry> {
        match self.table.find_entry(hash, |entry| entry.key == key) {
            Err(_) => None,
            Ok(slot) if slot.get().expired() => {
                self.volatile -= 1;
                drop(slot.remove());
                None
            }
            Ok(slot) => Some(slot.into_mut()),
        }
    }

    /// Sets `key` to `value`, reusing the existing key and value buffers.
    fn put(&mut self, hash: u64, key: &[u8], value: &[u8], expiry: Expiry) {
        let entry = match self
            .table
            .entry(hash, |entry| entry.key == key, |entry| entry.hash)
        {
            Slot::Occupied(slot) => slot.into_mut(),
            Slot::Vacant(slot) => slot
                .insert(Entry {
                    hash,
                    key: key.to_vec(),
                    value: Vec::new(),
                    expires: None,
                })
                .into_mut(),
        };
        entry.value.clear();
        entry.value.extend_from_slice(value);
        let before = entry.expires.is_some();
        match expiry {
            Expiry::Keep => {}
            Expiry::Never => entry.expires = None,
            Expiry::At(at) => entry.expires = Some(at),
        }
        self.volatile = self.volatile + usize::from(entry.expires.is_some()) - usize::from(before);
    }

    /// Removes `key`, expired or not; returns whether it was there and live.
    fn remove(&mut self, hash: u64, key: &[u8]) -> bool {
        match self.table.find_entry(hash, |entry| entry.key == key) {
            Err(_) => false,
            Ok(slot) => {
                let (entry, _) = slot.remove();
                self.volatile -= usize::from(entry.expires.is_some());
                !entry.expired()
            }
        }
    }
}

/// When a `SET` makes the key expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// No expiry (an earlier one is dropped).
    Never,
    /// `KEEPTTL`: as before.
    Keep,
    At(Instant),
}

/// A `SET`'s `NX`/`XX` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Condition {
    Always,
    /// `NX`: only if the key does not exist.
    Missing,
    /// `XX`: only if it exists.
    Present,
}

/// Why `INCRBY` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IncrError {
    NotAnInteger,
    Overflow,
}

/// A key's time to live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ttl {
    Missing,
    Persistent,
    Millis(u64),
}

/// The sharded store; see the module docs.
#[derive(Debug)]
pub(crate) struct Db {
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

impl Db {
    /// A store of `shards` shards (rounded up to a power of two).
    pub(crate) fn new(shards: usize) -> Db {
        let shards = shards.max(1).next_power_of_two();
        Db {
            shards: (0..shards).map(|_| Mutex::default()).collect(),
            hasher: RandomState::new(),
        }
    }

    /// The shard count for `workers` threads: a power of two, at least 4 per worker.
    pub(crate) fn shards_for(workers: usize) -> usize {
        (4 * workers.max(1)).next_power_of_two()
    }

    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The key's hash, and its shard's index: bits 32 and up, which the table does not use
    /// to place the key within the shard (its low bits) nor as its tag (the top 7).
    fn locate(&self, key: &[u8]) -> (u64, usize) {
        let hash = self.hasher.hash_one(key);
        (hash, (hash >> 32) as usize & (self.shards.len() - 1))
    }

    fn shard(&self, key: &[u8]) -> (u64, MutexGuard<'_, Shard>) {
        let (hash, index) = self.locate(key);
        (hash, self.shards[index].lock())
    }

    /// Calls `f` with the value of `key` (`None` if missing), under the shard's lock.
    pub(crate) fn get<R>(&self, key: &[u8], f: impl FnOnce(Option<&[u8]>) -> R) -> R {
        let (hash, mut shard) = self.shard(key);
        f(shard.live(hash, key).map(|entry| &entry.value[..]))
    }

    /// Sets `key` unless `condition` says not to; `old` is given the previous value first
    /// (for `SET ... GET`). Returns whether the key was set.
    pub(crate) fn set(
        &self,
        key: &[u8],
        value: &[u8],
        condition: Condition,
        expiry: Expiry,
        old: impl FnOnce(Option<&[u8]>),
    ) -> bool {
        let (hash, mut shard) = self.shard(key);
        let live = shard.live(hash, key);
        let exists = live.is_some();
        old(live.map(|entry| &entry.value[..]));
        let set = match condition {
            Condition::Always => true,
            Condition::Missing => !exists,
            Condition::Present => exists,
        };
        if set {
            shard.put(hash, key, value, expiry);
        }
        set
    }

    /// Removes `key`; returns whether it existed.
    pub(crate) fn delete(&self, key: &[u8]) -> bool {
        let (hash, mut shard) = self.shard(key);
        shard.remove(hash, key)
    }

    pub(crate) fn exists(&self, key: &[u8]) -> bool {
        let (hash, mut shard) = self.shard(key);
        shard.live(hash, key).is_some()
    }

    /// Adds `delta` to the integer value of `key` (0 if missing), keeping its expiry.
    pub(crate) fn incr_by(&self, key: &[u8], delta: i64) -> Result<i64, IncrError> {
        let (hash, mut shard) = self.shard(key);
        let Some(entry) = shard.live(hash, key) else {
            let mut digits = [0u8; 20];
            let len = crate::resp::format_i64(delta, &mut digits);
            shard.put(hash, key, &digits[..len], Expiry::Never);
            return Ok(delta);
        };
        let current = crate::resp::parse_i64(&entry.value).ok_or(IncrError::NotAnInteger)?;
        let value = current.checked_add(delta).ok_or(IncrError::Overflow)?;
        entry.value.clear();
        crate::resp::decimal(&mut entry.value, value);
        Ok(value)
    }

    /// Sets the expiry of `key` (`None`: the time is past, the key is removed); returns
    /// whether the key exists.
    pub(crate) fn expire(&self, key: &[u8], at: Option<Instant>) -> bool {
        let (hash, mut shard) = self.shard(key);
        let Some(entry) = shard.live(hash, key) else {
            return false;
        };
        match at {
            Some(at) => {
                let before = entry.expires.replace(at).is_some();
                shard.volatile += usize::from(!before);
            }
            None => drop(shard.remove(hash, key)),
        }
        true
    }

    pub(crate) fn ttl(&self, key: &[u8]) -> Ttl {
        let (hash, mut shard) = self.shard(key);
        match shard.live(hash, key).map(|entry| entry.expires) {
            None => Ttl::Missing,
            Some(None) => Ttl::Persistent,
            Some(Some(at)) => {
                // Rounded up: Redis's clock is in milliseconds, so `SET k v PX 1500` then
                // `PTTL k` says 1500 there, as here.
                let left = at.saturating_duration_since(Instant::now());
                Ttl::Millis(u64::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX))
            }
        }
    }

    /// Locks the shards of `keys`, in shard order: the multi-key commands are atomic.
    fn lock_many<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) -> Locked<'_> {
        let mut indices: Vec<usize> = keys.map(|key| self.locate(key).1).collect();
        indices.sort_unstable();
        indices.dedup();
        let guards = indices
            .into_iter()
            .map(|i| (i, self.shards[i].lock()))
            .collect();
        Locked { db: self, guards }
    }

    /// The values of `keys`, each given to `f` in order (`MGET`), atomically.
    pub(crate) fn get_many<'k>(
        &self,
        keys: impl Iterator<Item = &'k [u8]> + Clone,
        mut f: impl FnMut(Option<&[u8]>),
    ) {
        let mut locked = self.lock_many(keys.clone());
        for key in keys {
            let (hash, shard) = locked.shard(key);
            f(shard.live(hash, key).map(|entry| &entry.value[..]));
        }
    }

    /// Sets each `(key, value)` pair, without expiry (`MSET`), atomically.
    pub(crate) fn set_many<'k>(&self, pairs: impl Iterator<Item = (&'k [u8], &'k [u8])> + Clone) {
        let mut locked = self.lock_many(pairs.clone().map(|(key, _)| key));
        for (key, value) in pairs {
            let (hash, shard) = locked.shard(key);
            shard.put(hash, key, value, Expiry::Never);
        }
    }

    /// The number of keys (expired ones not yet removed included, as in Redis).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().table.len())
            .sum()
    }

    /// Removes every key.
    pub(crate) fn flush(&self) {
        for shard in self.shards.iter() {
            // Freed outside the lock: freeing a large table takes a while.
            let old = std::mem::take(&mut *shard.lock());
            drop(old);
        }
    }

    /// Removes the expired entries of the `count` shards from `*cursor` on, and moves the
    /// cursor past them; returns how many entries were removed.
    pub(crate) fn sweep(&self, cursor: &mut usize, count: usize) -> usize {
        let now = Instant::now();
        let mut removed = 0;
        for _ in 0..count.min(self.shards.len()) {
            let mut shard = self.shards[*cursor & (self.shards.len() - 1)].lock();
            *cursor = cursor.wrapping_add(1);
            if shard.volatile == 0 {
                continue;
            }
            let before = shard.table.len();
            shard
                .table
                .retain(|entry| entry.expires.is_none_or(|at| at > now));
            let gone = before - shard.table.len();
            shard.volatile -= gone;
            removed += gone;
        }
        removed
    }
}

/// The shards of a multi-key command, locked.
struct Locked<'a> {
    db: &'a Db,
    /// Sorted by shard index.
    guards: Vec<(usize, MutexGuard<'a, Shard>)>,
}

impl Locked<'_> {
    /// The hash of `key` and its shard, which must be one of those locked.
    fn shard(&mut self, key: &[u8]) -> (u64, &mut Shard) {
        let (hash, index) = self.db.locate(key);
        let at = self.guards.binary_search_by_key(&index, |(i, _)| *i);
        (
            hash,
            &mut self.guards[at.expect("the key's shard is locked")].1,
        )
    }
}

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
