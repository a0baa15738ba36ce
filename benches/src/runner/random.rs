//! Seeded pseudo-random numbers for the suite: the runtime order of each repetition and
//! the bootstrap resampling of the report's intervals.
//!
//! Not for anything secret: SplitMix64, small, fast, and the same sequence for the same
//! seed on every machine, so a run's order and a report's intervals can be replayed.

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator that yields the same sequence for the same `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`), without modulo bias worth speaking of for small `n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        // Multiply-shift: the high half of a 64x64 product is uniform over 0..n.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(super) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Mixes several values into one seed, so that each (run seed, workload, repetition) gets
/// its own sequence.
pub(super) fn mix(parts: &[u64]) -> u64 {
    let mut rng = SplitMix64::new(0x5EED);
    let mut seed = 0;
    for &part in parts {
        rng.state ^= part;
        seed = rng.next_u64();
    }
    seed
}

/// A seed from `name`'s bytes (FNV-1a), stable across runs and machines.
pub(super) fn seed_of(name: &str) -> u64 {
    name.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let (mut a, mut b) = (SplitMix64::new(7), SplitMix64::new(7));
        let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        assert_ne!(first[0], SplitMix64::new(8).next_u64());
    }

    #[test]
    fn shuffles_reach_every_order_evenly() {
        // 3 items have 6 orders; 60,000 shuffles give each about 10,000.
        let mut rng = SplitMix64::new(1);
        let mut counts = std::collections::HashMap::new();
        for _ in 0..60_000 {
            let mut items = [0, 1, 2];
            rng.shuffle(&mut items);
            *counts.entry(items).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 6);
        for (order, n) in counts {
            assert!((9_000..11_000).contains(&n), "{order:?} came {n} times");
        }
    }

    #[test]
    fn below_stays_below() {
        let mut rng = SplitMix64::new(3);
        assert!((0..10_000).all(|_| rng.below(5) < 5));
        assert_ne!(mix(&[1, 2, 3]), mix(&[1, 2, 4]));
        assert_ne!(seed_of("timers"), seed_of("timer"));
    }
}
