//! The daemon's answers ([`ControlReply`]) as text for people or JSON for scripts.

use std::time::Duration;

use crate::control::{
    ControlReply, MessageCounters, NeighborStatus, RibDirection, RibEntry, ShowDetail,
};

use super::attrtext;
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
    jsonw::array(list.iter().map(|n| {
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
    }))
}

/// Text lines for `show adj-rib`: `neighbor A ipv4 unicast P next-hop N attrs`.
pub fn routes_text(list: &[RibEntry]) -> Vec<String> {
    list.iter()
        .map(|r| {
            let nh = r
                .next_hop
                .map(|n| format!(" next-hop {n}"))
                .unwrap_or_default();
            format!(
                "neighbor {} {} {}{}{}",
                r.neighbor,
                values::family_text(r.prefix.family()),
                r.prefix,
                nh,
                attrtext::attributes_text(&r.attributes)
            )
        })
        .collect()
}

/// One JSON line for `show adj-rib ... json`.
pub fn routes_json(list: &[RibEntry], direction: RibDirection) -> String {
    let dir = match direction {
        RibDirection::In => "in",
        RibDirection::Out => "out",
    };
    jsonw::array(list.iter().map(|r| {
        Obj::new()
            .str("neighbor", &r.neighbor.to_string())
            .str("direction", dir)
            .str("family", &values::family_text(r.prefix.family()))
            .str("nlri", &r.prefix.to_string())
            .raw(
                "next-hop",
                r.next_hop
                    .map(|n| jsonw::string(&n.to_string()))
                    .unwrap_or_else(|| "null".into()),
            )
            .raw(
                "attribute",
                attrtext::attributes_json(&r.attributes, false).build(),
            )
            .build()
    }))
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
        ControlReply::Neighbors(n) => neighbors_text(n, detail),
        ControlReply::Routes(r) if json => vec![routes_json(r, direction)],
        ControlReply::Routes(r) => routes_text(r),
    }
}
