//! The max-prefix limit (`max-prefix` and its options in the neighbor's config):
//! checked after every UPDATE is applied to the Adj-RIB-In, and the idle time that
//! follows a Cease for it.
//!
//! Per family, the count of prefixes held is compared with the limit:
//! - at `max-prefix-warning-threshold` percent: a warning (log line and
//!   `prefix-limit` event), once until the count falls clearly below the threshold
//!   again (see [`hysteresis`]);
//! - above the limit with `max-prefix-warning-only`: the same, once until the count
//!   falls clearly back below the limit;
//! - above the limit otherwise: NOTIFICATION Cease subcode 1 "Maximum Number of
//!   Prefixes Reached" (RFC 4486 §4: data = AFI, SAFI, the upper bound), session
//!   down, then [`Neighbor::hold_down`]: Idle, neither connecting nor accepting the
//!   peer, for `max-prefix-restart-after` seconds, or until a teardown command.
//!
//! A peer must not be able to flood the journal by hovering around a limit: a
//! warning is re-armed only once the count has fallen [`hysteresis`] prefixes
//! below the point it crossed (5 % of the limit, at least 1), and the warning lines
//! (not the Cease's) go through the neighbor's rate limit (`noise`). The events
//! are not rate-limited: there is at most one per UPDATE received, and every such
//! UPDATE is an event already.

use std::time::Duration;

use tracing::{info, warn};

use super::noise::Noisy;
use super::{far_future, Conn, Flow, Neighbor, NeighborCommand};
use crate::bgp::iana::{CEASE_MAX_PREFIX, ERR_CEASE};
use crate::bgp::{Family, Notification};
use crate::control::{Direction, EventKind, PeerState, PrefixLimit};

/// How far above its thresholds a family is, so each warning is given once per
/// crossing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Level {
    Below,
    Threshold,
    Exceeded,
}

/// The Cease for a family above `maximum` (RFC 4486 §4: AFI 2 octets, SAFI 1
/// octet, the prefix upper bound 4 octets).
pub(super) fn max_prefix_cease(family: Family, maximum: u32) -> Notification {
    let mut data = Vec::with_capacity(7);
    data.extend_from_slice(&family.afi.code().to_be_bytes());
    data.push(family.safi.code());
    data.extend_from_slice(&maximum.to_be_bytes());
    Notification {
        code: ERR_CEASE,
        subcode: CEASE_MAX_PREFIX,
        data,
    }
}

/// The count at which the warning threshold (`pct` percent of `maximum`) is
/// reached: rounded up and at least 1, so a small limit never warns at 0
/// prefixes (5 % of 10 is 1, not 0).
pub(super) fn threshold(maximum: u32, pct: u8) -> u64 {
    (u64::from(maximum) * u64::from(pct)).div_ceil(100).max(1)
}

/// How far below the point it crossed (the limit, or the warning threshold) the
/// count must fall before that warning can be given again: 5 % of the limit,
/// rounded up, at least 1.
pub(super) fn hysteresis(maximum: u64) -> u64 {
    maximum.div_ceil(20).max(1)
}

/// The level to remember after a check that found `now` where `was` was
/// remembered: a rise is taken at once, a fall only past each crossing point minus
/// the [`hysteresis`], so hovering around a limit or threshold warns once.
fn settle(was: Level, now: Level, prefixes: u64, maximum: u64, threshold: Option<u64>) -> Level {
    if now >= was {
        return now;
    }
    let margin = hysteresis(maximum);
    let mut level = was;
    while level > now {
        let rearmed = match level {
            Level::Exceeded => prefixes.saturating_add(margin) <= maximum,
            Level::Threshold => threshold.map_or(true, |t| prefixes.saturating_add(margin) < t),
            Level::Below => true,
        };
        if !rearmed {
            break;
        }
        level = match level {
            Level::Exceeded => Level::Threshold,
            _ => Level::Below,
        };
    }
    level
}

impl Neighbor {
    /// Checks every limited family after an UPDATE; a family above its limit
    /// without warning-only ends the session with Cease subcode 1. The
    /// Adj-RIB-In holds only negotiated families (`established::retain_negotiated`),
    /// a subset of the configured ones: an integer `max-prefix` limits every family
    /// stored, a table the families it lists.
    pub(super) async fn check_limits(&mut self, conn: &mut Conn) -> Flow {
        let Some(m) = self.cfg.max_prefix.clone() else {
            return Flow::Continue;
        };
        for (family, maximum) in m.limits {
            let prefixes = self.rib_in.count(family) as u64;
            let threshold = m.warning_threshold.map(|pct| threshold(maximum, pct));
            let level = if prefixes > u64::from(maximum) {
                Level::Exceeded
            } else if threshold.is_some_and(|t| prefixes >= t) {
                Level::Threshold
            } else {
                Level::Below
            };
            let was = self.limit_level(family);
            self.set_limit_level(
                family,
                settle(was, level, prefixes, u64::from(maximum), threshold),
            );
            if level <= was {
                continue;
            }
            let exceeded = level == Level::Exceeded;
            let cease = exceeded && !m.warning_only;
            let name = family.to_string();
            let detail = format!(": {name}, {prefixes} prefixes, maximum {maximum}");
            if cease {
                warn!(peer = %self.cfg.address, family = %name, prefixes, maximum, cease, "maximum number of prefixes exceeded");
            } else if exceeded {
                self.noise
                    .log(self.cfg.address, Noisy::PrefixExceeded, &detail);
            } else {
                self.noise
                    .log(self.cfg.address, Noisy::PrefixThreshold, &detail);
            }
            self.emit(
                Direction::Receive,
                EventKind::PrefixLimit(PrefixLimit {
                    family,
                    prefixes,
                    maximum,
                    exceeded,
                    cease,
                }),
            );
            if cease {
                self.hold_after_down = Some(m.restart_after.map(|s| Duration::from_secs(s.into())));
                let reason = format!(
                    "maximum number of prefixes reached for {name} ({prefixes} > {maximum})"
                );
                return self
                    .notify_and_close(conn, max_prefix_cease(family, maximum), reason)
                    .await;
            }
        }
        Flow::Continue
    }

    fn limit_level(&self, family: Family) -> Level {
        self.limit_levels
            .iter()
            .find(|(f, _)| *f == family)
            .map_or(Level::Below, |(_, l)| *l)
    }

    fn set_limit_level(&mut self, family: Family, level: Level) {
        match self.limit_levels.iter_mut().find(|(f, _)| *f == family) {
            Some((_, l)) => *l = level,
            None => self.limit_levels.push((family, level)),
        }
    }

    /// Idle after a max-prefix Cease, for `restart` (None: until a teardown
    /// command). The peer's connections are closed as they arrive, other commands
    /// are handled as without a connection. false: the task must end.
    pub(super) async fn hold_down(&mut self, restart: Option<Duration>) -> bool {
        self.set_state(PeerState::Idle);
        match restart {
            Some(d) => {
                info!(peer = %self.cfg.address, seconds = d.as_secs(), "idle after max-prefix, restarting later")
            }
            None => {
                info!(peer = %self.cfg.address, "idle after max-prefix until a teardown command or a reload changes the neighbor")
            }
        }
        let deadline = match restart {
            Some(d) => tokio::time::Instant::now() + d,
            None => far_future(),
        };
        let timer = tokio::time::sleep_until(deadline);
        tokio::pin!(timer);
        loop {
            let flush = self.noise.next_flush();
            tokio::select! {
                _ = &mut timer, if restart.is_some() => break,
                _ = super::sleep_until_std(flush), if flush.is_some() => {
                    self.noise.flush(self.cfg.address, false);
                }
                cmd = self.rx.recv() => match cmd {
                    None => return false,
                    Some(NeighborCommand::Incoming(s)) => {
                        // The peer can reconnect at will: rate-limited.
                        self.noise.log(self.cfg.address, Noisy::IdleRefused, "");
                        drop(s);
                    }
                    Some(NeighborCommand::Teardown(_)) => {
                        info!(peer = %self.cfg.address, "max-prefix idle ended by a teardown command");
                        break;
                    }
                    Some(c) => {
                        if let Some(done) = self.command_offline(c) {
                            let _ = done.send(());
                            return false;
                        }
                    }
                },
            }
        }
        // Reconnect at once, not after the backoff of the failures so far.
        self.failures = 0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4486 §4: "AFI (2 octets), SAFI (1 octet), prefix upper bound (4 octets)".
    #[test]
    fn cease_data_is_afi_safi_bound() {
        let n = max_prefix_cease(Family::IPV6_UNICAST, 0x0001_0203);
        assert_eq!((n.code, n.subcode), (6, 1));
        assert_eq!(n.data, vec![0, 2, 1, 0, 1, 2, 3]);
    }

    #[test]
    fn threshold_rounds_up_at_least_one() {
        assert_eq!(threshold(10, 5), 1);
        assert_eq!(threshold(1, 1), 1);
        assert_eq!(threshold(3, 50), 2);
        assert_eq!(threshold(1000, 90), 900);
        assert_eq!(threshold(u32::MAX, 100), u64::from(u32::MAX));
    }

    #[test]
    fn settle_keeps_exceeded_near_the_limit() {
        assert_eq!(hysteresis(40), 2);
        assert_eq!(
            settle(Level::Exceeded, Level::Below, 40, 40, None),
            Level::Exceeded
        );
        assert_eq!(
            settle(Level::Exceeded, Level::Below, 39, 40, None),
            Level::Exceeded
        );
        assert_eq!(
            settle(Level::Exceeded, Level::Below, 38, 40, None),
            Level::Below
        );
        assert_eq!(
            settle(Level::Below, Level::Exceeded, 41, 40, None),
            Level::Exceeded
        );
    }

    /// Threshold 50 of 40 (20), margin 2: from above the limit down to 19 keeps
    /// the threshold armed-off; 17 re-arms it.
    #[test]
    fn settle_steps_down_one_crossing_at_a_time() {
        let t = Some(20);
        assert_eq!(
            settle(Level::Exceeded, Level::Below, 19, 40, t),
            Level::Threshold
        );
        assert_eq!(
            settle(Level::Threshold, Level::Below, 18, 40, t),
            Level::Threshold
        );
        assert_eq!(
            settle(Level::Threshold, Level::Below, 17, 40, t),
            Level::Below
        );
        assert_eq!(
            settle(Level::Threshold, Level::Threshold, 30, 40, t),
            Level::Threshold
        );
    }
}
