//! Rate limit for log lines that outsiders can trigger at will (a connection from
//! an unknown address, a malformed UPDATE), so nobody who can reach the BGP port
//! can flood the journal.
//!
//! Per interval, the first `burst` messages are logged; the rest are only counted.
//! When that interval is over, the owner logs one line saying how many similar
//! messages were suppressed ([`LogLimiter::flush`], at [`LogLimiter::next_flush`]:
//! the owner's event loop sleeps until then, so the count is reported even when the
//! flood has stopped). Pure and clock-injected: no tokio, no tracing.

use std::time::{Duration, Instant};

/// What to do with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log it.
    Log,
    /// Log it, saying that similar ones are suppressed until the interval ends
    /// (the last one logged in this interval).
    LogLast,
    /// Count it, do not log it.
    Suppress,
}

/// The first `burst` messages of each interval logged, the rest counted.
#[derive(Debug, Clone)]
pub struct LogLimiter {
    /// Messages logged per interval.
    burst: u32,
    /// Length of one interval.
    interval: Duration,
    /// The current interval: when it began, logged and suppressed so far.
    window: Option<Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    logged: u32,
    suppressed: u64,
}

impl LogLimiter {
    /// `burst` messages per `interval` (a burst of 0 is taken as 1).
    pub fn new(burst: u32, interval: Duration) -> LogLimiter {
        LogLimiter {
            burst: burst.max(1),
            interval,
            window: None,
        }
    }

    /// The verdict for one message at `now`. A message after an interval that
    /// suppressed some starts a new interval; call [`LogLimiter::flush`] first to
    /// report the count.
    pub fn check(&mut self, now: Instant) -> Verdict {
        let w = match &mut self.window {
            Some(w) if now.saturating_duration_since(w.start) < self.interval => w,
            _ => self.window.insert(Window {
                start: now,
                logged: 0,
                suppressed: 0,
            }),
        };
        if w.logged < self.burst {
            w.logged += 1;
            if w.logged == self.burst {
                Verdict::LogLast
            } else {
                Verdict::Log
            }
        } else {
            w.suppressed += 1;
            Verdict::Suppress
        }
    }

    /// When the current interval ends, if it suppressed anything (the moment to
    /// call [`LogLimiter::flush`]).
    pub fn next_flush(&self) -> Option<Instant> {
        self.window
            .filter(|w| w.suppressed > 0)
            .map(|w| w.start + self.interval)
    }

    /// At or after the end of an interval: how many messages it suppressed (then
    /// forgotten), if any. `None` while the interval runs or when none was.
    pub fn flush(&mut self, now: Instant) -> Option<u64> {
        let w = self.window?;
        if now.saturating_duration_since(w.start) < self.interval {
            return None;
        }
        self.window = None;
        (w.suppressed > 0).then_some(w.suppressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_suppressed_then_counted_once() {
        let t0 = Instant::now();
        let mut l = LogLimiter::new(3, Duration::from_secs(10));
        let v: Vec<Verdict> = (0..500).map(|_| l.check(t0)).collect();
        assert_eq!(&v[..3], &[Verdict::Log, Verdict::Log, Verdict::LogLast]);
        assert!(v[3..].iter().all(|v| *v == Verdict::Suppress));
        assert_eq!(l.next_flush(), Some(t0 + Duration::from_secs(10)));
        assert_eq!(l.flush(t0 + Duration::from_secs(9)), None, "too early");
        assert_eq!(l.flush(t0 + Duration::from_secs(10)), Some(497));
        assert_eq!(l.flush(t0 + Duration::from_secs(11)), None, "reported once");
        assert_eq!(l.next_flush(), None);
        // A new interval logs again.
        assert_eq!(l.check(t0 + Duration::from_secs(12)), Verdict::Log);
    }

    #[test]
    fn nothing_suppressed_nothing_to_flush() {
        let t0 = Instant::now();
        let mut l = LogLimiter::new(5, Duration::from_secs(1));
        for _ in 0..4 {
            assert_eq!(l.check(t0), Verdict::Log);
        }
        assert_eq!(l.next_flush(), None);
        assert_eq!(l.flush(t0 + Duration::from_secs(2)), None);
    }

    /// A message after an unflushed interval starts a new one: the old count is
    /// lost only if the owner did not flush; every message is either logged or
    /// counted in exactly one flush.
    #[test]
    fn every_message_is_logged_or_counted() {
        let t0 = Instant::now();
        let mut l = LogLimiter::new(10, Duration::from_secs(1));
        let (mut logged, mut counted) = (0u64, 0u64);
        for i in 0..5000u64 {
            let now = t0 + Duration::from_millis(i);
            if let Some(when) = l.next_flush() {
                if now >= when {
                    counted += l.flush(now).unwrap_or(0);
                }
            }
            if l.check(now) != Verdict::Suppress {
                logged += 1;
            }
        }
        counted += l.flush(t0 + Duration::from_secs(100)).unwrap_or(0);
        assert_eq!(logged + counted, 5000);
        assert_eq!(logged, 50, "10 per second for 5 s");
    }
}
