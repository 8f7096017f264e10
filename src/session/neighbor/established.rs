//! The Established state's traffic: UPDATEs received into the Adj-RIB-In,
//! Adj-RIB-Out deltas and End-of-RIB sent, and ROUTE-REFRESH answered.

use tracing::{debug, info, warn};

use super::noise::Noisy;
use super::wire::write_out;
use super::{Conn, End, Flow, Neighbor};
use crate::bgp::{self, Family, Prefix, RouteRefresh, Update};
use crate::control::{Direction, EventKind, PeerState};
use crate::session::outbound::{self, SessionContext};

impl Neighbor {
    /// An UPDATE from the peer: End-of-RIB, or a change to the Adj-RIB-In, logged and
    /// published, then checked against the max-prefix limits.
    pub(super) async fn on_update(&mut self, conn: &mut Conn, mut u: Update) -> Flow {
        if let Some(family) = u.end_of_rib() {
            info!(peer = %self.cfg.address, family = %family, "End-of-RIB received");
            self.emit(Direction::Receive, EventKind::EndOfRib(family));
            self.stale_on_end_of_rib(family);
            return Flow::Continue;
        }
        if let Some(why) = &u.treat_as_withdraw {
            // The peer can send these at will: rate-limited.
            self.noise.log(
                self.cfg.address,
                Noisy::TreatAsWithdraw,
                &format!(": {why}"),
            );
        }
        let negotiated = conn
            .negotiated
            .as_ref()
            .map_or(&[][..], |n| &n.families[..]);
        let dropped = retain_negotiated(&mut u, negotiated);
        if dropped > 0 {
            self.unnegotiated_dropped = self.unnegotiated_dropped.saturating_add(dropped as u64);
            let detail = format!(
                ": {dropped} in this UPDATE, {} this session",
                self.unnegotiated_dropped
            );
            self.noise
                .log(self.cfg.address, Noisy::Unnegotiated, &detail);
            if u.nlri.is_empty()
                && u.withdrawn.is_empty()
                && u.attributes.mp_reach.is_none()
                && u.attributes.mp_unreach.is_none()
                && u.attributes.flow_reach.is_none()
                && u.attributes.flow_unreach.is_none()
            {
                // Nothing of a negotiated family: nothing to apply or publish.
                return Flow::Continue;
            }
        }
        let change = self.rib_in.apply(&u);
        let mut announced: Vec<Prefix> = u.nlri.clone();
        if let Some(r) = &u.attributes.mp_reach {
            announced.extend(r.nlri.iter().copied());
        }
        let mut withdrawn: Vec<Prefix> = u.withdrawn.clone();
        if let Some(w) = &u.attributes.mp_unreach {
            withdrawn.extend(w.withdrawn.iter().copied());
        }
        // Per UPDATE: debug, or a peer sending many would flood the journal.
        debug!(
            peer = %self.cfg.address,
            announce = %list(&announced),
            withdraw = %list(&withdrawn),
            adj_rib_in = self.rib_in.len(),
            "UPDATE received"
        );
        debug!(peer = %self.cfg.address, ?change, attributes = ?u.attributes, "UPDATE detail");
        self.emit(Direction::Receive, EventKind::Update(Box::new(u)));
        self.check_limits(conn).await
    }

    /// The peer asks for our routes of one family again (RFC 2918): re-send that
    /// family's Adj-RIB-Out. A request for a family the session did not negotiate is
    /// ignored (RFC 2918 §4), and so is a Beginning/End-of-RIB-Refresh marker (RFC 7313
    /// subtypes 1 and 2: the peer re-sending its routes, not asking for ours) or an
    /// unknown subtype.
    pub(super) async fn on_route_refresh(&mut self, conn: &mut Conn, r: RouteRefresh) -> Flow {
        let family = r.family;
        let negotiated = conn
            .negotiated
            .as_ref()
            .is_some_and(|n| n.families.contains(&r.family));
        if r.subtype != 0 {
            info!(peer = %self.cfg.address, %family, subtype = r.subtype, "ROUTE-REFRESH marker received, nothing to re-send");
            return Flow::Continue;
        }
        if !negotiated {
            info!(peer = %self.cfg.address, %family, "ROUTE-REFRESH for a family not negotiated, ignored");
            return Flow::Continue;
        }
        info!(peer = %self.cfg.address, %family, "ROUTE-REFRESH received");
        self.emit(Direction::Receive, EventKind::Refresh(r.family));
        self.rib_out.resend_family(r.family);
        self.send_delta(conn, false).await
    }

    /// What packing UPDATEs for this connection needs to know.
    pub(super) fn context(&self, conn: &Conn) -> SessionContext {
        SessionContext {
            local_as: self.cfg.local_as,
            peer_as: self.cfg.peer_as,
            configured_local: self.cfg.local_address,
            socket_local: conn.local.ip(),
            codec: conn.opts,
        }
    }

    /// Sends the Adj-RIB-Out delta (Established only), then End-of-RIB per family
    /// when `eor`.
    pub(super) async fn send_delta(&mut self, conn: &mut Conn, eor: bool) -> Flow {
        self.dirty = false;
        let Some(n) = conn.negotiated.clone() else {
            return Flow::Continue;
        };
        if self.state != PeerState::Established {
            return Flow::Continue;
        }
        let delta = self.rib_out.take_delta(&n.families);
        let mut packed = outbound::pack_delta(&self.context(conn), &delta);
        let flows = self.rib_out.flows.take_delta(&n.families);
        if !flows.is_empty() {
            outbound::pack_flow_delta(&self.context(conn), &flows, &mut packed);
        }
        for s in &packed.skipped {
            warn!(peer = %self.cfg.address, "{s}");
        }
        let mut out: Vec<u8> = Vec::with_capacity(packed.messages.iter().map(Vec::len).sum());
        for m in &packed.messages {
            out.extend_from_slice(m);
        }
        self.sent.update += packed.messages.len() as u64;
        if eor {
            for f in &n.families {
                out.extend_from_slice(&bgp::encode_end_of_rib(*f, &conn.opts));
                self.sent.update += 1;
            }
        }
        if packed.announced + packed.withdrawn > 0 {
            info!(
                peer = %self.cfg.address,
                announced = packed.announced,
                withdrawn = packed.withdrawn,
                messages = packed.messages.len(),
                "UPDATEs sent"
            );
        }
        match write_out(conn, &out).await {
            Ok(()) => Flow::Continue,
            Err(e) => Flow::End(End::Down(e)),
        }
    }
}

/// Drops from `u` the routes (announced or withdrawn, classic or MP) of a family
/// not in `families`, the families negotiated on this session; returns how many
/// prefixes were dropped.
///
/// RFC 4760 §8: a family is exchanged only when both speakers advertised it, so a
/// peer sending another family breaks the rule. Neither RFC 4760 nor RFC 7606
/// prescribes a reset for it (RFC 4760 §7, for an incorrect MP attribute, says to
/// ignore the routes of that AFI/SAFI; resetting is only a MAY there): the routes
/// are ignored and counted, the session stays up. Were they kept, a peer could
/// fill the Adj-RIB-In with a family no max-prefix limit counts (limits exist
/// only for configured families, and negotiated ones are a subset of those).
pub(super) fn retain_negotiated(u: &mut Update, families: &[Family]) -> usize {
    let keep = |v: &mut Vec<Prefix>| -> usize {
        let before = v.len();
        v.retain(|p| families.contains(&p.family()));
        before - v.len()
    };
    let mut dropped = keep(&mut u.nlri) + keep(&mut u.withdrawn);
    let a = &mut u.attributes;
    if let Some(r) = &mut a.mp_reach {
        if families.contains(&r.family) {
            dropped += keep(&mut r.nlri);
        } else {
            dropped += r.nlri.len();
            a.mp_reach = None;
        }
    }
    if let Some(w) = &mut a.mp_unreach {
        if families.contains(&w.family) {
            dropped += keep(&mut w.withdrawn);
        } else {
            dropped += w.withdrawn.len();
            a.mp_unreach = None;
        }
    }
    // MP attributes the decoder left unparsed (not negotiated): one each.
    dropped += a.unnegotiated.len();
    a.unnegotiated.clear();
    // Flow rules of a family not negotiated, the same way.
    if a.flow_reach
        .as_ref()
        .is_some_and(|r| !families.contains(&r.family))
    {
        dropped += a.flow_reach.take().map_or(0, |r| r.nlri.len());
    }
    if a.flow_unreach
        .as_ref()
        .is_some_and(|w| !families.contains(&w.family))
    {
        dropped += a.flow_unreach.take().map_or(0, |w| w.withdrawn.len());
    }
    dropped
}

/// "a, b, c" for up to 16 prefixes, then "... (N in total)".
fn list(prefixes: &[Prefix]) -> String {
    let mut s: Vec<String> = prefixes.iter().take(16).map(|p| p.to_string()).collect();
    if prefixes.len() > 16 {
        s.push(format!("... ({} in total)", prefixes.len()));
    }
    s.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::{MpReach, MpUnreach, PathAttributes};

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    fn mixed() -> Update {
        Update {
            withdrawn: vec![p("10.9.0.0/24")],
            nlri: vec![p("10.0.0.0/24"), p("10.0.1.0/24")],
            attributes: PathAttributes {
                next_hop: Some("192.0.2.9".parse().unwrap()),
                mp_reach: Some(MpReach {
                    family: Family::IPV6_UNICAST,
                    next_hops: vec!["2001:db8::9".parse().unwrap()],
                    nlri: vec![p("2001:db8:1::/48"), p("2001:db8:2::/48")],
                }),
                mp_unreach: Some(MpUnreach {
                    family: Family::IPV6_UNICAST,
                    withdrawn: vec![p("2001:db8:3::/48")],
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Only IPv4 negotiated: the MP attributes of IPv6 go, with their prefixes.
    #[test]
    fn ipv4_session_drops_mp_ipv6() {
        let mut u = mixed();
        assert_eq!(retain_negotiated(&mut u, &[Family::IPV4_UNICAST]), 3);
        assert_eq!(u.nlri.len(), 2);
        assert_eq!(u.withdrawn.len(), 1);
        assert!(u.attributes.mp_reach.is_none() && u.attributes.mp_unreach.is_none());
        assert!(u.attributes.next_hop.is_some());
    }

    /// Only IPv6 negotiated: the classic IPv4 fields are emptied.
    #[test]
    fn ipv6_session_drops_classic_ipv4() {
        let mut u = mixed();
        assert_eq!(retain_negotiated(&mut u, &[Family::IPV6_UNICAST]), 3);
        assert!(u.nlri.is_empty() && u.withdrawn.is_empty());
        assert_eq!(u.attributes.mp_reach.unwrap().nlri.len(), 2);
        assert_eq!(u.attributes.mp_unreach.unwrap().withdrawn.len(), 1);
    }

    #[test]
    fn both_negotiated_keeps_everything() {
        let mut u = mixed();
        let before = u.clone();
        let both = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];
        assert_eq!(retain_negotiated(&mut u, &both), 0);
        assert_eq!(u, before);
    }
}
