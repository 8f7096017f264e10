//! Applying a new configuration to the running daemon: the smallest change that
//! gets there. New neighbors come up, removed ones get Cease (peer de-configured),
//! a neighbor whose session settings changed restarts (Cease, other configuration
//! change), and on the others only the route differences are announced/withdrawn
//! (so a config route withdrawn at run time stays withdrawn unless the file
//! changes it).
//!
//! "Session settings" are compared as the session uses them
//! ([`crate::config::NeighborConfig::session_view`]; the rule, [`must_restart`],
//! is also the one a hitless restart's adoption refuses a session by):
//! the description is only shown, so a new one is handed to the running task in
//! place; families are a set (their order in the file changes nothing the peer
//! sees that matters). Every other key, including any added later, restarts.

use std::collections::{HashMap, HashSet};

use tracing::info;

use super::{flows_for, routes_for, stop_together, Daemon};
use crate::bgp::iana::{CEASE_CONFIG_CHANGE, CEASE_PEER_DECONFIGURED};
use crate::bgp::FlowNlri;
use crate::bgp::Prefix;
use crate::config::{must_restart, Config};
use crate::rib::{FlowRoute, Route};
use crate::session::NeighborCommand;

impl Daemon {
    pub(super) async fn apply(&mut self, new: Config) {
        let old = std::mem::replace(&mut self.config, new);
        let new = self.config.clone();
        let mut removed = 0;
        let mut restarted = 0;
        let mut added = 0;
        let mut updated = 0;
        // Removed and changed neighbors are stopped together (each within the
        // stop grace), not one after another: a few slow peers must not hold the
        // core loop past the watchdog or the reload's reply timeout.
        let mut stopping = Vec::new();
        let mut restart = Vec::new();
        for o in &old.neighbors {
            if !new.neighbors.iter().any(|n| n.address == o.address) {
                if let Some(h) = self.detach_neighbor(o.address) {
                    stopping.push((
                        h,
                        CEASE_PEER_DECONFIGURED,
                        "neighbor removed from the configuration",
                    ));
                }
                self.api_routes.remove(&o.address);
                self.api_flows.remove(&o.address);
                self.withdrawn_routes.remove(&o.address);
                self.withdrawn_flows.remove(&o.address);
                removed += 1;
            }
        }
        for n in &new.neighbors {
            if let Some(o) = old.neighbors.iter().find(|o| o.address == n.address) {
                if must_restart(o, n) {
                    if let Some(h) = self.detach_neighbor(n.address) {
                        stopping.push((h, CEASE_CONFIG_CHANGE, "neighbor configuration changed"));
                    }
                    restart.push(n.clone());
                }
            }
        }
        stop_together(stopping).await;
        for n in restart {
            self.start_neighbor(n);
            restarted += 1;
        }
        for n in &new.neighbors {
            match old.neighbors.iter().find(|o| o.address == n.address) {
                None => {
                    self.start_neighbor(n.clone());
                    added += 1;
                }
                Some(o) if must_restart(o, n) => {}
                Some(o) => {
                    if o != n {
                        // Same session, other details (description, family order).
                        if let Some(h) = self.neighbors.get(&n.address) {
                            h.send(NeighborCommand::Reconfigure(Box::new(n.clone())));
                        }
                    }
                    // Flow rules: withdraw the ones gone, send the new and changed.
                    if let Some(h) = self.neighbors.get(&n.address) {
                        // Rules a helper or the CLI announced stay, and win.
                        let api = self.api_flows.get(&n.address);
                        let by_api = |r: &FlowRoute| api.is_some_and(|k| k.contains_key(&r.nlri));
                        let before = flows_for(&old, o);
                        let mut after = flows_for(&new, n);
                        after.retain(|a| !by_api(a));
                        let gone: Vec<FlowNlri> = before
                            .iter()
                            .filter(|b| !by_api(b) && !after.iter().any(|a| a.nlri == b.nlri))
                            .map(|b| b.nlri.clone())
                            .collect();
                        let changed: Vec<FlowRoute> =
                            after.into_iter().filter(|a| !before.contains(a)).collect();
                        if !gone.is_empty() || !changed.is_empty() {
                            updated += 1;
                        }
                        if !gone.is_empty() {
                            h.send(NeighborCommand::WithdrawFlow(gone));
                        }
                        if !changed.is_empty() {
                            h.send(NeighborCommand::AnnounceFlow(changed));
                        }
                    }
                    let before = routes_for(&old, o);
                    let mut after = routes_for(&new, n);
                    // What helpers and the CLI announced stays, and wins over the
                    // config for the same prefix.
                    let api: HashSet<Prefix> = self
                        .api_routes
                        .get(&n.address)
                        .map(|k| k.keys().copied().collect())
                        .unwrap_or_default();
                    after.retain(|r| !api.contains(&r.prefix));
                    let keep: HashSet<Prefix> = after.iter().map(|r| r.prefix).collect();
                    let gone: Vec<Prefix> = before
                        .iter()
                        .map(|r| r.prefix)
                        .filter(|p| !keep.contains(p) && !api.contains(p))
                        .collect();
                    let Some(h) = self.neighbors.get(&n.address) else {
                        continue;
                    };
                    if before != after {
                        updated += 1;
                    }
                    if !gone.is_empty() {
                        h.send(NeighborCommand::Withdraw(gone));
                    }
                    // Only what the new file changed: a config route withdrawn at
                    // run time (a health check draining a service) and unchanged by
                    // the file stays withdrawn.
                    let before_by_prefix: HashMap<Prefix, &Route> =
                        before.iter().map(|r| (r.prefix, r)).collect();
                    after.retain(|r| before_by_prefix.get(&r.prefix) != Some(&r));
                    if !after.is_empty() {
                        h.send(NeighborCommand::Announce(after));
                    }
                }
            }
        }
        // A configured route withdrawn at run time stays withdrawn while the
        // file has it unchanged; a changed one was announced above, a dropped
        // one is no longer configured.
        for n in &new.neighbors {
            if let Some(w) = self.withdrawn_routes.get_mut(&n.address) {
                let now: HashMap<Prefix, &Route> = super::routes_for_iter(&new, n)
                    .map(|r| (r.prefix, r))
                    .collect();
                w.retain(|p, r| now.get(p) == Some(&&*r));
            }
            if let Some(w) = self.withdrawn_flows.get_mut(&n.address) {
                let now = flows_for(&new, n);
                w.retain(|_, f| now.contains(f));
            }
        }
        info!(
            added,
            removed,
            restarted,
            routes_changed_on = updated,
            "configuration applied"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::Family;
    use crate::config::NeighborConfig;

    fn neighbor() -> NeighborConfig {
        NeighborConfig {
            address: "192.0.2.254".parse().unwrap(),
            peer_as: 65000,
            local_as: 65001,
            router_id: "192.0.2.1".parse().unwrap(),
            local_address: None,
            port: 179,
            hold_time: 90,
            passive: false,
            families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            md5_password: None,
            description: Some("edge".into()),
            max_prefix: None,
            graceful_restart: None,
        }
    }

    #[test]
    fn only_what_the_session_uses_restarts_it() {
        let o = neighbor();
        let mut n = o.clone();
        n.description = Some("edge, rack 2".into());
        n.families.reverse();
        assert!(!must_restart(&o, &n));
        n.hold_time = 30;
        assert!(must_restart(&o, &n));
        let mut fewer = o.clone();
        fewer.families.pop();
        assert!(must_restart(&o, &fewer));

        // max-prefix = N follows the order of `families`; a table, its keys'.
        let mut o = neighbor();
        o.max_prefix = Some(crate::config::MaxPrefix {
            limits: vec![(Family::IPV4_UNICAST, 100), (Family::IPV6_UNICAST, 100)],
            warning_only: false,
            restart_after: None,
            warning_threshold: None,
        });
        let mut n = o.clone();
        n.families.reverse();
        if let Some(m) = &mut n.max_prefix {
            m.limits.reverse();
        }
        assert!(!must_restart(&o, &n));
        if let Some(m) = &mut n.max_prefix {
            m.limits[0].1 = 50;
        }
        assert!(must_restart(&o, &n));
    }
}
