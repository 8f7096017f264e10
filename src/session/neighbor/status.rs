//! What `show neighbor` and `show adj-rib` report about one neighbor: its status
//! and counters, its Adj-RIBs as entries, and its settings with secrets masked
//! (rendered by config/render.rs, the one renderer of a neighbor's settings).

use super::Neighbor;
use crate::bgp::Family;
use crate::control::{NeighborStatus, RibDirection, RibEntry};
use crate::rib::NextHop;
use crate::session::outbound::SessionContext;

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
            configuration: self.cfg.to_toml_string(),
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
                    stale: e.stale,
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
                        stale: false,
                    })
                    .collect()
            }
        };
        v.sort_by_key(|e| e.prefix);
        v
    }

    /// The flow rules of `show adj-rib in|out`, sorted by rule.
    pub(super) fn flow_entries(&self, dir: RibDirection) -> Vec<crate::control::FlowEntry> {
        let mut v: Vec<crate::control::FlowEntry> = match dir {
            RibDirection::In => self
                .rib_in
                .flows()
                .map(|(n, a)| crate::control::FlowEntry {
                    neighbor: self.cfg.address,
                    nlri: n.clone(),
                    next_hop: None,
                    attributes: a.clone(),
                })
                .collect(),
            RibDirection::Out => self
                .rib_out
                .flows
                .iter()
                .map(|r| crate::control::FlowEntry {
                    neighbor: self.cfg.address,
                    nlri: r.nlri.clone(),
                    next_hop: r.next_hop,
                    attributes: r.attributes.clone(),
                })
                .collect(),
        };
        v.sort_by(|a, b| a.nlri.cmp(&b.nlri));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Families are named by Family's Display, for every family: one the config
    /// does not accept today (ipv4 flow) is printed by its name, not as "other
    /// family".
    #[test]
    fn configuration_names_families_by_display() {
        let flow = Family::from_codes(1, 133);
        let mut cfg = super::super::test_config();
        cfg.families = vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST, flow];
        cfg.max_prefix = Some(crate::config::MaxPrefix {
            limits: vec![(Family::IPV6_UNICAST, 10), (flow, 20)],
            warning_only: false,
            restart_after: None,
            warning_threshold: None,
        });
        let text = cfg.to_toml_string();
        assert!(
            text.contains(r#"families = ["ipv4 unicast", "ipv6 unicast", "ipv4 flow"]"#),
            "{text}"
        );
        assert!(
            text.contains(r#"max-prefix = { "ipv6 unicast" = 10, "ipv4 flow" = 20 }"#),
            "{text}"
        );
    }

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

    /// `show neighbor configuration` is the documented one (docs/configuration.md):
    /// the effective `[[neighbor]]` block in the file's own syntax, from
    /// config/render.rs, and the password never shows.
    #[test]
    fn configuration_is_the_toml_block_and_masks_the_md5_password() {
        let cfg = super::super::test_config();
        let (events, _) = crate::control::event_channel(1, 1 << 20);
        let (_tx, rx) = super::super::inbox(1);
        let n = Neighbor::new(cfg.clone(), &[], 0, events, rx, super::super::test_brief());
        let text = n.status().configuration;
        assert!(!text.contains("secret"), "{text}");
        assert!(text.starts_with("[[neighbor]]\n"), "{text}");
        assert!(
            text.contains(&format!("peer-as = {}\n", cfg.peer_as)),
            "{text}"
        );
        assert!(text.contains("# md5-password is set (not shown)"), "{text}");
        assert_eq!(text, cfg.to_toml_string());
    }
}
