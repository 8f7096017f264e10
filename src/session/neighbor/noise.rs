//! Log lines a peer can trigger at will, rate-limited per neighbor and per kind of
//! line (one [`LogLimiter`] each), so a peer cannot flood the journal.
//!
//! Per kind: [`BURST`] lines per [`INTERVAL`], then only counted. The count of
//! suppressed lines is logged (one line, "suppressed N similar messages: ...")
//! when the next line of that kind comes after the interval, when the session
//! ends, and on time while idle after max-prefix; a flood that stops in
//! mid-session is reported at the latest when the session ends (the connection
//! loop has no timer for it).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::system::ratelimit::{LogLimiter, Verdict};

/// Lines logged per kind and interval...
pub(super) const BURST: u32 = 5;
/// ...of this length; the rest are counted.
pub(super) const INTERVAL: Duration = Duration::from_secs(10);

/// The kinds of line a peer can repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Noisy {
    /// Routes of a family the session did not negotiate, dropped.
    Unnegotiated,
    /// A malformed UPDATE treated as withdraw (RFC 7606).
    TreatAsWithdraw,
    /// A connection refused while idle after max-prefix.
    IdleRefused,
    /// A family at its max-prefix warning threshold (session kept).
    PrefixThreshold,
    /// A family above its max-prefix with warning-only (session kept).
    PrefixExceeded,
}

impl Noisy {
    const ALL: [Noisy; 5] = [
        Noisy::Unnegotiated,
        Noisy::TreatAsWithdraw,
        Noisy::IdleRefused,
        Noisy::PrefixThreshold,
        Noisy::PrefixExceeded,
    ];

    fn index(self) -> usize {
        match self {
            Noisy::Unnegotiated => 0,
            Noisy::TreatAsWithdraw => 1,
            Noisy::IdleRefused => 2,
            Noisy::PrefixThreshold => 3,
            Noisy::PrefixExceeded => 4,
        }
    }

    /// The line, without the details of one occurrence.
    pub(super) fn text(self) -> &'static str {
        match self {
            Noisy::Unnegotiated => "routes of a family not negotiated dropped",
            Noisy::TreatAsWithdraw => "malformed UPDATE treated as withdraw (RFC 7606)",
            Noisy::IdleRefused => "connection refused: idle after max-prefix",
            Noisy::PrefixThreshold => "prefixes at the max-prefix warning threshold",
            Noisy::PrefixExceeded => {
                "maximum number of prefixes exceeded (warning only, session kept)"
            }
        }
    }

    /// A warning (else an info line).
    fn is_warning(self) -> bool {
        !matches!(self, Noisy::IdleRefused)
    }
}

/// One limiter per [`Noisy`] kind, for one neighbor.
#[derive(Debug)]
pub(super) struct Noise {
    limiters: Vec<LogLimiter>,
}

impl Default for Noise {
    fn default() -> Noise {
        Noise {
            limiters: Noisy::ALL
                .iter()
                .map(|_| LogLimiter::new(BURST, INTERVAL))
                .collect(),
        }
    }
}

impl Noise {
    /// Logs one line of `kind` (`detail` after the text) unless its limiter
    /// suppresses it; first reports what the previous interval suppressed.
    pub(super) fn log(&mut self, peer: IpAddr, kind: Noisy, detail: &str) {
        let now = Instant::now();
        self.flush_one(peer, kind, now);
        let Some(l) = self.limiters.get_mut(kind.index()) else {
            return;
        };
        let text = kind.text();
        let tail = match l.check(now) {
            Verdict::Log => "",
            Verdict::LogLast => "; more such lines are only counted for a while",
            Verdict::Suppress => return,
        };
        if kind.is_warning() {
            warn!(peer = %peer, "{text}{detail}{tail}");
        } else {
            info!(peer = %peer, "{text}{detail}{tail}");
        }
    }

    /// When the earliest interval that suppressed lines ends (the moment to call
    /// [`Noise::flush`]), if any.
    pub(super) fn next_flush(&self) -> Option<Instant> {
        self.limiters
            .iter()
            .filter_map(LogLimiter::next_flush)
            .min()
    }

    /// Reports the suppressed counts of every kind whose interval is over; with
    /// `all`, of every kind (the session ends: nothing later would report them).
    pub(super) fn flush(&mut self, peer: IpAddr, all: bool) {
        let now = Instant::now();
        for kind in Noisy::ALL {
            let at = if all { now + INTERVAL } else { now };
            self.flush_one(peer, kind, at);
        }
    }

    fn flush_one(&mut self, peer: IpAddr, kind: Noisy, now: Instant) {
        let Some(l) = self.limiters.get_mut(kind.index()) else {
            return;
        };
        if let Some(k) = l.flush(now) {
            let text = kind.text();
            if kind.is_warning() {
                warn!(peer = %peer, suppressed = k, "suppressed {k} similar messages: {text}");
            } else {
                info!(peer = %peer, suppressed = k, "suppressed {k} similar messages: {text}");
            }
        }
    }

    /// Lines of `kind` suppressed and not reported yet (for tests).
    #[cfg(test)]
    pub(super) fn pending(&self, kind: Noisy) -> bool {
        self.limiters
            .get(kind.index())
            .is_some_and(|l| l.next_flush().is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Beyond the burst, lines of one kind are counted, not logged; other kinds
    /// keep their own budget; the end of a session reports the count at once.
    #[test]
    fn per_kind_budget_and_flush_at_session_end() {
        let peer: IpAddr = "192.0.2.254".parse().unwrap();
        let mut n = Noise::default();
        for _ in 0..BURST {
            n.log(peer, Noisy::TreatAsWithdraw, "");
        }
        assert!(!n.pending(Noisy::TreatAsWithdraw));
        n.log(peer, Noisy::TreatAsWithdraw, "");
        assert!(n.pending(Noisy::TreatAsWithdraw));
        assert!(!n.pending(Noisy::IdleRefused));
        n.flush(peer, false);
        assert!(n.pending(Noisy::TreatAsWithdraw), "the interval runs on");
        n.flush(peer, true);
        assert!(!n.pending(Noisy::TreatAsWithdraw));
    }
}
