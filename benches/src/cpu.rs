//! Calibrated CPU work: a spin loop doing real arithmetic for a given number of microseconds.
//!
//! [`calibrate`] measures the loop once per process (best of several trials, so a noisy
//! neighbour makes the work longer rather than shorter) and every later [`burn_micros`]
//! call runs the same number of iterations, whichever runtime calls it. The work is the
//! same for every runtime even if the machine gets busier later.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static ITERATIONS_PER_MICRO: OnceLock<f64> = OnceLock::new();

/// Runs `iterations` rounds of an xorshift generator and returns the final state.
///
/// The seed and the result pass through [`black_box`], so the compiler can neither
/// precompute nor drop the loop.
pub fn spin(iterations: u64) -> u64 {
    let mut x = black_box(0x9E37_79B9_7F4A_7C15_u64);
    for i in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_add(i);
    }
    black_box(x)
}

/// Measures the spin loop and fixes the iterations-per-microsecond rate for the process.
///
/// Idempotent: only the first call measures. Returns the rate.
pub fn calibrate() -> f64 {
    *ITERATIONS_PER_MICRO.get_or_init(|| {
        const TRIAL_ITERATIONS: u64 = 2_000_000;
        spin(TRIAL_ITERATIONS / 4); // warm up caches and the CPU clock
        let best = (0..9)
            .map(|_| {
                let start = Instant::now();
                spin(TRIAL_ITERATIONS);
                start.elapsed()
            })
            .min()
            .unwrap_or(Duration::from_millis(1))
            .max(Duration::from_nanos(1));
        TRIAL_ITERATIONS as f64 / (best.as_nanos() as f64 / 1_000.0)
    })
}

/// The calibrated rate; calibrates first if nobody has yet.
pub fn iterations_per_micro() -> f64 {
    calibrate()
}

/// Burns about `micros` microseconds of CPU (as calibrated) and returns a value to keep.
pub fn burn_micros(micros: u64) -> u64 {
    spin((iterations_per_micro() * micros as f64) as u64)
}

/// How many CPUs' worth of spinning `threads` threads get right now: `threads` on an idle
/// machine, less when other processes (or the hypervisor) take CPU time.
///
/// Times the same ~20 ms spin on one thread and then on `threads` threads at once, five
/// times each, and compares the medians. Reported at the start and end of a run so a
/// reader can tell whether the multi-threaded figures had the cores they assume.
pub fn parallel_capacity(threads: usize) -> f64 {
    let threads = threads.max(1);
    let iterations = (iterations_per_micro() * 20_000.0) as u64;
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_secs_f64()
    };
    let single = median(
        (0..5)
            .map(|_| {
                let start = Instant::now();
                spin(iterations);
                start.elapsed()
            })
            .collect(),
    );
    let parallel = median(
        (0..5)
            .map(|_| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| spin(iterations));
                    }
                });
                start.elapsed()
            })
            .collect(),
    );
    (threads as f64 * single / parallel.max(1e-9)).min(threads as f64)
}
