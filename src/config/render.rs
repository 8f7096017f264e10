//! Rendering the model back to TOML: `show neighbor configuration` (each
//! neighbor's status carries [`NeighborConfig::to_toml_string`]), and a whole
//! [`Config`] as a file that parses back to the same value.

use std::fmt::Write as _;

use super::model::{Config, NeighborConfig, ProcessConfig, RouteConfig};
use super::process::{encoder_name, receive_name};
use crate::bgp::AsSegment;
use crate::rib::NextHop;

/// A TOML string literal, escaped.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    format!("[{}]", items.iter().map(f).collect::<Vec<_>>().join(", "))
}

impl NeighborConfig {
    /// The neighbor's effective settings (defaults and globals applied) as a
    /// `[[neighbor]]` block. The MD5 password is not shown, only whether one is set.
    pub fn to_toml_string(&self) -> String {
        render_neighbor(self, false)
    }
}

impl RouteConfig {
    /// The route as a `[[route]]` block that parses back to the same value.
    pub fn to_toml_string(&self) -> String {
        render_route(self)
    }
}

impl ProcessConfig {
    /// The helper as a `[[process]]` block that parses back to the same value.
    pub fn to_toml_string(&self) -> String {
        render_process(self)
    }
}

impl Config {
    /// The whole configuration, every default written out, secrets included: parsing
    /// the result gives back an equal `Config` (apart from `source`).
    pub fn to_toml_string(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "[global]");
        let _ = writeln!(out, "router-id = {}", q(&self.global.router_id.to_string()));
        let _ = writeln!(out, "local-as = {}", self.global.local_as);
        for n in &self.neighbors {
            out.push('\n');
            out.push_str(&render_neighbor(n, true));
        }
        for r in &self.routes {
            out.push('\n');
            out.push_str(&render_route(r));
        }
        for p in &self.processes {
            out.push('\n');
            out.push_str(&render_process(p));
        }
        out
    }
}

pub(crate) fn render_neighbor(n: &NeighborConfig, secrets: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "[[neighbor]]");
    let _ = writeln!(o, "address = {}", q(&n.address.to_string()));
    if let Some(d) = &n.description {
        let _ = writeln!(o, "description = {}", q(d));
    }
    let _ = writeln!(o, "peer-as = {}", n.peer_as);
    let _ = writeln!(o, "local-as = {}", n.local_as);
    let _ = writeln!(o, "router-id = {}", q(&n.router_id.to_string()));
    if let Some(a) = n.local_address {
        let _ = writeln!(o, "local-address = {}", q(&a.to_string()));
    }
    let _ = writeln!(o, "port = {}", n.port);
    let _ = writeln!(o, "hold-time = {}", n.hold_time);
    let _ = writeln!(o, "passive = {}", n.passive);
    let _ = writeln!(o, "families = {}", list(&n.families, |f| q(&f.to_string())));
    match (&n.md5_password, secrets) {
        (Some(p), true) => {
            let _ = writeln!(o, "md5-password = {}", q(p));
        }
        (Some(_), false) => {
            let _ = writeln!(o, "# md5-password is set (not shown)");
        }
        (None, _) => {}
    }
    if let Some(t) = n.graceful_restart {
        let _ = writeln!(o, "graceful-restart = {t}");
    }
    if let Some(m) = &n.max_prefix {
        let limits: Vec<String> = m
            .limits
            .iter()
            .map(|(f, n)| format!("{} = {n}", q(&f.to_string())))
            .collect();
        let _ = writeln!(o, "max-prefix = {{ {} }}", limits.join(", "));
        let _ = writeln!(o, "max-prefix-warning-only = {}", m.warning_only);
        if let Some(s) = m.restart_after {
            let _ = writeln!(o, "max-prefix-restart-after = {s}");
        }
        if let Some(p) = m.warning_threshold {
            let _ = writeln!(o, "max-prefix-warning-threshold = {p}");
        }
    }
    o
}

fn render_route(r: &RouteConfig) -> String {
    let mut o = String::new();
    let a = &r.route.attributes;
    let _ = writeln!(o, "[[route]]");
    let _ = writeln!(o, "prefix = {}", q(&r.route.prefix.to_string()));
    let nh = match r.route.next_hop {
        NextHop::SelfAddress => "self".to_string(),
        NextHop::Address(a) => a.to_string(),
    };
    let _ = writeln!(o, "next-hop = {}", q(&nh));
    if let Some(origin) = a.origin {
        let _ = writeln!(o, "origin = {}", q(&origin.to_string()));
    }
    let asns: Vec<u32> = a
        .as_path
        .iter()
        .flat_map(|p| p.segments.iter())
        .flat_map(|s| match s {
            AsSegment::Sequence(v)
            | AsSegment::Set(v)
            | AsSegment::ConfedSequence(v)
            | AsSegment::ConfedSet(v) => v.iter().copied(),
        })
        .collect();
    let _ = writeln!(o, "as-path = {}", list(&asns, u32::to_string));
    if let Some(m) = a.med {
        let _ = writeln!(o, "med = {m}");
    }
    if let Some(l) = a.local_pref {
        let _ = writeln!(o, "local-preference = {l}");
    }
    if !a.communities.is_empty() {
        let _ = writeln!(
            o,
            "communities = {}",
            list(&a.communities, |c| q(&c.to_string()))
        );
    }
    if !a.large_communities.is_empty() {
        let _ = writeln!(
            o,
            "large-communities = {}",
            list(&a.large_communities, |c| q(&c.to_string()))
        );
    }
    if !a.ext_communities.is_empty() {
        let _ = writeln!(
            o,
            "extended-communities = {}",
            list(&a.ext_communities, |c| q(&c.to_string()))
        );
    }
    if a.atomic_aggregate {
        let _ = writeln!(o, "atomic-aggregate = true");
    }
    if let Some(ag) = a.aggregator {
        let _ = writeln!(
            o,
            "aggregator = {}",
            q(&format!("{}:{}", ag.asn, ag.address))
        );
    }
    if let Some(id) = a.originator_id {
        let _ = writeln!(o, "originator-id = {}", q(&id.to_string()));
    }
    if !a.cluster_list.is_empty() {
        let _ = writeln!(
            o,
            "cluster-list = {}",
            list(&a.cluster_list, |c| q(&c.to_string()))
        );
    }
    if !r.neighbors.is_empty() {
        let _ = writeln!(
            o,
            "neighbors = {}",
            list(&r.neighbors, |n| q(&n.to_string()))
        );
    }
    o
}

fn render_process(p: &ProcessConfig) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "[[process]]");
    let _ = writeln!(o, "name = {}", q(&p.name));
    let _ = writeln!(o, "run = {}", list(&p.run, |s| q(s)));
    let _ = writeln!(o, "encoder = {}", q(encoder_name(p.encoder)));
    let _ = writeln!(o, "receive = {}", list(&p.receive, |k| q(receive_name(*k))));
    let _ = writeln!(o, "respawn-limit = {}", p.respawn_limit);
    let _ = writeln!(o, "respawn-window = {}", p.respawn_window);
    o
}
