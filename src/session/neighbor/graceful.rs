//! Graceful restart (RFC 4724) in the neighbor task.
//!
//! As the Receiving Speaker (RFC 4724 §4.2), when both sides advertised the
//! capability:
//! - the session is lost without a NOTIFICATION (the peer closed the TCP
//!   connection, a read or write failed) or our Hold timer expired (the peer went
//!   silent: what a crashed or rebooting peer looks like when its kernel did not
//!   close the connection; RFC 4724 §4.2 covers "termination of the TCP session",
//!   and we end it only because the peer is gone): its Adj-RIB-In is kept, every
//!   route marked stale, for the Restart Time the peer advertised; the routes of
//!   a family its capability does not list are purged at once (none listed:
//!   nothing is kept). Any other
//!   NOTIFICATION, sent or received, ends the session the RFC 4271 way (RFC 4724
//!   §4.2 applies to TCP termination only; RFC 8538 is not implemented);
//! - the peer is back (Established): the stale routes of a family the new OPEN
//!   does not list with the Forwarding State bit, or no longer negotiates, are
//!   purged at once (§4.2); the others wait for the peer's End-of-RIB of that
//!   family, while the routes it announces again become fresh;
//! - End-of-RIB of a family: what is still stale in that family is purged (§4.2);
//! - the session is lost again before that End-of-RIB: what is still stale is
//!   purged before the routes are marked again (no endless keeping);
//! - the Restart Time runs out before the peer is back, or [`STALE_ROUTES_TIME`]
//!   after it is back without its End-of-RIB (the upper bound §4.2 allows):
//!   every stale route is purged.
//!
//! A purge publishes the purged prefixes as an UPDATE event with withdrawals, so
//! helpers see exactly what went away and when; until then they see nothing
//! withdrawn (the session's `down` state event says why it went down).
//!
//! As the Restarting Speaker (§4.1): our capability is built in `session::open`
//! (R bit from [`super::Neighbor::restarted`]); End-of-RIB follows our initial
//! update on every session (`established::send_delta`), except on the first
//! session after our restart, where it waits [`eor_settle`] for the helpers to
//! announce their routes again (sent as they come), so the peer does not purge
//! them at our End-of-RIB.

use std::time::{Duration, Instant};

use tracing::info;

use super::Neighbor;
use crate::bgp::iana::ERR_HOLD_TIMER;
use crate::bgp::{Family, MpUnreach, PathAttributes, Prefix, Update};
use crate::control::{Direction, EventKind};
use crate::session::open::Negotiated;

/// How long stale routes may wait for the peer's End-of-RIB once its session is
/// back (RFC 4724 §4.2 allows such an upper bound; 360 s is the common default
/// of other implementations' "stale-path time").
pub(super) const STALE_ROUTES_TIME: Duration = Duration::from_secs(360);

/// How long End-of-RIB is held back on the first session after our own restart,
/// at most: the helpers start with the daemon and announce their routes again
/// over their first seconds; an End-of-RIB sent with the configured routes alone
/// would make the peer purge theirs (RFC 4724 §4.2), and get them back a moment
/// later. Capped by [`eor_settle`].
pub(super) const EOR_SETTLE: Duration = Duration::from_secs(10);

/// How long the End-of-RIB of a session waits after the initial update: none
/// unless we restarted (`restarted`: the R bit went out) and graceful restart was
/// negotiated; then [`EOR_SETTLE`], at most half of the peer's restart time and
/// half of ours (`ours`), so the peer's timer never runs out first.
pub(super) fn eor_settle(restarted: bool, ours: Option<u16>, n: &Negotiated) -> Option<Duration> {
    let theirs = n.graceful_restart.as_ref()?.restart_time;
    let ours = ours?;
    if !restarted {
        return None;
    }
    let cap = Duration::from_secs(u64::from(theirs.min(ours)) / 2);
    let settle = EOR_SETTLE.min(cap);
    (!settle.is_zero()).then_some(settle)
}

/// Stale routes held for a peer that is restarting.
#[derive(Debug)]
pub(super) struct Stale {
    /// When every stale route still held is purged.
    pub(super) deadline: Instant,
    /// Families whose stale routes wait for the peer's End-of-RIB.
    pub(super) families: Vec<Family>,
}

/// The NOTIFICATION seen on a session: its code, and whether we sent it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Notified {
    pub(super) code: u8,
    pub(super) sent: bool,
}

/// Whether a session that ended with `notified` keeps the peer's routes (see
/// the module header): only without a NOTIFICATION, or with our own Hold Timer
/// Expired.
pub(super) fn keeps_routes(notified: Option<Notified>) -> bool {
    match notified {
        None => true,
        Some(n) => n.sent && n.code == ERR_HOLD_TIMER,
    }
}

impl Neighbor {
    /// At the loss of an Established session: keeps the Adj-RIB-In as stale when
    /// graceful restart was negotiated and the way the session ended allows it.
    /// False: the caller clears the Adj-RIB-In as usual.
    pub(super) fn keep_stale(&mut self) -> bool {
        let Some(n) = &self.negotiated else {
            return false;
        };
        let Some(gr) = &n.graceful_restart else {
            return false;
        };
        let secs = gr.restart_time;
        if !keeps_routes(self.notified) || secs == 0 {
            return false;
        }
        // RFC 4724 §4.2: only the families listed in the peer's capability keep
        // their routes; a peer that lists none (helper only) keeps nothing.
        let (listed, unlisted): (Vec<Family>, Vec<Family>) = n
            .families
            .iter()
            .partition(|f| gr.families.iter().any(|(g, _)| g == *f));
        if listed.is_empty() {
            return false;
        }
        // Lost again before its End-of-RIB: what it did not announce again since
        // the last loss is not kept once more (a peer that keeps reconnecting
        // without End-of-RIB would keep it forever), as BIRD does.
        if self.stale.is_some() {
            self.drop_stale("the peer restarted again before its End-of-RIB");
        }
        let held = self.rib_in.mark_stale();
        let restart_time = Duration::from_secs(u64::from(secs));
        info!(
            peer = %self.cfg.address,
            routes = held,
            restart_time = secs,
            "graceful restart: keeping {held} routes from {} as stale for up to {secs}s",
            self.cfg.address,
        );
        self.stale = Some(Stale {
            deadline: Instant::now() + restart_time,
            families: listed,
        });
        for f in unlisted {
            self.purge_stale(
                Some(f),
                "family not in the peer's graceful restart capability",
            );
        }
        true
    }

    /// When the stale routes are purged, if any are held.
    pub(super) fn stale_deadline(&self) -> Option<Instant> {
        self.stale.as_ref().map(|s| s.deadline)
    }

    /// The peer is back: purge at once the families it did not preserve
    /// forwarding state for (RFC 4724 §4.2), wait for End-of-RIB for the others.
    pub(super) fn stale_on_established(&mut self, n: &Negotiated) {
        let Some(stale) = self.stale.take() else {
            return;
        };
        let mut waiting = Vec::new();
        for f in stale.families {
            let kept = n.families.contains(&f)
                && n.graceful_restart
                    .as_ref()
                    .is_some_and(|g| g.forwarding_preserved(f));
            if kept {
                waiting.push(f);
            } else {
                self.purge_stale(Some(f), "the peer did not preserve its forwarding state");
            }
        }
        if waiting.is_empty() {
            // Stale routes of families no longer negotiated, if any.
            self.purge_stale(None, "no family waits for End-of-RIB");
            return;
        }
        self.stale = Some(Stale {
            deadline: Instant::now() + STALE_ROUTES_TIME,
            families: waiting,
        });
    }

    /// End-of-RIB of `family` from the peer: what is still stale there goes.
    pub(super) fn stale_on_end_of_rib(&mut self, family: Family) {
        let Some(stale) = &mut self.stale else {
            return;
        };
        let before = stale.families.len();
        stale.families.retain(|f| *f != family);
        if stale.families.len() == before {
            return;
        }
        let done = stale.families.is_empty();
        self.purge_stale(Some(family), "End-of-RIB received");
        if done {
            self.stale = None;
        }
    }

    /// The restart time (or [`STALE_ROUTES_TIME`]) ran out: every stale route goes.
    pub(super) fn stale_expired(&mut self) {
        if self.stale.take().is_some() {
            self.purge_stale(None, "restart time expired");
        }
    }

    /// Every stale route goes now (a clear, a stop, a session that keeps
    /// nothing), published as withdrawn; no timer is left.
    pub(super) fn drop_stale(&mut self, why: &str) {
        self.stale = None;
        self.purge_stale(None, why);
    }

    /// Removes the stale routes of `family` (all when None), logs and publishes
    /// them as withdrawn, one UPDATE event per family.
    pub(super) fn purge_stale(&mut self, family: Option<Family>, why: &str) {
        let gone = self.rib_in.purge_stale(family);
        if gone.is_empty() {
            return;
        }
        info!(
            peer = %self.cfg.address,
            routes = gone.len(),
            reason = why,
            "graceful restart: {} stale routes from {} purged: {why}",
            gone.len(),
            self.cfg.address
        );
        for u in withdrawals(gone) {
            self.emit(Direction::Receive, EventKind::Update(Box::new(u)));
        }
        self.publish_stats();
    }
}

/// The prefixes as UPDATEs that withdraw them, one per family: IPv4 unicast in
/// the classic field, the others in MP_UNREACH_NLRI.
fn withdrawals(mut gone: Vec<Prefix>) -> Vec<Update> {
    gone.sort_by_key(|p| p.family());
    let mut out: Vec<Update> = Vec::new();
    for chunk in gone.chunk_by(|a, b| a.family() == b.family()) {
        let family = chunk[0].family();
        let mut u = Update::default();
        if family == Family::IPV4_UNICAST {
            u.withdrawn = chunk.to_vec();
        } else {
            u.attributes = PathAttributes {
                mp_unreach: Some(MpUnreach {
                    family,
                    withdrawn: chunk.to_vec(),
                }),
                ..Default::default()
            };
        }
        out.push(u);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::iana::{ERR_CEASE, ERR_UPDATE};

    /// RFC 4724 §4.2: TCP termination keeps the routes; a NOTIFICATION does not,
    /// except our own Hold Timer Expired (the peer went silent).
    #[test]
    fn which_endings_keep_the_routes() {
        assert!(keeps_routes(None));
        let n = |code, sent| Some(Notified { code, sent });
        assert!(keeps_routes(n(ERR_HOLD_TIMER, true)));
        assert!(!keeps_routes(n(ERR_HOLD_TIMER, false)));
        assert!(!keeps_routes(n(ERR_CEASE, false)));
        assert!(!keeps_routes(n(ERR_CEASE, true)));
        assert!(!keeps_routes(n(ERR_UPDATE, true)));
    }

    /// End-of-RIB waits only after our restart, with graceful restart on both
    /// sides, and never longer than half of either restart time.
    #[test]
    fn end_of_rib_settle_time_and_its_caps() {
        use crate::session::open::{local_open, negotiate};
        let settle = |restarted, ours: Option<u16>, theirs: Option<u16>| {
            let mut c = crate::session::neighbor::test_config();
            c.graceful_restart = ours;
            let mut p = c.clone();
            p.graceful_restart = theirs;
            p.router_id = "192.0.2.254".parse().unwrap();
            (p.local_as, p.peer_as) = (c.peer_as, c.local_as);
            let n = negotiate(&c, &local_open(&c, restarted), &local_open(&p, false)).unwrap();
            eor_settle(restarted, ours, &n)
        };
        let s = Duration::from_secs;
        assert_eq!(settle(true, Some(120), Some(120)), Some(EOR_SETTLE));
        assert_eq!(settle(false, Some(120), Some(120)), None);
        assert_eq!(settle(true, Some(120), None), None);
        assert_eq!(settle(true, None, Some(120)), None);
        assert_eq!(settle(true, Some(120), Some(8)), Some(s(4)));
        assert_eq!(settle(true, Some(6), Some(120)), Some(s(3)));
        assert_eq!(settle(true, Some(120), Some(1)), None);
        assert_eq!(settle(true, Some(0), Some(120)), None);
    }

    #[test]
    fn withdrawals_one_update_per_family() {
        let p = |s: &str| -> Prefix { s.parse().unwrap() };
        let u = withdrawals(vec![p("2001:db8::/32"), p("10.0.0.0/8"), p("10.1.0.0/16")]);
        assert_eq!(u.len(), 2);
        let v4 = u.iter().find(|u| !u.withdrawn.is_empty()).unwrap();
        assert_eq!(v4.withdrawn.len(), 2);
        let v6 = u
            .iter()
            .find(|u| u.attributes.mp_unreach.is_some())
            .unwrap();
        assert_eq!(
            v6.attributes.mp_unreach.as_ref().unwrap().withdrawn,
            vec![p("2001:db8::/32")]
        );
    }
}
