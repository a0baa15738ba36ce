//! Summary statistics: a cell's median and range, and the confidence interval of a ratio
//! of two cells' medians.

use super::random::{mix, SplitMix64};

/// Bootstrap resamples behind each [`RatioInterval`].
pub const BOOTSTRAP_RESAMPLES: usize = 2_000;

/// The confidence level of a [`RatioInterval`], in percent.
pub const CONFIDENCE_PERCENT: u32 = 95;

/// Median and range of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// The median (mean of the middle two for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// How many samples.
    pub count: usize,
}

impl Stats {
    /// The statistics of `samples`, or `None` if there are none.
    pub fn of(samples: &[f64]) -> Option<Stats> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Some(Stats {
            median: median_of_sorted(&sorted),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            count: sorted.len(),
        })
    }

    /// Half the range relative to the median, in percent (`±x%`).
    pub fn spread_percent(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / 2.0 / self.median.abs() * 100.0
        }
    }
}

/// `median(numerator) / median(denominator)` with its bootstrap confidence interval.
///
/// The interval is the percentile bootstrap: each side's samples are resampled with
/// replacement [`BOOTSTRAP_RESAMPLES`] times (the two sides independently, as they are
/// independent runs), and the interval spans the middle [`CONFIDENCE_PERCENT`]% of the
/// resampled ratios. The resampling is seeded by the samples themselves, so the same
/// samples always give the same interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioInterval {
    /// The ratio of the medians.
    pub ratio: f64,
    /// The interval's lower end.
    pub low: f64,
    /// The interval's upper end.
    pub high: f64,
}

impl RatioInterval {
    /// The ratio of the medians of `numerator` and `denominator` with its interval, or
    /// `None` if a side has no samples or a median of zero.
    pub fn of(numerator: &[f64], denominator: &[f64]) -> Option<RatioInterval> {
        let (num, den) = (Stats::of(numerator)?, Stats::of(denominator)?);
        if den.median == 0.0 {
            return None;
        }
        let seed = mix(&numerator
            .iter()
            .chain(denominator)
            .map(|x| x.to_bits())
            .collect::<Vec<_>>());
        let mut rng = SplitMix64::new(seed);
        let mut scratch = Vec::new();
        let mut ratios: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
            .filter_map(|_| {
                let n = resampled_median(numerator, &mut rng, &mut scratch);
                let d = resampled_median(denominator, &mut rng, &mut scratch);
                (d != 0.0).then(|| n / d)
            })
            .collect();
        let ratio = num.median / den.median;
        if ratios.is_empty() {
            return Some(RatioInterval {
                ratio,
                low: ratio,
                high: ratio,
            });
        }
        ratios.sort_by(f64::total_cmp);
        let tail = (100 - CONFIDENCE_PERCENT) as f64 / 200.0;
        let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
        Some(RatioInterval {
            ratio,
            low: at(tail),
            high: at(1.0 - tail),
        })
    }

    /// Whether the interval spans 1.0: the data cannot tell the two apart.
    pub fn is_tie(&self) -> bool {
        self.low <= 1.0 && 1.0 <= self.high
    }

    /// The reciprocal ratio (denominator over numerator) with its interval.
    pub fn inverse(&self) -> RatioInterval {
        RatioInterval {
            ratio: 1.0 / self.ratio,
            low: 1.0 / self.high,
            high: 1.0 / self.low,
        }
    }
}

/// The median of `sorted` (mean of the middle two for an even count); `sorted` is not empty.
fn median_of_sorted(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The median of `samples.len()` draws from `samples` with replacement.
fn resampled_median(samples: &[f64], rng: &mut SplitMix64, scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend((0..samples.len()).map(|_| samples[rng.below(samples.len())]));
    scratch.sort_by(f64::total_cmp);
    median_of_sorted(scratch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(Stats::of(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert!(Stats::of(&[]).is_none());
    }

    #[test]
    fn spread_is_half_range_over_median() {
        let s = Stats::of(&[9.0, 10.0, 11.0]).unwrap();
        assert_eq!((s.min, s.max, s.count), (9.0, 11.0, 3));
        assert!((s.spread_percent() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn interval_of_a_clear_difference_excludes_one() {
        let fast: Vec<f64> = (0..21).map(|i| 10.0 + (i % 5) as f64 * 0.1).collect();
        let slow: Vec<f64> = (0..21).map(|i| 20.0 + (i % 7) as f64 * 0.2).collect();
        let r = RatioInterval::of(&fast, &slow).unwrap();
        assert!((r.ratio - 10.2 / 20.6).abs() < 1e-9, "{r:?}");
        assert!(r.low <= r.ratio && r.ratio <= r.high, "{r:?}");
        assert!(r.high < 1.0 && !r.is_tie(), "{r:?}");
        let inv = r.inverse();
        assert!(
            inv.low > 1.0 && (inv.ratio * r.ratio - 1.0).abs() < 1e-9,
            "{inv:?}"
        );
    }

    #[test]
    fn overlapping_samples_are_a_tie() {
        let a: Vec<f64> = (0..15).map(|i| 10.0 + (i * 7 % 15) as f64).collect();
        let b: Vec<f64> = (0..15).map(|i| 10.5 + (i * 4 % 15) as f64).collect();
        let r = RatioInterval::of(&a, &b).unwrap();
        assert!(r.is_tie(), "{r:?}");
        // Same samples, same interval: the bootstrap is seeded by the data.
        assert_eq!(RatioInterval::of(&a, &b), Some(r));
    }

    #[test]
    fn no_interval_without_samples_or_with_a_zero_median() {
        assert!(RatioInterval::of(&[], &[1.0]).is_none());
        assert!(RatioInterval::of(&[1.0], &[0.0, 0.0, 1.0]).is_none());
        // One sample a side: a ratio, and an interval that is just that ratio.
        let r = RatioInterval::of(&[2.0], &[4.0]).unwrap();
        assert_eq!((r.ratio, r.low, r.high), (0.5, 0.5, 0.5));
    }
}
