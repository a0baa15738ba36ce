//! Percentiles of many measured values (round trips, timer lateness), by nearest rank.
//!
//! The p-th percentile of `n` values is the value at rank `ceil(p / 100 * n)` (1-based) in
//! ascending order, the smallest value that at least `p`% of the values do not exceed. It is
//! always one of the measured values, never an interpolation, so a p99 of 120 us means that
//! a real round trip took 120 us.

/// The distribution of a set of durations, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Distribution {
    /// How many values.
    pub count: usize,
    /// The median (nearest rank).
    pub p50: u64,
    /// The 99th percentile (nearest rank).
    pub p99: u64,
    /// The largest value.
    pub max: u64,
    /// The arithmetic mean.
    pub mean: f64,
}

impl Distribution {
    /// Sorts `values` and summarises them; `None` if there are none.
    pub fn of(values: &mut [u64]) -> Option<Distribution> {
        values.sort_unstable();
        let values = &*values;
        let sum: u128 = values.iter().map(|&v| u128::from(v)).sum();
        Some(Distribution {
            count: values.len(),
            p50: percentile(values, 50.0)?,
            p99: percentile(values, 99.0)?,
            max: *values.last()?,
            mean: sum as f64 / values.len() as f64,
        })
    }
}

/// The `p`-th percentile (0 to 100) of `sorted`, which must be in ascending order, by
/// nearest rank; `None` if `sorted` is empty. `p = 0` gives the smallest value.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    debug_assert!(sorted.windows(2).all(|w| w[0] <= w[1]), "not sorted");
    let p = p.clamp(0.0, 100.0);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_of_one_to_a_hundred() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), Some(50));
        assert_eq!(percentile(&values, 99.0), Some(99));
        assert_eq!(percentile(&values, 99.5), Some(100));
        assert_eq!(percentile(&values, 100.0), Some(100));
        assert_eq!(percentile(&values, 0.0), Some(1));
        assert_eq!(percentile(&values, 1.0), Some(1));
        assert_eq!(percentile(&values, 1.01), Some(2));
    }

    #[test]
    fn small_sets_pick_a_measured_value() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 50.0), Some(7));
        assert_eq!(percentile(&[7], 99.0), Some(7));
        // Ten values: the p99 is the largest, the median the fifth (no interpolation).
        let ten: Vec<u64> = (10..20).collect();
        assert_eq!(percentile(&ten, 50.0), Some(14));
        assert_eq!(percentile(&ten, 99.0), Some(19));
        // Out-of-range percentiles are clamped.
        assert_eq!(percentile(&ten, 250.0), Some(19));
        assert_eq!(percentile(&ten, -3.0), Some(10));
    }

    #[test]
    fn distribution_sorts_first() {
        let mut values = vec![900, 100, 500, 300, 700, 200, 400, 600, 800, 1_000];
        let d = Distribution::of(&mut values).unwrap();
        assert_eq!((d.count, d.p50, d.p99, d.max), (10, 500, 1_000, 1_000));
        assert!((d.mean - 550.0).abs() < 1e-9);
        // A long tail moves the p99 but not the median.
        let mut tail: Vec<u64> = std::iter::repeat_n(10, 990).chain([5_000; 10]).collect();
        let d = Distribution::of(&mut tail).unwrap();
        assert_eq!((d.p50, d.p99, d.max), (10, 10, 5_000));
        tail.push(5_000);
        let d = Distribution::of(&mut tail).unwrap();
        assert_eq!(d.p99, 5_000);
        assert!(Distribution::of(&mut []).is_none());
    }
}
