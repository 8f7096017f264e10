//! The body of a `neighbor`, `template { neighbor NAME }` or `group` block: its
//! settings, `family`, `capability`, `static` / `announce` routes and `api` blocks,
//! read into a [`Body`] that templates and groups fill in (`inherit`).

use std::net::{IpAddr, Ipv4Addr};

use super::super::model::ReceiveKind;
use super::super::walk::Ctx;
use super::lexer::Word;
use super::route::{parse_route, RouteSpec};
use super::tree::Node;
use crate::bgp::Family;

/// One `api { ... }` block of a neighbor.
pub(crate) struct Api {
    pub(crate) processes: Vec<(String, usize)>,
    pub(crate) receive: Vec<ReceiveKind>,
}

/// One route of a body, with the comments written before it.
pub(crate) struct RouteItem {
    pub(crate) spec: RouteSpec,
    pub(crate) comments: Vec<String>,
}

/// What a neighbor-like block said; None: not said (a template may fill it in).
#[derive(Default)]
pub(crate) struct Body {
    pub(crate) router_id: Option<Ipv4Addr>,
    /// Some(None): `local-address auto`.
    pub(crate) local_address: Option<Option<IpAddr>>,
    pub(crate) local_as: Option<u32>,
    pub(crate) peer_as: Option<u32>,
    pub(crate) hold_time: Option<u16>,
    pub(crate) passive: Option<bool>,
    pub(crate) port: Option<u16>,
    pub(crate) md5_password: Option<String>,
    /// `md5-ip`: accepted only when it is the local-address (checked by the caller).
    pub(crate) md5_ip: Option<IpAddr>,
    pub(crate) description: Option<String>,
    pub(crate) families: Option<Vec<Family>>,
    /// `capability { graceful-restart [TIME|disable]; }`.
    pub(crate) graceful_restart: Option<Graceful>,
    pub(crate) routes: Vec<RouteItem>,
    pub(crate) apis: Vec<Api>,
    pub(crate) inherit: Vec<(String, usize)>,
    /// Where each single-valued setting (a [`SCALARS`] keyword) was written.
    pub(crate) set_at: std::collections::BTreeMap<&'static str, usize>,
    /// Comments of the block and of its settings.
    pub(crate) comments: Vec<String>,
}

/// What `graceful-restart` said in a `capability` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Graceful {
    /// `graceful-restart disable`.
    Off,
    /// `graceful-restart;` alone: ExaBGP then uses the hold time as restart time.
    HoldTime,
    /// `graceful-restart SECONDS` (0..4095, RFC 4724 §3).
    Seconds(u16),
}

impl Graceful {
    /// The model's `graceful_restart` for a neighbor of this hold time.
    pub(crate) fn restart_time(self, hold_time: u16) -> Option<u16> {
        match self {
            Graceful::Off => None,
            Graceful::HoldTime => Some(hold_time.min(4095)),
            Graceful::Seconds(t) => Some(t),
        }
    }
}

/// The settings of a body that hold one value (their keyword as written); where
/// each was written is kept in [`Body::set_at`] to name both places of a conflict.
const SCALARS: &[&str] = &[
    "router-id",
    "local-address",
    "local-as",
    "peer-as",
    "hold-time",
    "passive",
    "connect",
    "md5-password",
    "md5-ip",
    "description",
    "graceful-restart",
];

/// Take `b` into `a` (see [`Body::inherit_from`]); a conflict is reported at `a`'s
/// place, naming `b`'s.
fn merge_one<T: Clone + PartialEq>(
    ctx: &mut Ctx<'_>,
    name: &'static str,
    who: &str,
    a: &mut Option<T>,
    a_at: &mut std::collections::BTreeMap<&'static str, usize>,
    b: &Option<T>,
    b_at: &std::collections::BTreeMap<&'static str, usize>,
) {
    let Some(bv) = b else { return };
    match a {
        None => {
            *a = Some(bv.clone());
            if let Some(at) = b_at.get(name) {
                a_at.insert(name, *at);
            }
        }
        Some(av) if av == bv => {}
        Some(_) => {
            let here = a_at.get(name).copied().unwrap_or(0);
            let there = b_at.get(name).copied().unwrap_or(0);
            let (line, col) = ctx.index.position(there);
            let file = ctx.file;
            ctx.error(
                &(here..here),
                format!(
                    "{name} is set here and, to a different value, at {file}:{line}:{col}, both for neighbor {who} (through inherit or its group): ExaBGP would keep the template's value over the neighbor's (and the last template of inherit [ ... ]); exabgp-rs refuses the ambiguity, set {name} in one place"
                ),
            );
        }
    }
}

impl Body {
    /// Take in `other` (a template or a group) for the neighbor `who`. ExaBGP applies
    /// `inherit` at the end of the neighbor block (scope.py `transfer`): a
    /// template's single-valued setting overwrites the neighbor's (with
    /// `inherit [ A B ]`, B's wins) and lists add up. Here a setting given on both
    /// sides with different values is refused, naming both places (identical
    /// values are fine); families are the union; routes and api blocks add up, the
    /// inherited ones first.
    pub(crate) fn inherit_from(&mut self, ctx: &mut Ctx<'_>, other: &Body, who: &str) {
        let at = &mut self.set_at;
        let o = &other.set_at;
        merge_one(
            ctx,
            "router-id",
            who,
            &mut self.router_id,
            at,
            &other.router_id,
            o,
        );
        merge_one(
            ctx,
            "local-address",
            who,
            &mut self.local_address,
            at,
            &other.local_address,
            o,
        );
        merge_one(
            ctx,
            "local-as",
            who,
            &mut self.local_as,
            at,
            &other.local_as,
            o,
        );
        merge_one(
            ctx,
            "peer-as",
            who,
            &mut self.peer_as,
            at,
            &other.peer_as,
            o,
        );
        merge_one(
            ctx,
            "hold-time",
            who,
            &mut self.hold_time,
            at,
            &other.hold_time,
            o,
        );
        merge_one(
            ctx,
            "passive",
            who,
            &mut self.passive,
            at,
            &other.passive,
            o,
        );
        merge_one(ctx, "connect", who, &mut self.port, at, &other.port, o);
        merge_one(
            ctx,
            "md5-password",
            who,
            &mut self.md5_password,
            at,
            &other.md5_password,
            o,
        );
        merge_one(
            ctx,
            "description",
            who,
            &mut self.description,
            at,
            &other.description,
            o,
        );
        merge_one(
            ctx,
            "graceful-restart",
            who,
            &mut self.graceful_restart,
            at,
            &other.graceful_restart,
            o,
        );
        match (&mut self.families, &other.families) {
            (Some(mine), Some(theirs)) => {
                for f in theirs {
                    if !mine.contains(f) {
                        mine.push(*f);
                    }
                }
            }
            (None, Some(theirs)) => self.families = Some(theirs.clone()),
            _ => {}
        }
        let mut routes: Vec<RouteItem> = other
            .routes
            .iter()
            .map(|r| RouteItem {
                spec: r.spec.clone(),
                comments: r.comments.clone(),
            })
            .collect();
        routes.append(&mut self.routes);
        self.routes = routes;
        let mut apis: Vec<Api> = other
            .apis
            .iter()
            .map(|a| Api {
                processes: a.processes.clone(),
                receive: a.receive.clone(),
            })
            .collect();
        apis.append(&mut self.apis);
        self.apis = apis;
    }
}

/// Neighbor settings ExaBGP has and this model does not: refused by name, with why.
const REFUSED_SETTINGS: &[(&str, &str)] = &[
    ("listen", "exabgp-rs listens on one port for every neighbor: set exabgp.tcp.port (exabgp_tcp_port) in the env file instead"),
    ("host-name", "the FQDN capability is not supported"),
    ("domain-name", "the FQDN capability is not supported"),
    ("rate-limit", "rate limiting of updates is not supported"),
    ("outgoing-ttl", "TTL security (GTSM) is not supported"),
    ("incoming-ttl", "TTL security (GTSM) is not supported"),
    ("ttl-security", "TTL security (GTSM) is not supported"),
    ("multihop", "TTL settings are not supported"),
    ("source-interface", "binding to an interface is not supported: use local-address"),
    ("add-path", "ADD-PATH is not supported"),
    ("nexthop", "extended next-hop (RFC 8950) is not supported"),
    ("flow", "FlowSpec in the classic configuration is not supported yet: use [[flow]] in TOML"),
    ("l2vpn", "L2VPN / VPLS is not supported"),
    ("vpls", "L2VPN / VPLS is not supported"),
    ("operational", "operational messages are not supported"),
    ("processes-match", "matching processes by regular expression is not supported: name them in processes [ ... ]"),
];

/// A boolean setting as ExaBGP reads it: no value means true.
fn boolean(ctx: &mut Ctx<'_>, n: &Node) -> Option<bool> {
    match n.args() {
        [] => Some(true),
        [w] => match w.text.to_ascii_lowercase().as_str() {
            "true" | "enable" | "enabled" => Some(true),
            "false" | "disable" | "disabled" => Some(false),
            _ => {
                ctx.error(
                    &(w.at..w.at),
                    format!(
                        "invalid value \"{}\" for {}, expected true, false, enable or disable",
                        w.text,
                        n.keyword()
                    ),
                );
                None
            }
        },
        [_, extra, ..] => {
            ctx.error(
                &(extra.at..extra.at),
                format!("{} takes one value", n.keyword()),
            );
            None
        }
    }
}

/// The single value of a `key value;` statement. None: reported.
fn one<'n>(ctx: &mut Ctx<'_>, n: &'n Node, expected: &str) -> Option<&'n Word> {
    match n.args() {
        [w] => Some(w),
        [] => {
            ctx.error(
                &(n.at..n.at),
                format!("{} needs a value: {expected}", n.keyword()),
            );
            None
        }
        [_, extra, ..] => {
            ctx.error(
                &(extra.at..extra.at),
                format!("{} takes one value: {expected}", n.keyword()),
            );
            None
        }
    }
}

fn number<T: TryFrom<u64>>(
    ctx: &mut Ctx<'_>,
    n: &Node,
    expected: &str,
    ok: impl Fn(u64) -> bool,
) -> Option<T> {
    let w = one(ctx, n, expected)?;
    match w.text.parse::<u64>() {
        Ok(v) if ok(v) => T::try_from(v).ok(),
        _ => {
            ctx.error(
                &(w.at..w.at),
                format!(
                    "invalid {} \"{}\", expected {expected}",
                    n.keyword(),
                    w.text
                ),
            );
            None
        }
    }
}

fn asn(ctx: &mut Ctx<'_>, n: &Node) -> Option<u32> {
    if let [w] = n.args() {
        if w.text.eq_ignore_ascii_case("auto") {
            ctx.error(
                &(w.at..w.at),
                format!(
                    "{} auto is not supported, expected an AS number",
                    n.keyword()
                ),
            );
            return None;
        }
    }
    number(ctx, n, "an AS number from 1 to 4294967295", |v| {
        v >= 1 && v <= u64::from(u32::MAX)
    })
}

fn ipv4(ctx: &mut Ctx<'_>, n: &Node) -> Option<Ipv4Addr> {
    let w = one(ctx, n, "an IPv4 address")?;
    match w.text.parse::<Ipv4Addr>() {
        Ok(a) if !a.is_unspecified() => Some(a),
        _ => {
            ctx.error(
                &(w.at..w.at),
                format!(
                    "invalid {} \"{}\", expected a non-zero IPv4 address such as 192.0.2.1",
                    n.keyword(),
                    w.text
                ),
            );
            None
        }
    }
}

/// Read the children of a neighbor-like block into a body. `in_template`: `inherit`
/// is refused (one level of templates, as ExaBGP's examples use).
pub(crate) fn read_body(ctx: &mut Ctx<'_>, children: &[Node], in_template: bool) -> Body {
    let mut b = Body::default();
    for n in children {
        let key = n.keyword();
        let at = n.at..n.at;
        // Comments stay with the neighbor, except those of routes (kept with each).
        b.comments.extend(n.comments.iter().cloned());
        if !matches!(key.as_str(), "static" | "announce") {
            for c in n.children.iter().flatten() {
                all_comments(c, &mut b.comments);
            }
        }
        if n.children.is_none() {
            if let Some(k) = SCALARS.iter().find(|k| **k == key) {
                b.set_at.insert(k, n.at);
            }
        }
        match (key.as_str(), n.children.as_deref()) {
            ("router-id", None) => b.router_id = ipv4(ctx, n).or(b.router_id),
            ("local-address", None) => {
                if let Some(w) = one(ctx, n, "an IP address or auto") {
                    if w.text.eq_ignore_ascii_case("auto") {
                        b.local_address = Some(None);
                    } else {
                        match w.text.parse::<IpAddr>() {
                            Ok(a) => b.local_address = Some(Some(a)),
                            Err(_) => ctx.error(&(w.at..w.at), format!("invalid local-address \"{}\", expected an IP address", w.text)),
                        }
                    }
                }
            }
            ("local-as", None) => b.local_as = asn(ctx, n).or(b.local_as),
            ("peer-as", None) => b.peer_as = asn(ctx, n).or(b.peer_as),
            ("hold-time", None) => {
                b.hold_time = number(ctx, n, "0 or 3 to 65535 seconds", |v| v == 0 || (3..=65535).contains(&v)).or(b.hold_time)
            }
            ("passive", None) => b.passive = boolean(ctx, n).or(b.passive),
            ("connect", None) => b.port = number(ctx, n, "a port from 1 to 65535", |v| (1..=65535).contains(&v)).or(b.port),
            ("md5-password", None) => {
                if let Some(w) = one(ctx, n, "the password") {
                    if w.text.is_empty() || w.text.len() > 80 {
                        ctx.error(&(w.at..w.at), "md5-password must be 1 to 80 bytes (the Linux limit)");
                    } else {
                        b.md5_password = Some(w.text.clone());
                    }
                }
            }
            ("md5-ip", None) => {
                if let Some(w) = one(ctx, n, "an IP address") {
                    match w.text.parse::<IpAddr>() {
                        Ok(a) => b.md5_ip = Some(a),
                        Err(_) => ctx.error(&(w.at..w.at), format!("invalid md5-ip \"{}\", expected an IP address", w.text)),
                    }
                }
            }
            ("md5-base64", None) => {
                if boolean(ctx, n) == Some(true) {
                    ctx.error(&at, "md5-base64 true is not supported: write the password itself in md5-password");
                }
            }
            ("description", None) => {
                if let Some(w) = one(ctx, n, "a quoted text") {
                    b.description = Some(w.text.clone());
                }
            }
            // Settings whose ExaBGP default is what exabgp-rs always does: the
            // default is accepted, the other value refused.
            // Only how routes are packed into UPDATEs (one per route in ExaBGP when
            // false); the routes the peer ends with are the same. Accepted: it is in
            // most of ExaBGP's examples.
            ("group-updates", None) => {
                boolean(ctx, n);
            }
            ("auto-flush", None) => refuse_if(ctx, n, false, "auto-flush false is not supported: exabgp-rs sends API changes as they come (there is no 'flush' command)"),
            ("adj-rib-out", None) => refuse_if(ctx, n, false, "adj-rib-out false is not supported: exabgp-rs always keeps what it announced and sends it again when the session comes back"),
            ("adj-rib-in", None) => refuse_if(ctx, n, true, "adj-rib-in true is not supported: received routes are not stored for re-reading"),
            ("manual-eor", None) => refuse_if(ctx, n, true, "manual-eor true is not supported: exabgp-rs sends End-of-RIB itself"),
            ("inherit", None) => {
                if in_template {
                    ctx.error(&at, "inherit inside a template is not supported: templates are one level deep");
                }
                for w in n.args() {
                    if w.text != "[" && w.text != "]" && w.text != "," {
                        b.inherit.push((w.text.clone(), w.at));
                    }
                }
            }
            // A second family block adds to the first, as in ExaBGP.
            ("family", Some(c)) => {
                if let Some(fs) = families(ctx, c) {
                    let mine = b.families.get_or_insert_with(Vec::new);
                    for f in fs {
                        if !mine.contains(&f) {
                            mine.push(f);
                        }
                    }
                }
            }
            ("capability", Some(c)) => capabilities(ctx, c, &mut b),
            ("static", Some(c)) => statics(ctx, c, &mut b),
            ("announce", Some(c)) => announce(ctx, c, &mut b),
            ("api", Some(c)) => {
                if n.args().len() > 1 {
                    ctx.error(&at, "api takes at most a name before '{'");
                }
                if let Some(api) = api(ctx, n.at, c) {
                    b.apis.push(api);
                }
            }
            (k, _) => match REFUSED_SETTINGS.iter().find(|(name, _)| *name == k) {
                Some((name, why)) => ctx.error(&at, format!("'{name}' is not supported: {why}")),
                None if n.children.is_some() => ctx.error(&at, format!("unknown block '{k}' in a neighbor, expected family, capability, static, announce or api")),
                None => ctx.error(&at, format!("unknown neighbor setting '{k}', expected one of: router-id, local-address, local-as, peer-as, hold-time, passive, connect, md5-password, description, group-updates, auto-flush, adj-rib-out, inherit")),
            },
        }
    }
    b
}

fn all_comments(n: &Node, out: &mut Vec<String>) {
    out.extend(n.comments.iter().cloned());
    for c in n.children.iter().flatten() {
        all_comments(c, out);
    }
}

fn refuse_if(ctx: &mut Ctx<'_>, n: &Node, bad: bool, why: &str) {
    if boolean(ctx, n) == Some(bad) {
        ctx.error(&(n.at..n.at), why.to_string());
    }
}

/// `family { ipv4 unicast; ipv6 unicast; }`, `all` (what exabgp-rs supports).
fn families(ctx: &mut Ctx<'_>, children: &[Node]) -> Option<Vec<Family>> {
    let mut out = Vec::new();
    let mut ok = true;
    for n in children {
        let text = n
            .words
            .iter()
            .map(|w| w.text.to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(" ");
        let f = match text.as_str() {
            "ipv4 unicast" => vec![Family::IPV4_UNICAST],
            "ipv6 unicast" => vec![Family::IPV6_UNICAST],
            "all" => vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
            _ => {
                ctx.error(&(n.at..n.at), format!("family '{text}' is not supported, expected ipv4 unicast, ipv6 unicast or all"));
                ok = false;
                continue;
            }
        };
        for f in f {
            if !out.contains(&f) {
                out.push(f);
            }
        }
    }
    if out.is_empty() && ok {
        if let Some(n) = children.first() {
            ctx.error(&(n.at..n.at), "family block is empty");
        }
    }
    ok.then_some(out).filter(|o| !o.is_empty())
}

/// `capability { ... }`: what exabgp-rs always does is accepted, a capability it
/// does not implement is refused by name (its `disable` form is accepted).
fn capabilities(ctx: &mut Ctx<'_>, children: &[Node], b: &mut Body) {
    for n in children {
        let key = n.keyword();
        let at = n.at..n.at;
        let value = n.args().first().map(|w| w.text.to_ascii_lowercase());
        let off = matches!(value.as_deref(), Some("disable" | "disabled" | "false"));
        match key.as_str() {
            // Always sent by exabgp-rs.
            "route-refresh" | "asn4" | "extended-message" => {
                let on = matches!(value.as_deref(), None | Some("enable" | "enabled" | "true"));
                if !on && !off {
                    let w = n.args().first().map_or(n.at, |w| w.at);
                    ctx.error(&(w..w), format!("invalid value for capability {key}, expected enable or disable"));
                } else if off {
                    ctx.error(&at, format!("capability '{key} disable' is not supported: exabgp-rs always announces {key}"));
                }
            }
            // ExaBGP's capability.py: alone, the hold time; a number of seconds
            // up to 4095; or disable.
            "graceful-restart" => {
                b.set_at.insert("graceful-restart", n.at);
                match n.args() {
                    [] => b.graceful_restart = Some(Graceful::HoldTime),
                    _ if off => b.graceful_restart = Some(Graceful::Off),
                    _ => {
                        if let Some(t) = number(ctx, n, "0 to 4095 seconds or disable", |v| v <= 4095) {
                            b.graceful_restart = Some(Graceful::Seconds(t));
                        }
                    }
                }
            }
            "add-path" | "multi-session" | "operational" | "aigp"
            | "nexthop" | "software-version" | "link-local-nexthop" | "paths-limit" => {
                if !off {
                    ctx.error(&at, format!("capability '{key}' is not supported (only its 'disable' form is accepted)"));
                }
            }
            _ => ctx.error(&at, format!("unknown capability '{key}', expected route-refresh, asn4, extended-message, or a capability's disable form")),
        }
    }
}

/// `static { route P ...; route P { ...; } }`.
fn statics(ctx: &mut Ctx<'_>, children: &[Node], b: &mut Body) {
    for n in children {
        let key = n.keyword();
        if key != "route" {
            ctx.error(
                &(n.at..n.at),
                format!("'{key}' in static is not supported, expected route PREFIX ...;"),
            );
            continue;
        }
        one_route(ctx, n, b);
    }
}

fn one_route(ctx: &mut Ctx<'_>, n: &Node, b: &mut Body) {
    let Some(kw) = n.words.first() else { return };
    let mut words: Vec<Word> = n.args().to_vec();
    if let Some(c) = &n.children {
        if words.len() != 1 {
            ctx.error(
                &(n.at..n.at),
                format!(
                    "{} PREFIX {{ ... }}: expected only the prefix before '{{'",
                    kw.text
                ),
            );
            return;
        }
        for s in c {
            if s.children.is_some() {
                ctx.error(
                    &(s.at..s.at),
                    format!("unexpected block '{}' in a route", s.keyword()),
                );
                return;
            }
            words.extend(s.words.iter().cloned());
        }
    }
    let mut comments = n.comments.clone();
    if let Some(c) = &n.children {
        comments.extend(c.iter().flat_map(|s| s.comments.iter().cloned()));
    }
    if let Some(spec) = parse_route(ctx, kw, &words) {
        b.routes.push(RouteItem { spec, comments });
    }
}

/// `announce { ipv4 { unicast P ...; } ipv6 { unicast P ...; } }` (ExaBGP 4.2/5.0).
fn announce(ctx: &mut Ctx<'_>, children: &[Node], b: &mut Body) {
    for afi in children {
        b.comments.extend(afi.comments.iter().cloned());
        let name = afi.keyword();
        let Some(c) = afi
            .children
            .as_deref()
            .filter(|_| name == "ipv4" || name == "ipv6")
        else {
            ctx.error(&(afi.at..afi.at), format!("'{name}' in announce is not supported, expected ipv4 {{ ... }} or ipv6 {{ ... }}"));
            continue;
        };
        for n in c {
            let safi = n.keyword();
            if safi != "unicast" {
                ctx.error(&(n.at..n.at), format!("family '{name} {safi}' is not supported in announce, expected {name} unicast"));
                continue;
            }
            let before = b.routes.len();
            one_route(ctx, n, b);
            if let Some(r) = b.routes.get(before) {
                let wrong = r.spec.route.prefix.addr().is_ipv4() != (name == "ipv4");
                if wrong {
                    ctx.error(
                        &(r.spec.at..r.spec.at),
                        format!("this prefix is not {name}"),
                    );
                    b.routes.truncate(before);
                }
            }
        }
    }
}

/// `api [NAME] { processes [ a b ]; neighbor-changes; receive { parsed; update; } send { } }`.
fn api(ctx: &mut Ctx<'_>, block_at: usize, children: &[Node]) -> Option<Api> {
    let mut api = Api {
        processes: Vec::new(),
        receive: Vec::new(),
    };
    let mut ok = true;
    let add = |api: &mut Api, k: ReceiveKind| {
        if !api.receive.contains(&k) {
            api.receive.push(k);
        }
    };
    for n in children {
        let key = n.keyword();
        let at = n.at..n.at;
        match (key.as_str(), n.children.as_deref()) {
            ("processes", None) => {
                for w in n.args() {
                    if w.text != "[" && w.text != "]" && w.text != "," {
                        api.processes.push((w.text.clone(), w.at));
                    }
                }
            }
            ("neighbor-changes", None) => {
                if boolean(ctx, n) == Some(true) {
                    add(&mut api, ReceiveKind::State);
                }
            }
            ("negotiated", None) => {
                if boolean(ctx, n) == Some(true) {
                    add(&mut api, ReceiveKind::Negotiated);
                }
            }
            ("receive", Some(c)) => {
                for m in c {
                    let k = m.keyword();
                    let kind = match k.as_str() {
                        "parsed" => None,
                        "update" => Some(ReceiveKind::Update),
                        "open" => Some(ReceiveKind::Open),
                        "notification" => Some(ReceiveKind::Notification),
                        "keepalive" => Some(ReceiveKind::Keepalive),
                        "refresh" => Some(ReceiveKind::Refresh),
                        "packets" | "consolidate" => {
                            ctx.error(&(m.at..m.at), format!("receive '{k}' is not supported: exabgp-rs sends parsed messages only (no raw packets)"));
                            ok = false;
                            continue;
                        }
                        "operational" => {
                            ctx.error(&(m.at..m.at), "receive 'operational' is not supported: operational messages are not implemented");
                            ok = false;
                            continue;
                        }
                        _ => {
                            ctx.error(&(m.at..m.at), format!("unknown receive '{k}', expected parsed, update, open, notification, keepalive or refresh"));
                            ok = false;
                            continue;
                        }
                    };
                    if boolean(ctx, m) == Some(true) {
                        if let Some(kind) = kind {
                            add(&mut api, kind);
                        }
                    }
                }
            }
            ("send", Some(c)) => {
                for m in c {
                    if boolean(ctx, m) == Some(true) {
                        ctx.error(&(m.at..m.at), format!("send '{}' is not supported: exabgp-rs does not copy the messages it sends to helpers", m.keyword()));
                        ok = false;
                    }
                }
            }
            ("fsm" | "signal", None) => {
                if boolean(ctx, n) == Some(true) {
                    ctx.error(&at, format!("api '{key}' is not supported"));
                    ok = false;
                }
            }
            ("processes-match", None) => {
                ctx.error(&at, "api 'processes-match' is not supported: name the processes in processes [ ... ]");
                ok = false;
            }
            _ => {
                ctx.error(&at, format!("unknown api setting '{key}', expected processes, neighbor-changes, negotiated, receive {{ }} or send {{ }}"));
                ok = false;
            }
        }
    }
    if api.processes.is_empty() && ok {
        ok = false;
        ctx.error(
            &(block_at..block_at),
            "api names no process, expected processes [ NAME ];",
        );
    }
    ok.then_some(api)
}
