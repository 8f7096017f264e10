//! Daemon events turned into what helpers read on stdin: ExaBGP 5.0's JSON (one
//! object a line) or ExaBGP's text lines.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::UNIX_EPOCH;

use crate::bgp::{Capability, Family, Notification, Open, Prefix, Update};
use crate::config::{Encoder, ReceiveKind};
use crate::control::{Direction, Event, EventKind, PeerInfo, SessionState};

use super::attrtext;
use super::jsonw::{self, Obj};
use super::values;

/// The API version in every JSON event (ExaBGP 5.0's shape).
pub const API_VERSION: &str = "5.0.0";

/// Who is writing the events (the JSON header's host/pid/ppid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub host: String,
    pub pid: u32,
    pub ppid: u32,
}

impl Origin {
    /// This process.
    pub fn current() -> Origin {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_string());
        Origin {
            host,
            pid: std::process::id(),
            ppid: nix::unistd::getppid().as_raw() as u32,
        }
    }
}

/// Which `receive` kind an event belongs to (for a helper's filter).
pub fn receive_kind(kind: &EventKind) -> ReceiveKind {
    match kind {
        EventKind::State { .. } => ReceiveKind::State,
        EventKind::Update(_) | EventKind::EndOfRib(_) => ReceiveKind::Update,
        EventKind::Notification(_) => ReceiveKind::Notification,
        EventKind::Open(_) => ReceiveKind::Open,
        EventKind::Keepalive => ReceiveKind::Keepalive,
        EventKind::Refresh(_) => ReceiveKind::Refresh,
        // About the session's fate, like `state`: helpers watching neighbors get it.
        EventKind::PrefixLimit(_) => ReceiveKind::State,
    }
}

/// One helper's encoder: its format and its per-neighbor message counters.
pub struct EventEncoder {
    encoder: Encoder,
    origin: Origin,
    counters: HashMap<IpAddr, u64>,
}

impl EventEncoder {
    pub fn new(encoder: Encoder, origin: Origin) -> EventEncoder {
        EventEncoder {
            encoder,
            origin,
            counters: HashMap::new(),
        }
    }

    /// The line(s) for this event, each ending in '\n'.
    pub fn encode(&mut self, ev: &Event) -> String {
        match self.encoder {
            Encoder::Json => {
                let c = self.counters.entry(ev.peer.peer_address).or_insert(0);
                *c += 1;
                let mut s = encode_json(ev, *c, &self.origin);
                s.push('\n');
                s
            }
            Encoder::Text => encode_text(ev),
        }
    }
}

fn direction_text(d: Direction) -> &'static str {
    match d {
        Direction::Send => "send",
        Direction::Receive => "receive",
    }
}

fn neighbor_obj(peer: &PeerInfo) -> Obj {
    let local = match peer.local_address {
        Some(a) => jsonw::string(&a.to_string()),
        None => "null".to_string(),
    };
    let mut o = Obj::new()
        .raw(
            "address",
            Obj::new()
                .raw("local", local)
                .str("peer", &peer.peer_address.to_string())
                .build(),
        )
        .raw(
            "asn",
            Obj::new()
                .num("local", peer.local_as)
                .num("peer", peer.peer_as)
                .build(),
        );
    if let Some(id) = peer.peer_router_id {
        o = o.str("router-id", &id.to_string());
    }
    o
}

fn nlri_obj(p: &Prefix) -> String {
    Obj::new().str("nlri", &p.to_string()).build()
}

/// The `"update"` object of an UPDATE.
pub fn update_json(u: &Update) -> String {
    let a = &u.attributes;
    // family -> next hop -> prefixes, in first-seen order.
    let mut announce: Vec<(Family, String, Vec<Prefix>)> = Vec::new();
    if !u.nlri.is_empty() {
        let nh = a
            .next_hop
            .map(|n| n.to_string())
            .unwrap_or_else(|| "null".into());
        announce.push((Family::IPV4_UNICAST, nh, u.nlri.clone()));
    }
    if let Some(mp) = &a.mp_reach {
        if !mp.nlri.is_empty() {
            let nh = mp
                .next_hops
                .first()
                .map(|n| n.to_string())
                .unwrap_or_else(|| "null".into());
            announce.push((mp.family, nh, mp.nlri.clone()));
        }
    }
    let mut withdraw: Vec<(Family, Vec<Prefix>)> = Vec::new();
    if !u.withdrawn.is_empty() {
        withdraw.push((Family::IPV4_UNICAST, u.withdrawn.clone()));
    }
    if let Some(mp) = &a.mp_unreach {
        if !mp.withdrawn.is_empty() {
            withdraw.push((mp.family, mp.withdrawn.clone()));
        }
    }
    let mut o = Obj::new();
    // DESIGN.md's shape: the next hop is only shown with the announced NLRI.
    let attrs = attrtext::attributes_json(a, false);
    if !attrs.is_empty() {
        o = o.raw("attribute", attrs.build());
    }
    if !announce.is_empty() {
        let mut fams = Obj::new();
        // Group next hops under one family key.
        let mut seen: Vec<Family> = Vec::new();
        for (f, _, _) in &announce {
            if !seen.contains(f) {
                seen.push(*f);
            }
        }
        for f in seen {
            let mut by_nh = Obj::new();
            for (_, nh, prefixes) in announce.iter().filter(|(g, _, _)| *g == f) {
                by_nh = by_nh.raw(nh, jsonw::array(prefixes.iter().map(nlri_obj)));
            }
            fams = fams.raw(&values::family_text(f), by_nh.build());
        }
        o = o.raw("announce", fams.build());
    }
    if !withdraw.is_empty() {
        let mut fams = Obj::new();
        for (f, prefixes) in &withdraw {
            fams = fams.raw(
                &values::family_text(*f),
                jsonw::array(prefixes.iter().map(nlri_obj)),
            );
        }
        o = o.raw("withdraw", fams.build());
    }
    o.build()
}

fn eor_json(f: Family) -> String {
    Obj::new()
        .raw(
            "eor",
            Obj::new()
                .str("afi", &f.afi.to_string())
                .str("safi", &f.safi.to_string())
                .build(),
        )
        .build()
}

/// The text of a NOTIFICATION's data: the RFC 8203/9003 shutdown message when there
/// is one, else the printable part of the data.
fn notification_message(n: &Notification) -> String {
    let data = if n.code == 6 && matches!(n.subcode, 2 | 4) && !n.data.is_empty() {
        let len = usize::from(n.data[0]);
        n.data.get(1..1 + len).unwrap_or(&n.data[1..])
    } else {
        &n.data[..]
    };
    String::from_utf8_lossy(data)
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

fn open_json(o: &Open) -> String {
    let mut caps = Obj::new();
    let families: Vec<String> = o
        .capabilities
        .iter()
        .filter_map(|c| match c {
            Capability::Multiprotocol(f) => Some(jsonw::string(&values::family_text(*f))),
            _ => None,
        })
        .collect();
    if !families.is_empty() {
        caps = caps.raw(
            "1",
            Obj::new()
                .str("name", "multiprotocol")
                .raw("families", jsonw::array(families))
                .build(),
        );
    }
    for c in &o.capabilities {
        caps = match c {
            Capability::Multiprotocol(_) => caps,
            Capability::RouteRefresh => {
                caps.raw("2", Obj::new().str("name", "route-refresh").build())
            }
            Capability::ExtendedMessage => {
                caps.raw("6", Obj::new().str("name", "extended-message").build())
            }
            Capability::FourOctetAs(asn) => caps.raw(
                "65",
                Obj::new().str("name", "asn4").num("asn4", asn).build(),
            ),
            Capability::Unknown { code, value } => caps.raw(
                &code.to_string(),
                Obj::new()
                    .str("name", "unknown")
                    .str("raw", &format!("0x{}", values::hex(value)))
                    .build(),
            ),
        };
    }
    Obj::new()
        .num("version", o.version)
        .num("asn", o.my_as)
        .num("hold_time", o.hold_time)
        .str("router_id", &o.router_id.to_string())
        .raw("capabilities", caps.build())
        .build()
}

/// One event as ExaBGP 5.0 JSON (no trailing newline).
pub fn encode_json(ev: &Event, counter: u64, origin: &Origin) -> String {
    let time = ev
        .time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let (typ, neighbor) = match &ev.kind {
        EventKind::State { state, reason } => {
            let mut n = neighbor_obj(&ev.peer);
            let s = match state {
                SessionState::Connected => "connected",
                SessionState::Up => "up",
                SessionState::Down => "down",
            };
            n = n.str("state", s);
            if *state == SessionState::Down {
                n = n.str("reason", reason.as_deref().unwrap_or(""));
            }
            ("state", n)
        }
        EventKind::Update(u) => {
            let n = neighbor_obj(&ev.peer).str("direction", direction_text(ev.direction));
            let msg = match u.end_of_rib() {
                Some(f) => eor_json(f),
                None => Obj::new().raw("update", update_json(u)).build(),
            };
            ("update", n.raw("message", msg))
        }
        EventKind::EndOfRib(f) => {
            let n = neighbor_obj(&ev.peer).str("direction", direction_text(ev.direction));
            ("update", n.raw("message", eor_json(*f)))
        }
        EventKind::Notification(note) => {
            let body = Obj::new()
                .num("code", note.code)
                .num("subcode", note.subcode)
                .str("data", &values::hex(&note.data))
                .str("message", &notification_message(note))
                .build();
            let n = neighbor_obj(&ev.peer)
                .str("direction", direction_text(ev.direction))
                .raw("notification", body);
            ("notification", n)
        }
        EventKind::Open(o) => {
            let n = neighbor_obj(&ev.peer)
                .str("direction", direction_text(ev.direction))
                .raw("open", open_json(o));
            ("open", n)
        }
        EventKind::Keepalive => (
            "keepalive",
            neighbor_obj(&ev.peer).str("direction", direction_text(ev.direction)),
        ),
        EventKind::Refresh(f) => {
            let body = Obj::new()
                .str("afi", &f.afi.to_string())
                .str("safi", &f.safi.to_string())
                .str("subtype", "query")
                .build();
            let n = neighbor_obj(&ev.peer)
                .str("direction", direction_text(ev.direction))
                .raw("route-refresh", body);
            ("refresh", n)
        }
        EventKind::PrefixLimit(l) => {
            let body = Obj::new()
                .str("afi", &l.family.afi.to_string())
                .str("safi", &l.family.safi.to_string())
                .num("prefixes", l.prefixes)
                .num("maximum", l.maximum)
                .raw("exceeded", l.exceeded.to_string())
                .str("action", if l.cease { "cease" } else { "warning" })
                .build();
            let n = neighbor_obj(&ev.peer)
                .str("direction", direction_text(ev.direction))
                .raw("prefix-limit", body);
            ("prefix-limit", n)
        }
    };
    Obj::new()
        .str("exabgp", API_VERSION)
        .raw("time", format!("{time:.3}"))
        .str("host", &origin.host)
        .num("pid", origin.pid)
        .num("ppid", origin.ppid)
        .num("counter", counter)
        .str("type", typ)
        .raw("neighbor", neighbor.build())
        .build()
}

/// One event as ExaBGP's text lines, each ending in '\n'.
pub fn encode_text(ev: &Event) -> String {
    let peer = ev.peer.peer_address;
    let dir = direction_text(ev.direction);
    match &ev.kind {
        EventKind::State {
            state: SessionState::Up,
            ..
        } => format!("neighbor {peer} up\n"),
        EventKind::State {
            state: SessionState::Connected,
            ..
        } => format!("neighbor {peer} connected\n"),
        EventKind::State {
            state: SessionState::Down,
            reason,
        } => {
            format!(
                "neighbor {peer} down - {}\n",
                reason.as_deref().unwrap_or("")
            )
        }
        EventKind::Notification(n) => format!(
            "neighbor {peer} {dir} notification code {} subcode {} data {}\n",
            n.code,
            n.subcode,
            values::hex(&n.data)
        ),
        EventKind::Keepalive => format!("neighbor {peer} {dir} keepalive\n"),
        EventKind::Open(o) => {
            let caps: Vec<String> = o
                .capabilities
                .iter()
                .map(|c| format!("{c:?}").to_lowercase())
                .collect();
            format!(
                "neighbor {peer} {dir} open version {} asn {} hold_time {} router_id {} capabilities [{}]\n",
                o.version,
                o.my_as,
                o.hold_time,
                o.router_id,
                caps.join(", ")
            )
        }
        EventKind::Refresh(f) => format!(
            "neighbor {peer} {dir} route-refresh afi {} safi {} query\n",
            f.afi, f.safi
        ),
        EventKind::PrefixLimit(l) => format!(
            "neighbor {peer} {dir} prefix-limit {} prefixes {} maximum {} {} {}\n",
            values::family_text(l.family),
            l.prefixes,
            l.maximum,
            if l.exceeded { "exceeded" } else { "threshold" },
            if l.cease { "cease" } else { "warning" }
        ),
        EventKind::EndOfRib(f) => {
            let p = format!("neighbor {peer} {dir} update");
            format!(
                "{p} start\n{p} route eor {}\n{p} end\n",
                values::family_text(*f)
            )
        }
        EventKind::Update(u) => {
            let p = format!("neighbor {peer} {dir} update");
            let mut s = format!("{p} start\n");
            if let Some(f) = u.end_of_rib() {
                s.push_str(&format!("{p} route eor {}\n", values::family_text(f)));
            } else {
                let attrs = attrtext::attributes_text(&u.attributes);
                for n in &u.nlri {
                    let nh = u
                        .attributes
                        .next_hop
                        .map(|n| format!(" next-hop {n}"))
                        .unwrap_or_default();
                    s.push_str(&format!("{p} announced {n}{nh}{attrs}\n"));
                }
                if let Some(mp) = &u.attributes.mp_reach {
                    let nh = mp
                        .next_hops
                        .first()
                        .map(|n| format!(" next-hop {n}"))
                        .unwrap_or_default();
                    for n in &mp.nlri {
                        s.push_str(&format!("{p} announced {n}{nh}{attrs}\n"));
                    }
                }
                let mp_w = u
                    .attributes
                    .mp_unreach
                    .iter()
                    .flat_map(|m| m.withdrawn.iter());
                for n in u.withdrawn.iter().chain(mp_w) {
                    s.push_str(&format!("{p} withdrawn {n}\n"));
                }
            }
            s.push_str(&format!("{p} end\n"));
            s
        }
    }
}
