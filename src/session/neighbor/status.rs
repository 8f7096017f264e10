//! What `show neighbor` and `show adj-rib` report about one neighbor: its status
//! and counters, its Adj-RIBs as entries, and its settings with secrets masked.

use super::Neighbor;
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
            RibDirection::Out => self
                .rib_out
                .iter()
                .map(|(p, e)| RibEntry {
                    neighbor: self.cfg.address,
                    prefix: *p,
                    next_hop: match e.next_hop {
                        NextHop::Address(a) => Some(a),
                        NextHop::SelfAddress => ctx
                            .and_then(|c| c.self_next_hop(p.family()))
                            .or(self.cfg.local_address),
                    },
                    attributes: e.attributes.clone(),
                })
                .collect(),
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
    if let Some(d) = &c.description {
        s.push_str(&format!(" description {d:?}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_masks_the_md5_password() {
        // The password never shows in `show neighbor configuration`.
        assert!(!describe_config(&super::super::test_config()).contains("secret"));
    }
}
