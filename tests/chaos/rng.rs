//! [`Rng`]: a small deterministic random number generator (SplitMix64), so that a seed names
//! one chaos plan exactly, on any machine.

use std::ops::Range;
use std::time::Duration;

/// SplitMix64 (Steele, Lea and Flood): one `u64` of state, a good spread for test plans.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    /// An independent generator for the part of the plan named by `stream` (a task, a
    /// connection), so that adding draws to one part does not shift the others.
    pub(crate) fn fork(&self, stream: u64) -> Rng {
        Rng::new(mix(self.state ^ mix(stream.wrapping_add(0x5EED))))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A number in `range` (which must not be empty).
    pub(crate) fn range(&mut self, range: Range<usize>) -> usize {
        assert!(range.start < range.end, "empty range {range:?}");
        range.start + (self.next_u64() % (range.end - range.start) as u64) as usize
    }

    /// True once in `n` draws on average (never for `n == 0`).
    pub(crate) fn one_in(&mut self, n: usize) -> bool {
        n != 0 && self.next_u64() % n as u64 == 0
    }

    /// A duration of `range` microseconds.
    pub(crate) fn micros(&mut self, range: Range<usize>) -> Duration {
        Duration::from_micros(self.range(range) as u64)
    }

    /// One of `items`.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0..items.len())]
    }
}

/// The SplitMix64 finaliser: a bijection of `u64` that spreads every input bit.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Byte `index` of the deterministic sequence named `key`: every byte depends on its
/// position, so a lost, repeated or misplaced chunk of a stream shows in a comparison.
pub(crate) fn stream_byte(key: u64, index: u64) -> u8 {
    let word = mix(key ^ mix(index / 8));
    (word >> ((index % 8) * 8)) as u8
}

/// Fills `out` with bytes `start..start + out.len()` of the sequence `key`.
pub(crate) fn fill_stream(key: u64, start: u64, out: &mut [u8]) {
    for (i, b) in out.iter_mut().enumerate() {
        *b = stream_byte(key, start + i as u64);
    }
}

/// The first position at which `got` differs from the sequence `key` starting at `start`.
pub(crate) fn first_mismatch(key: u64, start: u64, got: &[u8]) -> Option<usize> {
    got.iter()
        .enumerate()
        .position(|(i, &b)| b != stream_byte(key, start + i as u64))
}
