//! The request classes of the `mixed_*` workloads: what a request asks the server's handler
//! to do before it answers, encoded in the request's bytes.
//!
//! Every byte of a request carries its class, so whichever read sees its first bytes can
//! tell the class without keeping state across reads (the handler keeps none, so the
//! connection task stays the size of a plain echo's). A class byte of [`FAST`] is a plain
//! echo; `1..=BURN_MAX_US` burns that many microseconds of CPU; [`BLOCK`] blocks the
//! thread for `BLOCK_FOR`. The client draws each request's class from [`RequestMix`]; the
//! server runs it with [`serve`].
//!
//! A request split across two reads would run its handler twice. With 64-byte requests
//! written in one `write` over loopback, one message in flight per connection, a read sees
//! the whole request; the split does not occur in practice, for any runtime alike.

use std::time::Duration;

use crate::runner::SplitMix64;

/// The class byte of a plain echo.
pub(crate) const FAST: u8 = 0;
/// The most CPU a request may ask to burn, in microseconds (its class byte).
pub(crate) const BURN_MAX_US: u8 = 200;
/// The class byte of a request that blocks its thread for `BLOCK_FOR`.
pub(crate) const BLOCK: u8 = 255;
/// How long a blocking request blocks its thread.
pub(crate) const BLOCK_FOR: Duration = Duration::from_millis(5);

/// The share of each class among a client's requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequestMix {
    /// One request in this many burns CPU.
    pub burn_one_in: u32,
    /// The CPU a burning request asks for, drawn uniformly, in microseconds.
    pub burn_us: (u8, u8),
    /// One request in this many blocks its thread for `BLOCK_FOR` (0: none).
    pub block_one_in: u32,
}

impl RequestMix {
    /// The `mixed_*` rows' mix: one request in 10 burns 10 to 100 us of CPU, one in 2,000
    /// blocks for 5 ms, the rest are plain echoes.
    pub const SERVER: RequestMix = RequestMix {
        burn_one_in: 10,
        burn_us: (10, 100),
        block_one_in: 2_000,
    };

    /// Draws the class byte of the next request.
    pub(crate) fn draw(&self, rng: &mut SplitMix64) -> u8 {
        if self.block_one_in > 0 && rng.below(self.block_one_in as usize) == 0 {
            return BLOCK;
        }
        if self.burn_one_in > 0 && rng.below(self.burn_one_in as usize) == 0 {
            let (low, high) = self.burn_us;
            let span = usize::from(high.saturating_sub(low)) + 1;
            return low
                .saturating_add(rng.below(span) as u8)
                .clamp(1, BURN_MAX_US);
        }
        FAST
    }

    /// The mean handler time per request, in microseconds (for the description).
    pub fn mean_handler_us(&self) -> f64 {
        let mut mean = 0.0;
        if self.burn_one_in > 0 {
            let burn = (f64::from(self.burn_us.0) + f64::from(self.burn_us.1)) / 2.0;
            mean += burn / f64::from(self.burn_one_in);
        }
        if self.block_one_in > 0 {
            mean += BLOCK_FOR.as_secs_f64() * 1e6 / f64::from(self.block_one_in);
        }
        mean
    }
}

/// Runs the handler a request's first bytes ask for, on the calling thread, as a server's
/// handler would: burns CPU (the calibrated loop of [`crate::cpu::burn_micros`]: the same
/// work on every runtime, however often the thread is preempted), or blocks in `sleep`.
/// Unknown class bytes are plain echoes. Call [`crate::cpu::calibrate`] before serving,
/// so no handler pays for the calibration.
pub(crate) fn serve(request: &[u8]) {
    match request.first().copied() {
        Some(BLOCK) => std::thread::sleep(BLOCK_FOR),
        Some(us @ 1..=BURN_MAX_US) => {
            std::hint::black_box(crate::cpu::burn_micros(u64::from(us)));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn the_server_mix_has_its_shares() {
        let mut rng = SplitMix64::new(7);
        let mix = RequestMix::SERVER;
        let (mut fast, mut burn, mut block) = (0, 0, 0);
        for _ in 0..200_000 {
            match mix.draw(&mut rng) {
                FAST => fast += 1,
                BLOCK => block += 1,
                us => {
                    assert!((10..=100).contains(&us), "burn of {us} us");
                    burn += 1;
                }
            }
        }
        assert!((19_000..21_000).contains(&burn), "{burn} burns");
        assert!((60..140).contains(&block), "{block} blocks");
        assert!(fast > 170_000);
    }

    #[test]
    fn the_mean_handler_time_counts_both_slow_classes() {
        // 55 us one time in 10, 5,000 us one time in 2,000.
        assert!((RequestMix::SERVER.mean_handler_us() - 8.0).abs() < 1e-9);
        let wide = RequestMix {
            burn_one_in: 2,
            burn_us: (150, 200),
            block_one_in: 0,
        };
        assert!((wide.mean_handler_us() - 87.5).abs() < 1e-9);
        let none = RequestMix {
            burn_one_in: 0,
            burn_us: (10, 100),
            block_one_in: 0,
        };
        assert_eq!(none.mean_handler_us(), 0.0);
    }

    #[test]
    fn serve_burns_and_blocks_as_asked() {
        crate::cpu::calibrate();
        let start = Instant::now();
        serve(&[50; 64]);
        // Calibrated on the best of several trials: at least the asked time, less a margin
        // for a calibration trial that ran faster than this one.
        let burned = start.elapsed();
        assert!(burned >= Duration::from_micros(40), "{burned:?}");
        let start = Instant::now();
        serve(&[BLOCK; 64]);
        assert!(start.elapsed() >= BLOCK_FOR);
        let start = Instant::now();
        serve(&[FAST; 64]);
        serve(&[]);
        assert!(start.elapsed() < BLOCK_FOR);
    }
}
