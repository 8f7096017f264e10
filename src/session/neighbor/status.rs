//! What `show neighbor` and `show adj-rib` report about one neighbor: its status
//! and counters, its Adj-RIBs as entries, and its settings with secrets masked.

use super::Neighbor;
use crate::bgp::Family;
use crate::config::NeighborConfig;
use crate::control::{NeighborStatus, RibDirection, RibEntry};
use crate::rib::NextHop;
use crate::session::outbound::{self, SessionContext};

impl Neighbor {
    /// The answer to `show neighbor`.
    pub(super) fn status(&self) -> NeighborStatus {
        let n = self.negotiated.as_ref();
        NeighborStatus {
            peer_address: self.cfg.address,
            local_address: self.local_addr.or(self.cfg.local_address),
            peer_as: self.cfg.peer_as,
            local_as: self.cfg.local_as,
            router_id: self.cfg.router_id,
            peer_router_id: self.peer_router_id,
            state: self.state,
            uptime: self.established_at.map(|t| t.elapsed()),
            hold_time: n.map(|n| n.hold_time).unwrap_or(self.cfg.hold_time),
            families: n
                .map(|n| n.families.clone())
                .unwrap_or_else(|| self.cfg.families.clone()),
            sent: self.sent,
            received: self.received,
            prefixes_in: self.rib_in.len() as u64,
            prefixes_out: self.rib_out.len() as u64,
            last_error: self.last_error.clone(),
            configuration: describe_config(&self.cfg),
        }
    }

    /// The answer to `show adj-rib in|out`, sorted by prefix; `ctx` (the live
    /// session, if any) resolves next-hop self.
    pub(super) fn rib_entries(
        &self,
        dir: RibDirection,
        ctx: Option<&SessionContext>,
    ) -> Vec<RibEntry> {
        let mut v: Vec<RibEntry> = match dir {
            RibDirection::In => self
                .rib_in
                .iter()
                .map(|(p, e)| RibEntry {
                    neighbor: self.cfg.address,
                    prefix: *p,
                    next_hop: e.next_hop,
                    attributes: e.attributes.clone(),
                })
                .collect(),
            RibDirection::Out => {
                self.rib_out
                    .iter()
                    .map(|(p, e)| RibEntry {
                        neighbor: self.cfg.address,
                        prefix: *p,
                        next_hop: match e.next_hop {
                            NextHop::Address(a) => Some(a),
                            // Without a session: the configured local-address, if it
                            // is of the prefix's family (else the route is not sent).
                            NextHop::SelfAddress => ctx
                                .and_then(|c| c.self_next_hop(p.family()))
                                .or(self.cfg.local_address.filter(|a| {
                                    a.is_ipv6() == (p.family() == Family::IPV6_UNICAST)
                                })),
                        },
                        attributes: e.attributes.clone(),
                    })
                    .collect()
            }
        };
        v.sort_by_key(|e| e.prefix);
        v
    }
}

/// The neighbor's settings for `show neighbor configuration`, secrets masked.
pub fn describe_config(c: &NeighborConfig) -> String {
    let families: Vec<&str> = c
        .families
        .iter()
        .map(|f| outbound::family_name(*f))
        .collect();
    let mut s = format!(
        "neighbor {} peer-as {} local-as {} router-id {} port {} hold-time {} passive {} families [{}]",
        c.address,
        c.peer_as,
        c.local_as,
        c.router_id,
        c.port,
        c.hold_time,
        c.passive,
        families.join(", ")
    );
    if let Some(l) = c.local_address {
        s.push_str(&format!(" local-address {l}"));
    }
    if c.md5_password.is_some() {
        s.push_str(" md5-password <set>");
    }
    if let Some(m) = &c.max_prefix {
        let limits: Vec<String> = m
            .limits
            .iter()
            .map(|(f, n)| format!("{} {n}", outbound::family_name(*f)))
            .collect();
        s.push_str(&format!(" max-prefix [{}]", limits.join(", ")));
        if m.warning_only {
            s.push_str(" warning-only");
        }
        if let Some(r) = m.restart_after {
            s.push_str(&format!(" restart-after {r}"));
        }
        if let Some(p) = m.warning_threshold {
            s.push_str(&format!(" warning-threshold {p}%"));
        }
    }
    if let Some(d) = &c.description {
        s.push_str(&format!(" description {d:?}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a session, next-hop self shows the configured local-address only
    /// for routes of its family: an IPv6 route over an IPv4 local-address has no
    /// next hop (and is not sent), rather than an IPv4 one.
    #[test]
    fn next_hop_self_without_a_session_keeps_to_the_family() {
        use std::sync::Arc;

        use crate::rib::Route;

        let mut cfg = super::super::test_config();
        cfg.local_address = Some("192.0.2.7".parse().unwrap());
        let routes: Vec<Route> = ["203.0.113.0/24", "2001:db8::/48"]
            .iter()
            .map(|p| Route {
                prefix: p.parse().unwrap(),
                next_hop: NextHop::SelfAddress,
                attributes: Arc::new(crate::bgp::PathAttributes::default()),
            })
            .collect();
        let (events, _) = crate::control::event_channel(1, 1 << 20);
        let (_tx, rx) = super::super::inbox(1);
        let n = Neighbor::new(
            cfg,
            &routes,
            routes.len(),
            events,
            rx,
            super::super::test_brief(),
        );
        let hops: Vec<(String, Option<std::net::IpAddr>)> = n
            .rib_entries(RibDirection::Out, None)
            .into_iter()
            .map(|e| (e.prefix.to_string(), e.next_hop))
            .collect();
        assert_eq!(
            hops,
            vec![
                (
                    "203.0.113.0/24".to_string(),
                    Some("192.0.2.7".parse().unwrap())
                ),
                ("2001:db8::/48".to_string(), None),
            ]
        );
    }

    /// The metrics count a new neighbor's routes at once, before any state change
    /// (an idle or passive neighbor may not change state for a long time).
    #[test]
    fn a_new_neighbor_publishes_its_route_counts() {
        use std::sync::Arc;

        use crate::rib::Route;

        let mut cfg = super::super::test_config();
        cfg.address = "192.0.2.77".parse().unwrap();
        let routes: Vec<Route> = ["203.0.113.0/24", "203.0.113.128/25"]
            .iter()
            .map(|p| Route {
                prefix: p.parse().unwrap(),
                next_hop: NextHop::SelfAddress,
                attributes: Arc::new(crate::bgp::PathAttributes::default()),
            })
            .collect();
        let (events, _) = crate::control::event_channel(1, 1 << 20);
        let (_tx, rx) = super::super::inbox(1);
        let n = Neighbor::new(cfg, &routes, 2, events, rx, super::super::test_brief());
        assert_eq!(
            n.stats.snapshot().families,
            vec![(Family::IPV4_UNICAST, 0, 2)]
        );
    }

    #[test]
    fn configuration_masks_the_md5_password() {
        // The password never shows in `show neighbor configuration`.
        assert!(!describe_config(&super::super::test_config()).contains("secret"));
    }
}
