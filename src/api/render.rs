//! The daemon's answers ([`ControlReply`]) as text for people or JSON for scripts.
//!
//! Every answer is at most [`MAX_EVENT_BYTES`] long (the cap per message of every
//! event path): a `show adj-rib` of many routes sharing a large attribute set
//! would otherwise repeat that text on every line. What does not fit is counted on
//! a last line (`... N more routes not shown ...`, or a last JSON element
//! `{"truncated": {"routes": N, "limit": BYTES}}`). Each distinct attribute set is
//! rendered once per answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::control::{
    ControlReply, FlowEntry, MessageCounters, NeighborStatus, RibDirection, RibEntry, ShowDetail,
};

use super::attrtext;
use super::events::MAX_EVENT_BYTES;
use super::jsonw::{self, Obj};
use super::values;

/// `1d 02:03:04`-style uptime, ExaBGP prints `H:MM:SS`.
fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn total(c: &MessageCounters) -> u64 {
    c.open + c.update + c.notification + c.keepalive + c.route_refresh
}

/// Text lines for `show neighbor`.
pub fn neighbors_text(list: &[NeighborStatus], detail: ShowDetail) -> Vec<String> {
    let mut out = Vec::new();
    match detail {
        ShowDetail::Summary => {
            out.push(format!(
                "{:<39} {:>10} {:>10} {:<12} {:>10} {:>10}",
                "Peer", "AS", "up/down", "state", "#sent", "#recvd"
            ));
            for n in list {
                let up = n.uptime.map(duration_text).unwrap_or_else(|| "down".into());
                out.push(format!(
                    "{:<39} {:>10} {:>10} {:<12} {:>10} {:>10}",
                    n.peer_address.to_string(),
                    n.peer_as,
                    up,
                    n.state.as_str(),
                    n.prefixes_out,
                    n.prefixes_in
                ));
            }
        }
        ShowDetail::Configuration => {
            for n in list {
                out.extend(n.configuration.lines().map(str::to_string));
            }
        }
        ShowDetail::Basic | ShowDetail::Extensive => {
            for n in list {
                out.push(format!("Neighbor {}", n.peer_address));
                out.push(format!("    {:<24} {}", "state", n.state.as_str()));
                if let Some(u) = n.uptime {
                    out.push(format!("    {:<24} {}", "up for", duration_text(u)));
                }
                let local = n
                    .local_address
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "-".into());
                out.push(format!("    {:<24} {:<20} {}", "", "local", "peer"));
                out.push(format!(
                    "    {:<24} {:<20} {}",
                    "address", local, n.peer_address
                ));
                out.push(format!("    {:<24} {:<20} {}", "as", n.local_as, n.peer_as));
                let prid = n
                    .peer_router_id
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "-".into());
                out.push(format!(
                    "    {:<24} {:<20} {}",
                    "router-id", n.router_id, prid
                ));
                out.push(format!("    {:<24} {}", "hold-time", n.hold_time));
                let fams: Vec<String> =
                    n.families.iter().map(|f| values::family_text(*f)).collect();
                out.push(format!("    {:<24} {}", "families", fams.join(", ")));
                let (po, pi) = (
                    format!("out {}", n.prefixes_out),
                    format!("in {}", n.prefixes_in),
                );
                out.push(format!("    {:<24} {po:<20} {pi}", "prefixes"));
                if detail == ShowDetail::Extensive {
                    out.push(format!(
                        "    {:<24} {:<20} {}",
                        "messages", "sent", "received"
                    ));
                    let rows: [(&str, u64, u64); 6] = [
                        ("open", n.sent.open, n.received.open),
                        ("update", n.sent.update, n.received.update),
                        ("keepalive", n.sent.keepalive, n.received.keepalive),
                        ("notification", n.sent.notification, n.received.notification),
                        (
                            "route-refresh",
                            n.sent.route_refresh,
                            n.received.route_refresh,
                        ),
                        ("total", total(&n.sent), total(&n.received)),
                    ];
                    for (name, s, r) in rows {
                        out.push(format!("    {name:<24} {s:<20} {r}"));
                    }
                }
                if let Some(e) = &n.last_error {
                    out.push(format!("    {:<24} {}", "last error", e));
                }
            }
        }
    }
    out
}

fn counters_json(c: &MessageCounters) -> String {
    Obj::new()
        .num("open", c.open)
        .num("update", c.update)
        .num("keepalive", c.keepalive)
        .num("notification", c.notification)
        .num("route-refresh", c.route_refresh)
        .num("total", total(c))
        .build()
}

/// One JSON line for `show neighbor ... json`.
pub fn neighbors_json(list: &[NeighborStatus]) -> String {
    neighbors_json_within(list, MAX_EVENT_BYTES)
}

/// [`neighbors_json`] in at most `limit` bytes.
pub fn neighbors_json_within(list: &[NeighborStatus], limit: usize) -> String {
    let items = list.iter().map(|n| {
        let opt = |v: Option<String>| {
            v.map(|s| jsonw::string(&s))
                .unwrap_or_else(|| "null".into())
        };
        Obj::new()
            .str("peer-address", &n.peer_address.to_string())
            .raw("local-address", opt(n.local_address.map(|a| a.to_string())))
            .num("peer-as", n.peer_as)
            .num("local-as", n.local_as)
            .str("router-id", &n.router_id.to_string())
            .raw(
                "peer-router-id",
                opt(n.peer_router_id.map(|a| a.to_string())),
            )
            .str("state", n.state.as_str())
            .raw(
                "uptime",
                n.uptime
                    .map(|u| u.as_secs().to_string())
                    .unwrap_or_else(|| "null".into()),
            )
            .num("hold-time", n.hold_time)
            .raw(
                "families",
                jsonw::array(
                    n.families
                        .iter()
                        .map(|f| jsonw::string(&values::family_text(*f))),
                ),
            )
            .raw("sent", counters_json(&n.sent))
            .raw("received", counters_json(&n.received))
            .num("prefixes-in", n.prefixes_in)
            .num("prefixes-out", n.prefixes_out)
            .raw("last-error", opt(n.last_error.clone()))
            .str("configuration", &n.configuration)
            .build()
    });
    capped_array(items, list.len(), "neighbors", limit)
}

/// Each distinct attribute set rendered once (keyed by its shared allocation).
struct AttrCache<F: Fn(&crate::bgp::PathAttributes) -> String> {
    render: F,
    seen: HashMap<*const crate::bgp::PathAttributes, String>,
}

impl<F: Fn(&crate::bgp::PathAttributes) -> String> AttrCache<F> {
    fn get(&mut self, a: &Arc<crate::bgp::PathAttributes>) -> &str {
        let render = &self.render;
        self.seen.entry(Arc::as_ptr(a)).or_insert_with(|| render(a))
    }
}

/// The marker line of a text answer cut at `limit` with `left` items not shown.
fn more_line(left: usize, what: &str, limit: usize) -> String {
    format!("... {left} more {what} not shown (answer limit {limit} bytes)")
}

/// Text lines for `show adj-rib`: `neighbor A ipv4 unicast P next-hop N attrs`.
pub fn routes_text(list: &[RibEntry]) -> Vec<String> {
    routes_text_within(list, MAX_EVENT_BYTES)
}

/// [`routes_text`] in at most `limit` bytes (newlines counted).
pub fn routes_text_within(list: &[RibEntry], limit: usize) -> Vec<String> {
    let mut attrs = AttrCache {
        render: attrtext::attributes_text,
        seen: HashMap::new(),
    };
    let room = limit.saturating_sub(more_line(usize::MAX, "routes", limit).len() + 1);
    let mut out = Vec::new();
    let mut used = 0usize;
    for (i, r) in list.iter().enumerate() {
        let nh = r
            .next_hop
            .map(|n| format!(" next-hop {n}"))
            .unwrap_or_default();
        let head = format!(
            "neighbor {} {} {}{}",
            r.neighbor,
            values::family_text(r.prefix.family()),
            r.prefix,
            nh,
        );
        let at = attrs.get(&r.attributes);
        if used + head.len() + at.len() + 1 > room {
            out.push(more_line(list.len() - i, "routes", limit));
            break;
        }
        let stale = if r.stale { " (stale)" } else { "" };
        used += head.len() + at.len() + stale.len() + 1;
        out.push(head + at + stale);
    }
    out
}

/// One JSON line for `show adj-rib ... json`.
pub fn routes_json(list: &[RibEntry], direction: RibDirection) -> String {
    routes_json_within(list, direction, MAX_EVENT_BYTES)
}

/// [`routes_json`] in at most `limit` bytes.
pub fn routes_json_within(list: &[RibEntry], direction: RibDirection, limit: usize) -> String {
    rib_json_within(list, &[], direction, limit)
}

/// The text of one flow rule's line: `neighbor A ipv4 flow RULE [rd R] [next-hop N]`
/// then its attributes (the actions are its extended communities), the rule as
/// ExaBGP writes it (`destination 10.0.0.0/24 protocol =tcp ...`).
fn flow_head(f: &FlowEntry) -> String {
    let rd = f
        .nlri
        .rd
        .map(|rd| format!(" rd {}", crate::bgp::flow::rd_text(&rd)))
        .unwrap_or_default();
    let nh = f
        .next_hop
        .map(|n| format!(" next-hop {n}"))
        .unwrap_or_default();
    format!(
        "neighbor {} {} {}{}{}",
        f.neighbor,
        values::family_text(f.nlri.family()),
        f.nlri.rule,
        rd,
        nh,
    )
}

/// Text lines for `show adj-rib` holding flow rules: the route lines, then one
/// line per rule, all in at most `limit` bytes.
pub fn rib_text_within(routes: &[RibEntry], flows: &[FlowEntry], limit: usize) -> Vec<String> {
    let mut attrs = AttrCache {
        render: attrtext::flow_attributes_text,
        seen: HashMap::new(),
    };
    let mut lines = routes_text_within(routes, limit);
    if lines.last().is_some_and(|l| l.starts_with("... ")) {
        // The routes alone filled the answer (route lines start "neighbor"):
        // the marker counts the rules too.
        lines.pop();
        let left = routes.len() - lines.len() + flows.len();
        lines.push(more_line(left, "routes", limit));
        return lines;
    }
    let mut used: usize = lines.iter().map(|l| l.len() + 1).sum();
    let room = limit.saturating_sub(more_line(usize::MAX, "routes", limit).len() + 1);
    for (i, f) in flows.iter().enumerate() {
        let head = flow_head(f);
        let at = attrs.get(&f.attributes);
        if used + head.len() + at.len() + 1 > room {
            lines.push(more_line(flows.len() - i, "routes", limit));
            break;
        }
        used += head.len() + at.len() + 1;
        lines.push(head + at);
    }
    lines
}

/// One JSON line for `show adj-rib ... json` with routes and flow rules: a flow
/// rule's element has the rule's text as "nlri" and its components as "flow"
/// (the object of the received-flow JSON events).
pub fn rib_json_within(
    list: &[RibEntry],
    flows: &[FlowEntry],
    direction: RibDirection,
    limit: usize,
) -> String {
    let dir = match direction {
        RibDirection::In => "in",
        RibDirection::Out => "out",
    };
    let json_attrs = |a: &crate::bgp::PathAttributes| attrtext::attributes_json(a, false).build();
    let mut attrs = AttrCache {
        render: json_attrs,
        seen: HashMap::new(),
    };
    // The rules' own cache: the items are rendered lazily, only those that fit
    // (one shared cache would need the routes rendered all first).
    let mut flow_attrs = AttrCache {
        render: json_attrs,
        seen: HashMap::new(),
    };
    capped_array(
        list.iter()
            .map(|r| {
                let o = Obj::new();
                // Only on stale routes (graceful restart): other answers are unchanged.
                let o = if r.stale { o.raw("stale", "true") } else { o };
                o.str("neighbor", &r.neighbor.to_string())
                    .str("direction", dir)
                    .str("family", &values::family_text(r.prefix.family()))
                    .str("nlri", &r.prefix.to_string())
                    .raw(
                        "next-hop",
                        r.next_hop
                            .map(|n| jsonw::string(&n.to_string()))
                            .unwrap_or_else(|| "null".into()),
                    )
                    .raw("attribute", attrs.get(&r.attributes).to_string())
                    .build()
            })
            .chain(flows.iter().map(|f| {
                Obj::new()
                    .str("neighbor", &f.neighbor.to_string())
                    .str("direction", dir)
                    .str("family", &values::family_text(f.nlri.family()))
                    .str("nlri", &f.nlri.rule.to_string())
                    .raw("flow", super::flowjson::rule_obj(&f.nlri, f.next_hop))
                    .raw(
                        "next-hop",
                        f.next_hop
                            .map(|n| jsonw::string(&n.to_string()))
                            .unwrap_or_else(|| "null".into()),
                    )
                    .raw("attribute", flow_attrs.get(&f.attributes).to_string())
                    .build()
            })),
        list.len() + flows.len(),
        "routes",
        limit,
    )
}

/// A JSON array of `count` items in at most `limit` bytes: the items that fit,
/// then `{"truncated": {WHAT: N, "limit": LIMIT}}` counting those left out.
fn capped_array(
    items: impl Iterator<Item = String>,
    count: usize,
    what: &str,
    limit: usize,
) -> String {
    let marker = |left: usize| {
        Obj::new()
            .raw(
                "truncated",
                Obj::new().num(what, left).num("limit", limit).build(),
            )
            .build()
    };
    let room = limit.saturating_sub(marker(usize::MAX).len() + 4);
    let mut s = String::from("[");
    for (i, item) in items.enumerate() {
        let sep = if i == 0 { 0 } else { 2 };
        if s.len() + sep + item.len() + 1 > room {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(&marker(count - i));
            break;
        }
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&item);
    }
    s.push(']');
    s
}

/// Text lines cut at `limit` bytes (newlines counted), with a last line counting
/// the lines left out.
fn capped_lines(lines: Vec<String>, limit: usize) -> Vec<String> {
    let room = limit.saturating_sub(more_line(usize::MAX, "lines", limit).len() + 1);
    let mut used = 0usize;
    let total = lines.len();
    let mut out = Vec::new();
    for (i, l) in lines.into_iter().enumerate() {
        if used + l.len() + 1 > room {
            out.push(more_line(total - i, "lines", limit));
            break;
        }
        used += l.len() + 1;
        out.push(l);
    }
    out
}

/// The output lines for a reply (the terminator is added by the caller).
pub fn reply_lines(
    reply: &ControlReply,
    json: bool,
    detail: ShowDetail,
    direction: RibDirection,
) -> Vec<String> {
    match reply {
        // Health is the service manager's probe; no API command asks for it.
        ControlReply::Done | ControlReply::Error(_) | ControlReply::Health(_) => Vec::new(),
        ControlReply::Neighbors(n) if json => vec![neighbors_json(n)],
        ControlReply::Neighbors(n) => capped_lines(neighbors_text(n, detail), MAX_EVENT_BYTES),
        ControlReply::Routes(r) if json => vec![routes_json(r, direction)],
        ControlReply::Routes(r) => routes_text(r),
        ControlReply::RoutesAndFlows(r, f) if json => {
            vec![rib_json_within(r, f, direction, MAX_EVENT_BYTES)]
        }
        ControlReply::RoutesAndFlows(r, f) => rib_text_within(r, f, MAX_EVENT_BYTES),
    }
}

#[cfg(test)]
mod cap_tests {
    use super::*;
    use crate::bgp::{LargeCommunity, PathAttributes, Prefix};
    use std::net::IpAddr;

    /// `n` routes sharing one attribute set of 2000 large communities (~50 KB of
    /// text each time it is printed).
    fn rib(n: u32) -> Vec<RibEntry> {
        let attrs = Arc::new(PathAttributes {
            large_communities: (0..2000)
                .map(|i| LargeCommunity {
                    global: 4_000_000_000 + i,
                    local1: 1,
                    local2: 2,
                })
                .collect(),
            ..Default::default()
        });
        (0..n)
            .filter_map(|i| {
                Some(RibEntry {
                    neighbor: IpAddr::from([192, 0, 2, 254]),
                    prefix: Prefix::new(IpAddr::from([10, (i / 256) as u8, i as u8, 0]), 24)?,
                    next_hop: None,
                    attributes: attrs.clone(),
                    stale: false,
                })
            })
            .collect()
    }

    fn flows(n: u32) -> Vec<FlowEntry> {
        (0..n)
            .filter_map(|i| {
                let rule = crate::bgp::flow::FlowRule::parse(
                    &format!("destination 10.{}.{}.0/24", i / 256, i % 256),
                    Some(false),
                )
                .ok()?;
                Some(FlowEntry {
                    neighbor: IpAddr::from([192, 0, 2, 254]),
                    nlri: crate::bgp::FlowNlri { rd: None, rule },
                    next_hop: None,
                    attributes: Arc::new(PathAttributes::default()),
                })
            })
            .collect()
    }

    /// Flow rules come after the routes, under the same cap: when the routes fill
    /// the answer, the last line counts the rules left out too.
    #[test]
    fn flow_rules_follow_the_routes_within_the_cap() {
        let lines = rib_text_within(&rib(1), &flows(3), MAX_EVENT_BYTES);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(
            lines[1],
            "neighbor 192.0.2.254 ipv4 flow destination 10.0.0.0/24"
        );
        let lines = rib_text_within(&rib(40), &flows(3), 200_000);
        let last = lines.last().expect("a marker line");
        let shown = lines.len() - 1;
        assert!(
            last.starts_with(&format!("... {} more routes", 43 - shown)),
            "{last}"
        );
        let json = rib_json_within(&[], &flows(2), RibDirection::Out, MAX_EVENT_BYTES);
        let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(v[1]["nlri"], "destination 10.0.1.0/24");
        assert_eq!(v[1]["flow"]["destination-ipv4"][0], "10.0.1.0/24");
    }

    /// Graceful restart: a stale received route says so, the others are unchanged.
    #[test]
    fn stale_routes_are_marked() {
        let mut r = rib(2);
        r[1].stale = true;
        let text = routes_text(&r);
        assert!(
            !text[0].contains("stale") && text[1].ends_with(" (stale)"),
            "{text:?}"
        );
        let json = routes_json(&r, RibDirection::In);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v[0].get("stale"), None, "{json}");
        assert_eq!(v[1]["stale"], serde_json::Value::Bool(true), "{json}");
    }

    #[test]
    fn adj_rib_text_answer_is_capped_with_a_count_of_the_rest() {
        let list = rib(1000);
        let limit = 1 << 20;
        let lines = routes_text_within(&list, limit);
        let total: usize = lines.iter().map(|l| l.len() + 1).sum();
        assert!(total <= limit, "{total}");
        let last = lines.last().map(String::as_str).unwrap_or("");
        let shown = lines.len() - 1;
        assert!(shown > 0 && shown < 1000);
        assert_eq!(
            last,
            format!(
                "... {} more routes not shown (answer limit {limit} bytes)",
                1000 - shown
            )
        );
        // Under the limit: every route, no marker.
        assert_eq!(routes_text_within(&list[..5], limit).len(), 5);
    }

    #[test]
    fn adj_rib_json_answer_is_capped_and_stays_valid_json() {
        let list = rib(1000);
        let limit = 1 << 20;
        let s = routes_json_within(&list, RibDirection::In, limit);
        assert!(s.len() <= limit, "{}", s.len());
        let v: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        let a = v.as_array().cloned().unwrap_or_default();
        assert!(a.len() > 1 && a.len() < 1000);
        let shown = a.len() - 1;
        assert_eq!(a[0]["nlri"], "10.0.0.0/24");
        assert_eq!(a[shown]["truncated"]["routes"], 1000 - shown);
        assert_eq!(a[shown]["truncated"]["limit"], limit);
        let whole = routes_json_within(&list[..3], RibDirection::In, limit);
        let v: serde_json::Value = serde_json::from_str(&whole).unwrap_or_default();
        assert_eq!(v.as_array().map(Vec::len), Some(3));
    }
}
