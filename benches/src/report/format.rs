//! Number and date formatting shared by the renderers.

use crate::runner::RatioInterval;

/// A value with about three significant digits (`55.3`, `0.882`, `320`).
pub(super) fn value(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A ratio with two decimals and an `x` (`0.85x`).
pub(super) fn ratio(r: f64) -> String {
    format!("{r:.2}x")
}

/// A ratio with its confidence interval, marked as a tie when the interval spans 1.0:
/// `0.87x [0.82, 0.93]`, `1.02x [0.97, 1.08] tie`.
pub(super) fn ratio_interval(r: &RatioInterval) -> String {
    let tie = if r.is_tie() { " tie" } else { "" };
    format!("{:.2}x [{:.2}, {:.2}]{tie}", r.ratio, r.low, r.high)
}

/// A UTC timestamp (`2026-05-01 12:34 UTC`) from seconds since the Unix epoch.
pub(super) fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3_600,
        secs % 3_600 / 60
    )
}

/// Howard Hinnant's days-to-civil conversion (proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_767_225_600 + 3_660), "2026-01-01 01:01 UTC");
    }

    #[test]
    fn values() {
        assert_eq!(value(321.4), "321");
        assert_eq!(value(55.34), "55.3");
        assert_eq!(value(7.123), "7.12");
        assert_eq!(value(0.8816), "0.882");
    }
}
