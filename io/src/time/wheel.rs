//! A hierarchical timer wheel: one per driver, touched only by the driver's thread.
//!
//! # Layout
//!
//! Time is counted in ticks of 1 ms since the driver started (`base`). Six levels of 64 slots
//! cover 2^36 ms (about 2.2 years; later deadlines are parked in the top level and re-filed
//! when reached). A timer whose deadline tick is `when` lives at the level of the highest
//! 6-bit group in which `when` differs from `elapsed` (the last tick processed), in slot
//! `(when >> 6 * level) % 64`. Each level keeps a bitmap of occupied slots, so finding the
//! next expiration is a rotate and a trailing-zeros count per level, and inserting is O(1).
//!
//! A timer's tick is its deadline rounded *up*, so a whole slot is due once its tick has
//! passed. To keep lateness well under a millisecond, the entries also keep their exact
//! deadline: every slot remembers its earliest exact deadline (`min_ns`), which is what
//! [`Wheel::next_deadline`] gives the park timeout, and [`Wheel::process`] fires the entries of
//! the next slot whose exact deadline has passed without waiting for the slot's tick (a
//! higher-level slot's earliest entries may be due up to one tick before the slot starts).
//!
//! # Invariants
//!
//! * Every stored entry's tick is greater than `elapsed`.
//! * A slot's bit in `occupied` is set iff the slot is non-empty; `min_ns[slot]` is at most
//!   the exact deadline of every live entry in the slot (cancelled ones may make it early:
//!   one spurious wake-up at worst).
//! * Cancelled entries stay until their slot is processed or the wheel is swept; `dead`
//!   estimates how many there are, and a sweep runs when they are more than half of `len`.
//!   So memory stays proportional to the live timers, and a cancel never needs the owner.

use std::fmt;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::time::entry::TimerEntry;

const LEVELS: usize = 6;
const SLOTS: usize = 64;
const BITS: u32 = 6;
const TICK_NS: u64 = 1_000_000;
const MAX_TICKS: u64 = 1 << (BITS as u64 * LEVELS as u64);
const SWEEP_MIN: usize = 1024;

struct Stored {
    deadline_ns: u64,
    entry: Arc<TimerEntry>,
}

struct Level {
    occupied: u64,
    slots: Vec<Vec<Stored>>,
    min_ns: [u64; SLOTS],
}

impl Level {
    fn new() -> Level {
        Level {
            occupied: 0,
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            min_ns: [u64::MAX; SLOTS],
        }
    }
}

/// The timer wheel of one driver; see the module docs.
pub(crate) struct Wheel {
    base: Instant,
    elapsed: u64,
    levels: Vec<Level>,
    len: usize,
    dead: usize,
    scratch: Vec<Stored>,
}

fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    let masked = masked.min(MAX_TICKS - 1);
    let significant = 63 - masked.leading_zeros();
    (significant / BITS) as usize
}

impl Wheel {
    pub(crate) fn new(base: Instant) -> Wheel {
        Wheel {
            base,
            elapsed: 0,
            levels: (0..LEVELS).map(|_| Level::new()).collect(),
            len: 0,
            dead: 0,
            scratch: Vec::new(),
        }
    }

    fn ns(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.base).as_nanos();
        u64::try_from(d).unwrap_or(u64::MAX)
    }

    /// Number of entries stored, cancelled ones included.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Registers `entry` to fire at `deadline`.
    pub(crate) fn insert(&mut self, deadline: Instant, entry: Arc<TimerEntry>) {
        let deadline_ns = self.ns(deadline);
        self.store(Stored { deadline_ns, entry });
        self.len += 1;
    }

    fn store(&mut self, stored: Stored) {
        let mut when = stored.deadline_ns.div_ceil(TICK_NS);
        if when <= self.elapsed {
            when = self.elapsed + 1;
        }
        if when - self.elapsed >= MAX_TICKS {
            when = self.elapsed + MAX_TICKS - 1;
        }
        let level = level_for(self.elapsed, when);
        let slot = ((when >> (BITS as usize * level)) % SLOTS as u64) as usize;
        let lvl = &mut self.levels[level];
        lvl.occupied |= 1 << slot;
        lvl.min_ns[slot] = lvl.min_ns[slot].min(stored.deadline_ns);
        lvl.slots[slot].push(stored);
    }

    /// The next slot to process: `(level, slot, tick at which it is due)`.
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let slot_range = 1u64 << (BITS as usize * level);
            let level_range = slot_range << BITS;
            let now_slot = ((self.elapsed / slot_range) % SLOTS as u64) as u32;
            let zeros = lvl.occupied.rotate_right(now_slot).trailing_zeros();
            let slot = ((zeros + now_slot) % SLOTS as u32) as usize;
            let level_start = self.elapsed & !(level_range - 1);
            let mut deadline = level_start + slot as u64 * slot_range;
            if deadline <= self.elapsed {
                // Only the top level wraps around: the slot is in its next rotation.
                deadline += level_range;
            }
            return Some((level, slot, deadline));
        }
        None
    }

    /// The earliest instant at which [`Wheel::process`] has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let (level, slot, tick) = self.next_expiration()?;
        let ns = tick
            .saturating_mul(TICK_NS)
            .min(self.levels[level].min_ns[slot]);
        Some(self.base + Duration::from_nanos(ns))
    }

    /// Fires every timer whose deadline is at or before `now`, pushing their wakers.
    pub(crate) fn process(&mut self, now: Instant, wakers: &mut Vec<Waker>) {
        let now_ns = self.ns(now);
        let now_tick = now_ns / TICK_NS;
        while let Some((level, slot, tick)) = self.next_expiration() {
            if tick > now_tick {
                break;
            }
            self.elapsed = tick;
            self.process_slot(level, slot, now_ns, wakers);
        }
        self.elapsed = self.elapsed.max(now_tick);
        // Entries of the next slot whose exact deadline already passed (they are at most one
        // tick early relative to the slot, since ticks round deadlines up). Entries not yet
        // due go back to the same slot; those that fire make the loop end.
        while let Some((level, slot, _)) = self.next_expiration() {
            if self.levels[level].min_ns[slot] > now_ns {
                break;
            }
            self.process_slot(level, slot, now_ns, wakers);
        }
    }

    fn process_slot(&mut self, level: usize, slot: usize, now_ns: u64, wakers: &mut Vec<Waker>) {
        let mut batch = std::mem::take(&mut self.scratch);
        let lvl = &mut self.levels[level];
        std::mem::swap(&mut batch, &mut lvl.slots[slot]);
        lvl.occupied &= !(1 << slot);
        lvl.min_ns[slot] = u64::MAX;
        for stored in batch.drain(..) {
            if stored.entry.is_cancelled() {
                self.len -= 1;
                self.dead = self.dead.saturating_sub(1);
            } else if stored.deadline_ns <= now_ns {
                self.len -= 1;
                if let Some(waker) = stored.entry.transition_to_fired() {
                    wakers.push(waker);
                }
            } else {
                self.store(stored);
            }
        }
        self.scratch = batch;
    }

    /// `n` more entries were cancelled; sweep them out if they are most of the wheel.
    pub(crate) fn note_cancelled(&mut self, n: usize) {
        self.dead += n;
        if self.dead > SWEEP_MIN && self.dead * 2 > self.len {
            self.sweep();
        }
    }

    fn sweep(&mut self) {
        let mut removed = 0;
        for lvl in &mut self.levels {
            for slot in 0..SLOTS {
                let entries = &mut lvl.slots[slot];
                if entries.is_empty() {
                    continue;
                }
                let before = entries.len();
                entries.retain(|s| !s.entry.is_cancelled());
                removed += before - entries.len();
                if entries.is_empty() {
                    *entries = Vec::new();
                    lvl.occupied &= !(1 << slot);
                    lvl.min_ns[slot] = u64::MAX;
                } else {
                    lvl.min_ns[slot] = entries
                        .iter()
                        .map(|s| s.deadline_ns)
                        .min()
                        .unwrap_or(u64::MAX);
                    entries.shrink_to(entries.len() * 2);
                }
            }
        }
        self.len -= removed;
        self.dead = 0;
    }

    /// The driver shuts down: every pending timer completes with an error.
    pub(crate) fn shutdown(&mut self, wakers: &mut Vec<Waker>) {
        for lvl in &mut self.levels {
            for entries in &mut lvl.slots {
                for stored in entries.drain(..) {
                    if let Some(waker) = stored.entry.transition_to_shutdown() {
                        wakers.push(waker);
                    }
                }
            }
            lvl.occupied = 0;
            lvl.min_ns = [u64::MAX; SLOTS];
        }
        self.len = 0;
        self.dead = 0;
    }
}

impl fmt::Debug for Wheel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wheel")
            .field("elapsed_ms", &self.elapsed)
            .field("len", &self.len)
            .field("dead", &self.dead)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire_all_until(wheel: &mut Wheel, end: Instant) -> usize {
        let mut wakers = Vec::new();
        let mut fired = 0;
        let mut now = wheel.base;
        while now <= end {
            wheel.process(now, &mut wakers);
            fired += wakers.len();
            wakers.clear();
            now += Duration::from_micros(250);
        }
        fired
    }

    /// Inserts a new entry with no waker yet.
    pub(super) fn insert_new(wheel: &mut Wheel, deadline: Instant) -> Arc<TimerEntry> {
        let entry = Arc::new(TimerEntry::new(None));
        wheel.insert(deadline, Arc::clone(&entry));
        entry
    }

    #[test]
    fn fires_every_timer_never_early() {
        let base = Instant::now();
        let mut wheel = Wheel::new(base);
        let waker = Waker::noop();
        let mut entries = Vec::new();
        for ms in [0u64, 1, 5, 63, 64, 65, 200, 4095, 4096, 5000, 70_000] {
            let deadline = base + Duration::from_millis(ms) + Duration::from_micros(300);
            let entry = insert_new(&mut wheel, deadline);
            let _ = entry.poll(waker);
            entries.push((deadline, entry));
        }
        let mut wakers = Vec::new();
        let mut now = base;
        while wheel.len() > 0 {
            wheel.process(now, &mut wakers);
            for (deadline, entry) in &entries {
                let fired = entry.poll(waker) == crate::time::entry::TimerPoll::Fired;
                if fired {
                    assert!(*deadline <= now, "fired early");
                } else {
                    assert!(*deadline + Duration::from_millis(1) > now, "fired late");
                }
            }
            let next = wheel.next_deadline().unwrap_or(now);
            now = next.max(now + Duration::from_micros(100));
        }
        assert_eq!(wakers.len(), entries.len());
    }

    #[test]
    fn cancelled_entries_are_swept() {
        let base = Instant::now();
        let mut wheel = Wheel::new(base);
        let entries: Vec<_> = (0..5000)
            .map(|i| insert_new(&mut wheel, base + Duration::from_millis(10 + i)))
            .collect();
        for e in &entries[..4000] {
            assert!(e.transition_to_cancelled());
        }
        wheel.note_cancelled(4000);
        assert_eq!(wheel.len(), 1000);
        let fired = fire_all_until(&mut wheel, base + Duration::from_millis(5100));
        assert_eq!(fired, 0, "no waker was registered");
        assert_eq!(wheel.len(), 0);
    }
}

#[cfg(test)]
mod simulation {
    use super::tests::insert_new;
    use super::*;

    /// Drives the wheel the way `park` does (waking exactly at `next_deadline`) and checks
    /// that no timer fires late by more than the simulation step.
    #[test]
    fn parking_at_next_deadline_fires_every_timer_on_time() {
        let base = Instant::now();
        let mut wheel = Wheel::new(base);
        let waker = Waker::noop();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let start = base + Duration::from_millis(50);
        let entries: Vec<_> = (0..3_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let deadline = start + Duration::from_micros(1_000 + seed % 200_000);
                let entry = insert_new(&mut wheel, deadline);
                let _ = entry.poll(waker);
                (deadline, entry)
            })
            .collect();
        let mut now = base;
        let mut wakers = Vec::new();
        let mut worst = Duration::ZERO;
        let mut fired = vec![false; entries.len()];
        while wheel.len() > 0 {
            wheel.process(now, &mut wakers);
            for (i, (deadline, entry)) in entries.iter().enumerate() {
                if !fired[i] && entry.poll(waker) == crate::time::entry::TimerPoll::Fired {
                    fired[i] = true;
                    assert!(*deadline <= now, "fired early");
                    worst = worst.max(now - *deadline);
                }
            }
            let Some(next) = wheel.next_deadline() else {
                break;
            };
            now = next.max(now + Duration::from_micros(10));
        }
        assert!(fired.iter().all(|f| *f), "every timer fired");
        assert_eq!(wheel.len(), 0);
        assert!(
            worst <= Duration::from_micros(10),
            "worst lateness {worst:?}"
        );
    }
}
