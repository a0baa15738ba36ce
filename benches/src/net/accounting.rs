//! The load generator's bookkeeping, apart from its sockets so it can be tested alone.
//!
//! [`Exchange`] follows one connection's message in flight: how much of the request is
//! written and how much of the echo has come back. [`Tally`] counts the round trips that
//! complete inside the measurement window (and keeps their round-trip times), so warm-up
//! traffic before the window and the drain after it never count.

use std::time::{Duration, Instant};

/// One connection's request/response in flight: `size` bytes out, the same `size` back.
#[derive(Debug, Clone)]
pub struct Exchange {
    size: usize,
    written: usize,
    received: usize,
    started: Instant,
}

/// The peer sent back more than was asked for: not an echo of one message in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overrun {
    /// Bytes expected for the message.
    pub expected: usize,
    /// Bytes received for it.
    pub received: usize,
}

impl std::fmt::Display for Overrun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the server sent back {} bytes for a {}-byte message",
            self.received, self.expected
        )
    }
}

impl Exchange {
    /// A message of `size` bytes (at least 1), started at `now`.
    pub fn new(size: usize, now: Instant) -> Self {
        assert!(size > 0, "an echo message needs at least one byte");
        Exchange {
            size,
            written: 0,
            received: 0,
            started: now,
        }
    }

    /// Starts the next message at `now`.
    pub fn restart(&mut self, now: Instant) {
        self.written = 0;
        self.received = 0;
        self.started = now;
    }

    /// Bytes of the request still to write.
    pub fn unwritten(&self) -> usize {
        self.size - self.written
    }

    /// Records that `n` more request bytes were written.
    pub fn wrote(&mut self, n: usize) {
        debug_assert!(n <= self.unwritten());
        self.written += n;
    }

    /// Records `n` echoed bytes received at `now`; returns the round-trip time if that
    /// completed the message.
    ///
    /// # Errors
    ///
    /// [`Overrun`] if the echo is longer than the message.
    pub fn received(&mut self, n: usize, now: Instant) -> Result<Option<Duration>, Overrun> {
        self.received += n;
        if self.received > self.size {
            return Err(Overrun {
                expected: self.size,
                received: self.received,
            });
        }
        Ok((self.received == self.size).then(|| now.saturating_duration_since(self.started)))
    }
}

/// Round trips completed inside a window `[start, end)`.
#[derive(Debug, Clone)]
pub struct Tally {
    start: Instant,
    end: Instant,
    messages: u64,
    /// Round-trip times in nanoseconds, if kept.
    rtts: Option<Vec<u64>>,
}

impl Tally {
    /// Counts completions from `start` for `window`; keeps round-trip times if `keep_rtts`.
    pub fn new(start: Instant, window: Duration, keep_rtts: bool) -> Self {
        Tally {
            start,
            end: start + window,
            messages: 0,
            rtts: keep_rtts.then(Vec::new),
        }
    }

    /// Records a round trip that completed at `now` after `rtt`; counts it only if `now`
    /// falls inside the window.
    pub fn record(&mut self, now: Instant, rtt: Duration) {
        if now < self.start || now >= self.end {
            return;
        }
        self.messages += 1;
        if let Some(rtts) = &mut self.rtts {
            rtts.push(u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX));
        }
    }

    /// Counts a round trip that completed at `now` (if inside the window) without keeping
    /// its time: one of the `mixed_*` rows' slow requests, whose times the report leaves out.
    pub fn count(&mut self, now: Instant) {
        if now >= self.start && now < self.end {
            self.messages += 1;
        }
    }

    /// Whether the window has begun at `now`.
    pub fn has_started(&self, now: Instant) -> bool {
        now >= self.start
    }

    /// Whether `now` is past the window.
    pub fn is_over(&self, now: Instant) -> bool {
        now >= self.end
    }

    /// When the window ends.
    pub fn end(&self) -> Instant {
        self.end
    }

    /// Round trips counted.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    /// Round trips per second over the whole window.
    pub fn per_second(&self) -> f64 {
        self.messages as f64 / (self.end - self.start).as_secs_f64()
    }

    /// The round-trip times kept, in nanoseconds (empty unless asked for).
    pub fn into_rtts(self) -> Vec<u64> {
        self.rtts.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_message_completes_when_all_of_it_is_back() {
        let t0 = Instant::now();
        let mut ex = Exchange::new(64, t0);
        assert_eq!(ex.unwritten(), 64);
        ex.wrote(40);
        assert_eq!(ex.unwritten(), 24);
        ex.wrote(24);
        assert_eq!(ex.unwritten(), 0);
        // The echo may come back in pieces.
        assert_eq!(ex.received(10, t0 + MS), Ok(None));
        assert_eq!(ex.received(53, t0 + 2 * MS), Ok(None));
        assert_eq!(ex.received(1, t0 + 3 * MS), Ok(Some(3 * MS)));
        ex.restart(t0 + 5 * MS);
        assert_eq!(ex.unwritten(), 64);
        assert_eq!(ex.received(64, t0 + 6 * MS), Ok(Some(MS)));
    }

    #[test]
    fn an_echo_longer_than_the_message_is_an_error() {
        let t0 = Instant::now();
        let mut ex = Exchange::new(64, t0);
        ex.wrote(64);
        assert_eq!(
            ex.received(65, t0),
            Err(Overrun {
                expected: 64,
                received: 65
            })
        );
    }

    #[test]
    fn only_the_window_counts() {
        let t0 = Instant::now();
        let mut tally = Tally::new(t0 + 10 * MS, 100 * MS, true);
        tally.record(t0, MS); // warm-up
        tally.record(t0 + 9 * MS, MS); // warm-up
        tally.record(t0 + 10 * MS, 2 * MS); // first instant of the window
        tally.record(t0 + 60 * MS, 3 * MS);
        tally.record(t0 + 110 * MS - Duration::from_nanos(1), 4 * MS); // last instant
        tally.record(t0 + 110 * MS, MS); // the window is half-open
        tally.record(t0 + 500 * MS, MS); // drain
        assert!(!tally.is_over(t0 + 109 * MS));
        assert!(tally.is_over(t0 + 110 * MS));
        assert_eq!(tally.messages(), 3);
        assert!((tally.per_second() - 30.0).abs() < 1e-9);
        assert_eq!(tally.into_rtts(), [2_000_000, 3_000_000, 4_000_000]);
    }

    #[test]
    fn round_trip_times_are_kept_only_if_asked() {
        let t0 = Instant::now();
        let mut tally = Tally::new(t0, Duration::from_secs(1), false);
        tally.record(t0, MS);
        assert_eq!(tally.messages(), 1);
        assert!(tally.into_rtts().is_empty());
    }
}
