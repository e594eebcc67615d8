//! One clock per session: wall time at the start plus a monotonic offset.
//!
//! Timestamps within a session never go backwards, even if the system clock
//! is stepped, and print as RFC 3339 UTC with microseconds. A fixed clock
//! (for tests) stands still.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

/// A session's clock.
#[derive(Clone, Debug)]
pub struct Clock {
    start: DateTime<Utc>,
    started: Instant,
    fixed: bool,
    /// The second whose text is in `prefix`.
    cached_second: i64,
    /// `YYYY-MM-DDTHH:MM:SS.` of `cached_second`.
    prefix: [u8; 20],
}

/// When the program started, as noted by [`mark_program_start`].
static PROGRAM_START: OnceLock<(DateTime<Utc>, Instant)> = OnceLock::new();

/// Notes now as the time the program started. The binary calls it first
/// thing, so the first session's clock counts start-up too.
pub fn mark_program_start() {
    PROGRAM_START.get_or_init(|| (Utc::now(), Instant::now()));
}

impl Clock {
    /// A clock starting now.
    pub fn start() -> Clock {
        Clock::new(Utc::now(), false)
    }

    /// A clock that started when the program did (see
    /// [`mark_program_start`]; now, if it was never called).
    pub fn since_program_start() -> Clock {
        let &(start, started) = PROGRAM_START.get_or_init(|| (Utc::now(), Instant::now()));
        Clock {
            started,
            ..Clock::new(start, false)
        }
    }

    /// A clock that always reads `at`, for reproducible output.
    pub fn fixed(at: DateTime<Utc>) -> Clock {
        Clock::new(at, true)
    }

    fn new(start: DateTime<Utc>, fixed: bool) -> Clock {
        Clock {
            start,
            started: Instant::now(),
            fixed,
            cached_second: i64::MIN,
            prefix: [0; 20],
        }
    }

    /// When the session started.
    pub fn start_time(&self) -> DateTime<Utc> {
        self.start
    }

    /// Time since the start (zero for a fixed clock).
    pub fn elapsed(&self) -> Duration {
        if self.fixed {
            Duration::ZERO
        } else {
            self.started.elapsed()
        }
    }

    /// The current time on this clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.at(self.elapsed())
    }

    /// The time `elapsed` after the start.
    pub fn at(&self, elapsed: Duration) -> DateTime<Utc> {
        self.start + TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX)
    }

    /// Appends the current time on this clock as RFC 3339 with microseconds.
    /// The per-chunk path: integer microseconds, no calendar arithmetic
    /// except once a second.
    pub fn write_now(&mut self, out: &mut Vec<u8>) {
        let elapsed = i64::try_from(self.elapsed().as_micros()).unwrap_or(i64::MAX);
        let micros = self.start.timestamp_micros().saturating_add(elapsed);
        let second = micros.div_euclid(1_000_000);
        if second == self.cached_second {
            self.push_micros(micros.rem_euclid(1_000_000) as u32, out);
        } else {
            let time = DateTime::from_timestamp_micros(micros).unwrap_or(self.start);
            self.write_rfc3339(time, out);
        }
    }

    /// Appends the cached prefix, six digits of microseconds and `Z`.
    fn push_micros(&self, micros: u32, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
        let mut micros = micros.min(999_999);
        let mut digits = [b'0'; 7];
        digits[6] = b'Z';
        for digit in digits[..6].iter_mut().rev() {
            *digit = b'0' + (micros % 10) as u8;
            micros /= 10;
        }
        out.extend_from_slice(&digits);
    }

    /// Appends `time` as `2026-11-24T17:01:02.123456Z`, reusing the text of
    /// the date and second when it has not changed since the last call.
    pub fn write_rfc3339(&mut self, time: DateTime<Utc>, out: &mut Vec<u8>) {
        let second = time.timestamp();
        if second != self.cached_second {
            let text = time.format("%Y-%m-%dT%H:%M:%S.").to_string();
            if text.len() == self.prefix.len() {
                self.prefix.copy_from_slice(text.as_bytes());
                self.cached_second = second;
            } else {
                // Years beyond 9999 or before 0: no cache, exact text.
                out.extend_from_slice(time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string().as_bytes());
                return;
            }
        }
        self.push_micros(time.timestamp_subsec_micros(), out);
    }
}

/// `time` as RFC 3339 UTC with microseconds.
pub fn format_rfc3339(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_microseconds() {
        let at: DateTime<Utc> = "2026-11-24T17:01:02.000123Z".parse().unwrap();
        let mut clock = Clock::fixed(at);
        let mut out = Vec::new();
        clock.write_rfc3339(clock.now(), &mut out);
        clock.write_rfc3339(at + TimeDelta::microseconds(5), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-24T17:01:02.000123Z2026-11-24T17:01:02.000128Z"
        );
        assert_eq!(format_rfc3339(at), "2026-11-24T17:01:02.000123Z");
    }

    #[test]
    fn now_matches_the_calendar_path() {
        let at: DateTime<Utc> = "2026-11-24T17:01:02.000123Z".parse().unwrap();
        let mut clock = Clock::fixed(at);
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        clock.write_now(&mut fast);
        clock.write_now(&mut fast);
        let mut other = Clock::fixed(at);
        other.write_rfc3339(at, &mut slow);
        other.write_rfc3339(at, &mut slow);
        assert_eq!(fast, slow);
        let mut live = Clock::start();
        let mut text = Vec::new();
        live.write_now(&mut text);
        let parsed: DateTime<Utc> = std::str::from_utf8(&text).unwrap().parse().unwrap();
        assert!(parsed.timestamp_micros() >= live.start_time().timestamp_micros());
    }

    #[test]
    fn cache_follows_the_second() {
        let at: DateTime<Utc> = "2026-11-24T23:59:59.999999Z".parse().unwrap();
        let mut clock = Clock::fixed(at);
        let mut out = Vec::new();
        clock.write_rfc3339(at, &mut out);
        clock.write_rfc3339(at + TimeDelta::microseconds(1), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-11-24T23:59:59.999999Z2026-11-25T00:00:00.000000Z"
        );
    }
}
