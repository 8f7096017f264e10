//! Daemon events turned into what helpers read on stdin: ExaBGP 5.0's JSON (one
//! object a line) or ExaBGP's text lines.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::UNIX_EPOCH;

use crate::bgp::iana::{CEASE_ADMIN_RESET, CEASE_ADMIN_SHUTDOWN, ERR_CEASE};
use crate::bgp::{Family, Notification, Prefix, Update};
use crate::config::{Encoder, ReceiveKind};
use crate::control::{Direction, Event, EventKind, PeerInfo, SessionState};

use super::attrtext;
use super::capjson;
use super::jsonw::{self, Obj};
use super::values;

/// The API version in every JSON event (ExaBGP 5.0's shape).
pub const API_VERSION: &str = "5.0.0";

/// The most bytes one event (or one `show` answer) may take once encoded: the
/// hard cap per message on every path toward helpers and control clients.
/// ExaBGP's text form of one 64 KiB UPDATE can need far more (it repeats the
/// attributes on every prefix's line); see [`encode_text_within`] for what is
/// written instead. No JSON event reaches it (its size follows the message's).
pub const MAX_EVENT_BYTES: usize = 4 << 20;

/// One event, encoded within a limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoded {
    /// All of it.
    Whole(String),
    /// Text UPDATE lines cut short: the lines that fit, a
    /// `... update truncated announced A withdrawn W` marker and the `end` line.
    Truncated(String),
    /// Too big for the limit and nothing meaningful fits: not written.
    TooBig,
}

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

    /// The line(s) for this event, each ending in '\n', within [`MAX_EVENT_BYTES`]
    /// (empty when it does not fit at all).
    pub fn encode(&mut self, ev: &Event) -> String {
        match self.encode_within(ev, MAX_EVENT_BYTES) {
            Encoded::Whole(s) | Encoded::Truncated(s) => s,
            Encoded::TooBig => String::new(),
        }
    }

    /// The line(s) for this event in at most `limit` bytes. Text UPDATEs are
    /// truncated to fit; a JSON event that does not fit whole is not written (its
    /// size follows the message's: [`MAX_EVENT_BYTES`] is far above it). The JSON
    /// counter counts the event either way, so a helper sees the gap.
    pub fn encode_within(&mut self, ev: &Event, limit: usize) -> Encoded {
        match self.encoder {
            Encoder::Json => {
                let c = self.counters.entry(ev.peer.peer_address).or_insert(0);
                *c += 1;
                // Not encoded at all when it cannot fit: a full queue costs no
                // encoding of the events it refuses.
                if json_lower_bound(ev) > limit {
                    return Encoded::TooBig;
                }
                let mut s = encode_json(ev, *c, &self.origin);
                s.push('\n');
                if s.len() > limit {
                    Encoded::TooBig
                } else {
                    Encoded::Whole(s)
                }
            }
            Encoder::Text => encode_text_within(ev, limit),
        }
    }
}

/// Fewest bytes an event's JSON can take: each prefix is at least an
/// `{"nlri":"0.0.0.0/0"}` (20 bytes) or `{"nlri":"::/0"}` (15). Cheap (counts only).
pub fn json_lower_bound(ev: &Event) -> usize {
    let EventKind::Update(u) = &ev.kind else {
        return 0;
    };
    let per = |ps: &[Prefix]| {
        ps.iter()
            .map(|p| if p.addr().is_ipv4() { 20 } else { 15 })
            .sum::<usize>()
    };
    let a = &u.attributes;
    per(&u.nlri)
        + per(&u.withdrawn)
        + a.mp_reach.as_ref().map_or(0, |m| per(&m.nlri))
        + a.mp_unreach.as_ref().map_or(0, |m| per(&m.withdrawn))
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
    // json.py `_neighbor`: the neighbor's configured router-id, i.e. ours.
    o = o.str("router-id", &peer.router_id.to_string());
    o
}

fn nlri_obj(p: &Prefix) -> String {
    Obj::new().str("nlri", &p.to_string()).build()
}

/// The `"update"` object of an UPDATE.
///
/// Like ExaBGP, routes are grouped by family (and announced ones by next hop) in
/// first-seen order, so the classic IPv4 fields and an MP_REACH/MP_UNREACH of IPv4
/// unicast in the same UPDATE share one `"ipv4 unicast"` key (never two).
pub fn update_json(u: &Update) -> String {
    let a = &u.attributes;
    // family -> next hop -> prefixes, in first-seen order.
    type ByNextHop<'a> = Vec<(String, Vec<&'a Prefix>)>;
    fn add<'a>(
        announce: &mut Vec<(Family, ByNextHop<'a>)>,
        f: Family,
        nh: String,
        prefixes: &'a [Prefix],
    ) {
        if prefixes.is_empty() {
            return;
        }
        let i = match announce.iter().position(|(g, _)| *g == f) {
            Some(i) => i,
            None => {
                announce.push((f, Vec::new()));
                announce.len() - 1
            }
        };
        let by_nh = &mut announce[i].1;
        match by_nh.iter_mut().find(|(n, _)| *n == nh) {
            Some((_, list)) => list.extend(prefixes),
            None => by_nh.push((nh, prefixes.iter().collect())),
        }
    }
    fn remove<'a>(
        withdraw: &mut Vec<(Family, Vec<&'a Prefix>)>,
        f: Family,
        prefixes: &'a [Prefix],
    ) {
        if prefixes.is_empty() {
            return;
        }
        match withdraw.iter_mut().find(|(g, _)| *g == f) {
            Some((_, list)) => list.extend(prefixes),
            None => withdraw.push((f, prefixes.iter().collect())),
        }
    }
    let mut announce: Vec<(Family, ByNextHop)> = Vec::new();
    let nh_text = |n: Option<IpAddr>| n.map(|n| n.to_string()).unwrap_or_else(|| "null".into());
    add(
        &mut announce,
        Family::IPV4_UNICAST,
        nh_text(a.next_hop.map(IpAddr::V4)),
        &u.nlri,
    );
    if let Some(mp) = &a.mp_reach {
        add(
            &mut announce,
            mp.family,
            nh_text(mp.next_hops.first().copied()),
            &mp.nlri,
        );
    }
    let mut withdraw: Vec<(Family, Vec<&Prefix>)> = Vec::new();
    remove(&mut withdraw, Family::IPV4_UNICAST, &u.withdrawn);
    if let Some(mp) = &a.mp_unreach {
        remove(&mut withdraw, mp.family, &mp.withdrawn);
    }
    let mut o = Obj::new();
    // DESIGN.md's shape: the next hop is only shown with the announced NLRI.
    let attrs = attrtext::attributes_json(a, false);
    if !attrs.is_empty() {
        o = o.raw("attribute", attrs.build());
    }
    // Flow rules (RFC 8955/8956), after the prefixes: api/flowjson.rs.
    let (flow_a, flow_w) = (super::flowjson::announced(a), super::flowjson::withdrawn(a));
    if !announce.is_empty() || flow_a.is_some() {
        let mut fams = Obj::new();
        for (f, by_nh) in &announce {
            let mut o = Obj::new();
            for (nh, prefixes) in by_nh {
                o = o.raw(nh, jsonw::array(prefixes.iter().map(|p| nlri_obj(p))));
            }
            fams = fams.raw(&values::family_text(*f), o.build());
        }
        if let Some((name, rules)) = flow_a {
            fams = fams.raw(&name, rules);
        }
        o = o.raw("announce", fams.build());
    }
    if !withdraw.is_empty() || flow_w.is_some() {
        let mut fams = Obj::new();
        for (f, prefixes) in &withdraw {
            fams = fams.raw(
                &values::family_text(*f),
                jsonw::array(prefixes.iter().map(|p| nlri_obj(p))),
            );
        }
        if let Some((name, rules)) = flow_w {
            fams = fams.raw(&name, rules);
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

/// ExaBGP's `hexstring`: "0x" and upper-case hex ("0x" alone for no data).
fn hexstring(b: &[u8]) -> String {
    format!("0x{}", values::hex(b))
}

/// The data ExaBGP shows for a NOTIFICATION (notification.py, `Notification.__init__`).
///
/// A received Cease with subcode 2 or 4 (RFC 8203/9003) has its data replaced by
/// a sentence: `Shutdown Communication: "TEXT"` (CR and LF as spaces), or one
/// saying why the communication is invalid; every other received NOTIFICATION,
/// and every one we send, shows its data as it is on the wire.
fn notification_shown(n: &Notification, received: bool) -> Vec<u8> {
    let shutdown =
        n.code == ERR_CEASE && matches!(n.subcode, CEASE_ADMIN_SHUTDOWN | CEASE_ADMIN_RESET);
    if !received || !shutdown {
        return n.data.clone();
    }
    let Some((&len, text)) = n.data.split_first() else {
        // The old-fashioned shutdown, without a communication.
        return Vec::new();
    };
    let len = usize::from(len);
    if len == 0 {
        return b"empty Shutdown Communication.".to_vec();
    }
    let Some(message) = text.get(..len) else {
        return format!(
            "invalid Shutdown Communication (buffer underrun) length : {len} [{}]",
            hexstring(text)
        )
        .into_bytes();
    };
    // ExaBGP 5.0 holds to RFC 8203's 128 octets.
    if len > 128 {
        return format!(
            "invalid Shutdown Communication (too large) length : {len} [{}]",
            hexstring(text)
        )
        .into_bytes();
    }
    let Ok(message) = std::str::from_utf8(message) else {
        return format!(
            "invalid Shutdown Communication (invalid UTF-8) length : {len} [{}]",
            hexstring(text)
        )
        .into_bytes();
    };
    let mut shown = format!(
        "Shutdown Communication: \"{}\"",
        message.replace(['\r', '\n'], " ")
    );
    let trailer = &text[len..];
    if !trailer.is_empty() {
        shown.push_str(&format!(", trailing data: {}", hexstring(trailer)));
    }
    shown.into_bytes()
}

/// Python's `repr` of a float, which ExaBGP prints as "time": the shortest form
/// that reads back the same value, always with a fraction.
fn python_float(t: f64) -> String {
    let s = format!("{t}");
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
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
            match (state, reason) {
                (SessionState::Down, _) => n = n.str("reason", reason.as_deref().unwrap_or("")),
                // Our extension (ExaBGP's "up" has no reason): a session adopted
                // after a hitless restart says so, so a helper knows the routes
                // announced before the restart are still announced.
                (SessionState::Up, Some(r)) => n = n.str("reason", r),
                _ => {}
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
            // json.py `notification`: the data (as ExaBGP shows it) in hex and as text.
            let shown = notification_shown(note, ev.direction == Direction::Receive);
            let body = Obj::new()
                .num("code", note.code)
                .num("subcode", note.subcode)
                .str("data", &hexstring(&shown))
                .str("message", &String::from_utf8_lossy(&shown))
                .build();
            let n = neighbor_obj(&ev.peer)
                .str("direction", direction_text(ev.direction))
                .raw("notification", body);
            ("notification", n)
        }
        EventKind::Open(o) => {
            let n = neighbor_obj(&ev.peer)
                .str("direction", direction_text(ev.direction))
                .raw("open", capjson::open_json(o));
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
        .raw("time", python_float(time))
        .str("host", &origin.host)
        .num("pid", origin.pid)
        .num("ppid", origin.ppid)
        .num("counter", counter)
        .str("type", typ)
        .raw("neighbor", neighbor.build())
        .build()
}

/// One event as ExaBGP's text lines, each ending in '\n', at most
/// [`MAX_EVENT_BYTES`] long (an UPDATE over it is truncated, see [`encode_text_within`]).
pub fn encode_text(ev: &Event) -> String {
    match encode_text_within(ev, MAX_EVENT_BYTES) {
        Encoded::Whole(s) | Encoded::Truncated(s) => s,
        Encoded::TooBig => String::new(),
    }
}

/// Bytes `d` takes when formatted, without allocating it.
fn text_len(d: impl std::fmt::Display) -> usize {
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut c = Count(0);
    let _ = std::fmt::Write::write_fmt(&mut c, format_args!("{d}"));
    c.0
}

/// One event as ExaBGP's text lines in at most `limit` bytes.
///
/// ExaBGP repeats the attribute text on the line of every announced prefix, so the
/// text of one UPDATE grows with prefixes × attributes (a 64 KiB UPDATE could need
/// gigabytes). The size is counted first; the lines are then written while they fit
/// and, when they do not all fit, the lines not written are counted on one marker
/// line before the `end` line:
/// `neighbor P receive update truncated announced A withdrawn W`.
pub fn encode_text_within(ev: &Event, limit: usize) -> Encoded {
    let peer = ev.peer.peer_address;
    let dir = direction_text(ev.direction);
    let s = match &ev.kind {
        EventKind::Update(u) if u.end_of_rib().is_none() => {
            return update_text(&format!("neighbor {peer} {dir} update"), u, limit)
        }
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
        EventKind::EndOfRib(f) => eor_text(&format!("neighbor {peer} {dir} update"), *f),
        EventKind::Update(u) => match u.end_of_rib() {
            Some(f) => eor_text(&format!("neighbor {peer} {dir} update"), f),
            None => String::new(),
        },
    };
    // Every other event is a few lines whose size the message bounds (a
    // NOTIFICATION's data at most 128 KiB of hex).
    if s.len() > limit {
        Encoded::TooBig
    } else {
        Encoded::Whole(s)
    }
}

fn eor_text(p: &str, f: Family) -> String {
    format!(
        "{p} start\n{p} route eor {}\n{p} end\n",
        values::family_text(f)
    )
}

/// The text of an UPDATE in at most `limit` bytes (see [`encode_text_within`]).
fn update_text(p: &str, u: &Update, limit: usize) -> Encoded {
    let attrs = attrtext::attributes_text(&u.attributes);
    let v4_nh = u
        .attributes
        .next_hop
        .map(|n| format!(" next-hop {n}"))
        .unwrap_or_default();
    let empty: &[Prefix] = &[];
    let (mp_nh, mp_nlri) = match &u.attributes.mp_reach {
        Some(mp) => (
            mp.next_hops
                .first()
                .map(|n| format!(" next-hop {n}"))
                .unwrap_or_default(),
            &mp.nlri[..],
        ),
        None => (String::new(), empty),
    };
    let mp_w = u
        .attributes
        .mp_unreach
        .as_ref()
        .map_or(empty, |m| &m.withdrawn[..]);
    // (prefix, next hop, attributes) of every line, in ExaBGP's order.
    let announced = u
        .nlri
        .iter()
        .map(|n| (n, v4_nh.as_str(), attrs.as_str()))
        .chain(mp_nlri.iter().map(|n| (n, mp_nh.as_str(), attrs.as_str())));
    let withdrawn = u.withdrawn.iter().chain(mp_w.iter());
    // Flow rules (RFC 8955/8956) after the prefixes, as ExaBGP's text.py `update`
    // writes them: `announced RULE ATTRS` when the rule came with a next hop
    // (flow.py `extensive` ends with it), else `RULE ATTRS` (ExaBGP's format
    // `'%s %s %s'`, so two spaces before the attributes); `withdrawn RULE`. The
    // rule texts are bounded by the message; the attributes are added per line.
    let flow_attrs = attrtext::flow_attributes_text(&u.attributes);
    let (flow_a, flow_nh) = match &u.attributes.flow_reach {
        Some(r) => (
            r.nlri
                .iter()
                .map(|n| super::flowjson::extensive(n, r.next_hops.first().copied()))
                .collect(),
            !r.next_hops.is_empty(),
        ),
        None => (Vec::new(), false),
    };
    let flow_w: Vec<String> = u
        .attributes
        .flow_unreach
        .iter()
        .flat_map(|w| w.withdrawn.iter())
        .map(|n| super::flowjson::extensive(n, None))
        .collect();
    let flow_announced_line = |rule: &str| {
        let word = if flow_nh { " announced " } else { " " };
        let gap = if flow_nh { "" } else { " " };
        p.len() + word.len() + rule.len() + gap.len() + flow_attrs.len() + 1
    };
    let flow_withdrawn_line = |rule: &str| p.len() + " withdrawn ".len() + rule.len() + 1;
    let start = format!("{p} start\n");
    let end = format!("{p} end\n");
    let announced_line = |n: &Prefix, nh: &str, at: &str| {
        p.len() + " announced ".len() + text_len(n) + nh.len() + at.len() + 1
    };
    let withdrawn_line = |n: &Prefix| p.len() + " withdrawn ".len() + text_len(n) + 1;
    let whole = start.len()
        + end.len()
        + announced
            .clone()
            .map(|(n, nh, at)| announced_line(n, nh, at))
            .sum::<usize>()
        + withdrawn.clone().map(withdrawn_line).sum::<usize>()
        + flow_a.iter().map(|r| flow_announced_line(r)).sum::<usize>()
        + flow_w.iter().map(|r| flow_withdrawn_line(r)).sum::<usize>();
    let fits = whole <= limit;
    // Room kept for the marker line when not everything fits.
    let marker_room = p.len() + " truncated announced  withdrawn \n".len() + 40;
    let body_limit = if fits {
        limit
    } else {
        match limit.checked_sub(marker_room + end.len()) {
            Some(l) if l >= start.len() => l,
            _ => return Encoded::TooBig,
        }
    };
    let mut s = String::with_capacity(whole.min(limit));
    s.push_str(&start);
    let (mut left_a, mut left_w) = (0usize, 0usize);
    for (n, nh, at) in announced {
        if left_a == 0 && s.len() + announced_line(n, nh, at) <= body_limit {
            let _ = writeln!(s, "{p} announced {n}{nh}{at}");
        } else {
            left_a += 1;
        }
    }
    for r in &flow_a {
        if left_a == 0 && s.len() + flow_announced_line(r) <= body_limit {
            if flow_nh {
                let _ = writeln!(s, "{p} announced {r}{flow_attrs}");
            } else {
                let _ = writeln!(s, "{p} {r} {flow_attrs}");
            }
        } else {
            left_a += 1;
        }
    }
    for n in withdrawn {
        if left_a == 0 && left_w == 0 && s.len() + withdrawn_line(n) <= body_limit {
            let _ = writeln!(s, "{p} withdrawn {n}");
        } else {
            left_w += 1;
        }
    }
    for r in &flow_w {
        if left_a == 0 && left_w == 0 && s.len() + flow_withdrawn_line(r) <= body_limit {
            let _ = writeln!(s, "{p} withdrawn {r}");
        } else {
            left_w += 1;
        }
    }
    if fits {
        s.push_str(&end);
        return Encoded::Whole(s);
    }
    let _ = writeln!(s, "{p} truncated announced {left_a} withdrawn {left_w}");
    s.push_str(&end);
    s.shrink_to_fit();
    Encoded::Truncated(s)
}

#[cfg(test)]
mod limit_tests {
    use super::*;
    use crate::bgp::{Capability, LargeCommunity, Open, PathAttributes};
    use std::net::Ipv4Addr;
    use std::time::SystemTime;

    fn ev(u: Update) -> Event {
        Event {
            time: SystemTime::now(),
            peer: PeerInfo {
                local_address: None,
                peer_address: IpAddr::from([192, 0, 2, 254]),
                local_as: 65001,
                peer_as: 65000,
                peer_router_id: None,
                router_id: Ipv4Addr::new(192, 0, 2, 1),
            },
            direction: Direction::Receive,
            kind: EventKind::Update(Box::new(u)),
        }
    }

    fn big(n: u32) -> Update {
        Update {
            withdrawn: vec!["10.9.0.0/16".parse().unwrap_or_else(|_| unreachable!())],
            attributes: PathAttributes {
                next_hop: Some(Ipv4Addr::new(192, 0, 2, 254)),
                large_communities: (0..50)
                    .map(|i| LargeCommunity {
                        global: 65000,
                        local1: i,
                        local2: i,
                    })
                    .collect(),
                ..Default::default()
            },
            nlri: (0..n)
                .filter_map(|i| Prefix::new(IpAddr::from([10, (i / 256) as u8, i as u8, 0]), 24))
                .collect(),
            treat_as_withdraw: None,
        }
    }

    /// A plain "up" is ExaBGP's (no reason); one adopted after a hitless restart
    /// carries its reason.
    #[test]
    fn up_has_a_reason_only_when_adopted() {
        let origin = Origin::current();
        let mut e = ev(big(1));
        e.kind = EventKind::State {
            state: SessionState::Up,
            reason: None,
        };
        let plain = encode_json(&e, 1, &origin);
        assert!(
            plain.contains(r#""state": "up""#) && !plain.contains("reason"),
            "{plain}"
        );
        e.kind = EventKind::State {
            state: SessionState::Up,
            reason: Some("adopted from the previous process".into()),
        };
        let adopted = encode_json(&e, 2, &origin);
        assert!(
            adopted.contains(r#""reason": "adopted from the previous process""#),
            "{adopted}"
        );
    }

    /// A multiprotocol capability of the wrong length (decoded as unknown code
    /// 1) does not hide the families of the well-formed ones.
    #[test]
    fn malformed_multiprotocol_keeps_the_families() {
        let o = Open {
            version: 4,
            my_as: 65000,
            hold_time: 90,
            router_id: Ipv4Addr::new(192, 0, 2, 254),
            capabilities: vec![
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::Unknown {
                    code: 1,
                    value: vec![0, 2, 0],
                },
                Capability::Multiprotocol(Family::IPV6_UNICAST),
            ],
        };
        let json = capjson::open_json(&o);
        assert!(
            json.contains(r#""families": ["ipv4/unicast", "ipv6/unicast"]"#),
            "{json}"
        );
    }

    /// The cheap bound is a true lower bound of the JSON (IPv4 and IPv6, shortest
    /// prefixes, announced and withdrawn), so an event that fits is never refused.
    #[test]
    fn json_lower_bound_is_below_the_json() {
        let short = |a: IpAddr| Prefix::new(a, 0).unwrap_or_else(|| unreachable!());
        let v6 = IpAddr::from([0u16; 8]);
        let mut u = big(300);
        u.nlri.push(short(IpAddr::from([0, 0, 0, 0])));
        u.withdrawn.push(short(IpAddr::from([0, 0, 0, 0])));
        u.attributes.mp_reach = Some(crate::bgp::MpReach {
            family: Family::IPV6_UNICAST,
            next_hops: vec![v6],
            nlri: vec![short(v6); 50],
        });
        u.attributes.mp_unreach = Some(crate::bgp::MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: vec![short(v6); 50],
        });
        let e = ev(u);
        let json = encode_json(&e, 1, &Origin::current());
        assert!(json_lower_bound(&e) <= json.len());
        assert!(json_lower_bound(&e) > 300 * 20);
        let mut enc = EventEncoder::new(Encoder::Json, Origin::current());
        assert!(matches!(
            enc.encode_within(&e, json.len() + 1),
            Encoded::Whole(_)
        ));
    }

    /// Whole when it fits (exactly the size counted first); otherwise the lines
    /// that fit, a marker counting the rest, and `end`, never over the limit.
    #[test]
    fn text_update_is_cut_to_the_limit_with_a_counted_marker() {
        let e = ev(big(300));
        let Encoded::Whole(whole) = encode_text_within(&e, usize::MAX) else {
            panic!("not whole")
        };
        assert_eq!(
            encode_text_within(&e, whole.len()),
            Encoded::Whole(whole.clone())
        );
        for limit in [whole.len() - 1, 20_000, 3_000, 600] {
            let Encoded::Truncated(t) = encode_text_within(&e, limit) else {
                panic!("limit {limit}: not truncated")
            };
            assert!(t.len() <= limit, "{} > {limit}", t.len());
            let lines: Vec<&str> = t.lines().collect();
            assert!(lines[0].ends_with(" update start"));
            assert!(lines[lines.len() - 1].ends_with(" update end"));
            let marker = lines[lines.len() - 2];
            let w: Vec<&str> = marker.split(' ').collect();
            assert_eq!(w[3..6], ["update", "truncated", "announced"], "{marker}");
            let (a, wd): (usize, usize) = (w[6].parse().unwrap_or(0), w[8].parse().unwrap_or(0));
            let shown_a = lines
                .iter()
                .filter(|l| l.contains(" update announced "))
                .count();
            let shown_w = lines
                .iter()
                .filter(|l| l.contains(" update withdrawn "))
                .count();
            assert_eq!((shown_a + a, shown_w + wd), (300, 1), "limit {limit}");
            // The lines shown are the whole form's first lines, unchanged.
            assert!(whole.starts_with(&lines[..lines.len() - 2].join("\n")));
        }
        assert_eq!(encode_text_within(&e, 100), Encoded::TooBig);
    }

    /// A JSON event is whole or not written (and still counted).
    #[test]
    fn json_over_the_limit_is_not_written_but_counted() {
        let origin = Origin {
            host: "h".into(),
            pid: 1,
            ppid: 1,
        };
        let mut enc = EventEncoder::new(Encoder::Json, origin);
        let e = ev(big(300));
        assert_eq!(enc.encode_within(&e, 1000), Encoded::TooBig);
        let Encoded::Whole(s) = enc.encode_within(&e, MAX_EVENT_BYTES) else {
            panic!("not whole")
        };
        assert!(s.contains("\"counter\": 2"), "the dropped one was counted");
    }
}
