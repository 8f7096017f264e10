//! `[[flow]]`: a flow specification rule (RFC 8955/8956) with its actions, and
//! which neighbors it goes to. Keys are named as ExaBGP names them:
//!
//! ```toml
//! [[flow]]
//! match = { source = "10.0.0.1/32", destination-port = ["=80"], protocol = ["tcp"] }
//! then = { discard = true }
//! neighbors = ["192.0.2.254"]
//! ```
//!
//! A match value is a string or an array of strings (OR-ed terms, as ExaBGP's
//! `[ ... ]`), or integers for the numeric components; each is read by the flow
//! text parser of `bgp::flow`, so the words are those of ExaBGP's match syntax.

use std::net::IpAddr;
use std::sync::Arc;

use toml::de::DeValue;

use super::model::FlowConfig;
use super::neighbor::NeighborDraft;
use super::route::parse_scope;
use super::values::{parse_community, parse_ext_community};
use super::walk::{type_name, Ctx, SValue, Table};
use crate::bgp::flow::FlowAction;
use crate::bgp::{AsPath, Family, FlowNlri, FlowRule, Origin, PathAttributes};
use crate::rib::FlowRoute;

pub(crate) const FLOW_KEYS: &[&str] = &["match", "then", "rd", "neighbors"];

pub(crate) const MATCH_KEYS: &[&str] = &[
    "source",
    "destination",
    "protocol",
    "next-header",
    "port",
    "destination-port",
    "source-port",
    "icmp-type",
    "icmp-code",
    "tcp-flags",
    "packet-length",
    "dscp",
    "fragment",
    "flow-label",
];

pub(crate) const THEN_KEYS: &[&str] = &[
    "discard",
    "rate-limit",
    "redirect",
    "redirect-to-nexthop",
    "mark",
    "action",
    "community",
    "extended-community",
];

/// An inline or standard sub-table (`match`, `then`), or None (reported).
fn sub_table<'t, 'i>(
    ctx: &mut Ctx<'_>,
    t: &Table<'t, 'i>,
    key: &str,
    what: &'static str,
) -> Option<Table<'t, 'i>> {
    let v = t.get(key)?;
    match v.get_ref() {
        DeValue::Table(table) => Some(Table {
            table,
            span: v.span(),
            what,
        }),
        other => {
            ctx.error(
                &v.span(),
                format!(
                    "wrong type for {key}: found {}, expected a table, e.g. {key} = {{ ... }}",
                    type_name(other)
                ),
            );
            None
        }
    }
}

/// One match value as ExaBGP's text: `WORD` or `[ WORD WORD ]`.
fn match_text(ctx: &mut Ctx<'_>, key: &str, v: &SValue<'_>) -> Option<String> {
    let word = |d: &DeValue<'_>| match d {
        DeValue::String(s) => Some(s.to_string()),
        DeValue::Integer(i) => Some(i.as_str().to_string()),
        _ => None,
    };
    let expected =
        "a string, an integer or an array of them, e.g. \"=80\" or [\">=1024&<=65535\", \"=80\"]";
    let bad = |ctx: &mut Ctx<'_>, d: &DeValue<'_>, span| {
        ctx.error(
            &span,
            format!(
                "wrong type for {key}: found {}, expected {expected}",
                type_name(d)
            ),
        );
    };
    match v.get_ref() {
        DeValue::Array(items) => {
            let mut words = Vec::new();
            for item in items.iter() {
                match word(item.get_ref()) {
                    Some(w) => words.push(w),
                    None => {
                        bad(ctx, item.get_ref(), item.span());
                        return None;
                    }
                }
            }
            if words.is_empty() {
                ctx.error(
                    &v.span(),
                    format!("{key} is empty, expected at least one value"),
                );
                return None;
            }
            Some(format!("[ {} ]", words.join(" ")))
        }
        d => match word(d) {
            Some(w) => Some(w),
            None => {
                bad(ctx, d, v.span());
                None
            }
        },
    }
}

pub(crate) fn parse_flow(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    neighbors: &[NeighborDraft],
) -> Option<FlowConfig> {
    t.check_keys(ctx, FLOW_KEYS);
    let mut ok = true;

    let rule = match sub_table(ctx, t, "match", "[[flow]] match") {
        Some(m) => parse_match(ctx, &m),
        None => {
            if t.get("match").is_none() {
                t.missing(
                    ctx,
                    "match",
                    "the traffic to match, e.g. match = { destination = \"192.0.2.1/32\", destination-port = \"=80\" }",
                );
            }
            None
        }
    };

    let mut attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    };
    let mut next_hop = None;
    match sub_table(ctx, t, "then", "[[flow]] then") {
        Some(then) => ok &= parse_then(ctx, &then, &mut attrs, &mut next_hop),
        None => {
            if t.get("then").is_none() {
                t.missing(
                    ctx,
                    "then",
                    "the actions, e.g. then = { discard = true } or then = { rate-limit = 9600 }",
                );
            }
            ok = false;
        }
    }

    // A route distinguisher makes the rule flow-vpn (SAFI 134, RFC 8955 §8).
    let mut rd = None;
    if let Some((s, span)) = t.str(ctx, "rd", "a route distinguisher such as \"65000:1\"") {
        match crate::bgp::flow::parse_rd(s) {
            Ok(v) => rd = Some(v),
            Err(e) => {
                ctx.error(&span, format!("rd: {e}"));
                ok = false;
            }
        }
    } else {
        ok &= t.get("rd").is_none();
    }

    let (scope, scope_ok) = parse_scope(ctx, t, neighbors);
    ok &= scope_ok;

    let rule = rule?;
    let nlri = FlowNlri { rd, rule };
    let family = nlri.family();
    if scope_ok {
        check_family(ctx, t, family, scope.as_deref(), neighbors);
    }
    ok.then(|| FlowConfig {
        route: FlowRoute {
            nlri,
            next_hop,
            attributes: Arc::new(attrs),
        },
        neighbors: scope.unwrap_or_default(),
    })
}

fn parse_match(ctx: &mut Ctx<'_>, m: &Table<'_, '_>) -> Option<FlowRule> {
    m.check_keys(ctx, MATCH_KEYS);
    let mut ok = true;
    let mut text = Vec::new();
    for (key, v) in m.table.iter() {
        let key = key.get_ref().as_ref();
        if !MATCH_KEYS.contains(&key) {
            ok = false;
            continue;
        }
        let Some(value) = match_text(ctx, key, v) else {
            ok = false;
            continue;
        };
        let one = format!("{key} {value}");
        // Each component alone first, so an error points at its value.
        if let Err(e) = FlowRule::parse(&one, None) {
            ctx.error(&v.span(), format!("{key}: {e}"));
            ok = false;
            continue;
        }
        text.push(one);
    }
    if !ok {
        return None;
    }
    if text.is_empty() {
        ctx.error(
            &m.span,
            "match is empty, expected at least one of: ".to_string() + &MATCH_KEYS.join(", "),
        );
        return None;
    }
    match FlowRule::parse(&text.join(" "), None) {
        Ok(r) => Some(r),
        Err(e) => {
            ctx.error(&m.span, format!("match: {e}"));
            None
        }
    }
}

fn action(ctx: &mut Ctx<'_>, span: &std::ops::Range<usize>, text: &str) -> Option<FlowAction> {
    match text.parse::<FlowAction>() {
        Ok(a) => Some(a),
        Err(e) => {
            ctx.error(span, e.to_string());
            None
        }
    }
}

fn parse_then(
    ctx: &mut Ctx<'_>,
    then: &Table<'_, '_>,
    attrs: &mut PathAttributes,
    next_hop: &mut Option<IpAddr>,
) -> bool {
    then.check_keys(ctx, THEN_KEYS);
    let mut ok = true;
    let mut actions: Vec<FlowAction> = Vec::new();
    let mut push = |a: Option<FlowAction>, ok: &mut bool| match a {
        Some(a) => actions.push(a),
        None => *ok = false,
    };
    for key in ["discard", "redirect-to-nexthop"] {
        match then.bool(ctx, key) {
            Some(true) => {
                let span = then.get(key).map(|v| v.span()).unwrap_or_default();
                push(action(ctx, &span, key), &mut ok);
            }
            Some(false) => {}
            None => ok &= then.get(key).is_none(),
        }
    }
    if let Some(v) = then.get("rate-limit") {
        let rate = match v.get_ref() {
            DeValue::Integer(i) => Some(i.as_str().to_string()),
            DeValue::Float(f) => Some(f.as_str().to_string()),
            other => {
                ctx.error(
                    &v.span(),
                    format!(
                        "wrong type for rate-limit: found {}, expected bytes per second as a number, e.g. 9600",
                        type_name(other)
                    ),
                );
                None
            }
        };
        match rate {
            Some(r) => push(action(ctx, &v.span(), &format!("rate-limit {r}")), &mut ok),
            None => ok = false,
        }
    }
    if let Some((n, span)) = then.int(ctx, "mark", 0, 63, "a DSCP value from 0 to 63") {
        push(action(ctx, &span, &format!("mark {n}")), &mut ok);
    } else {
        ok &= then.get("mark").is_none();
    }
    if let Some((s, span)) = then.str(
        ctx,
        "action",
        "\"sample\", \"terminal\" or \"sample-terminal\"",
    ) {
        push(action(ctx, &span, &format!("action {s}")), &mut ok);
    } else {
        ok &= then.get("action").is_none();
    }
    if let Some((s, span)) = then.str(
        ctx,
        "redirect",
        "a string ASN:NN, IPV4:NN or an IP address (redirect to that next hop)",
    ) {
        // ExaBGP: an address alone is redirect-to-nexthop with that next hop.
        if let Ok(ip) = s.parse::<IpAddr>() {
            *next_hop = Some(ip);
            push(action(ctx, &span, "redirect-to-nexthop"), &mut ok);
        } else {
            push(action(ctx, &span, &format!("redirect {s}")), &mut ok);
        }
    } else {
        ok &= then.get("redirect").is_none();
    }
    for a in actions {
        attrs.ext_communities.push(a.to_ext_community());
    }
    ok &= strings(
        ctx,
        then,
        "community",
        "communities such as \"65000:1\"",
        |s| parse_community(s).map(|c| attrs.communities.push(c)),
    );
    ok &= strings(
        ctx,
        then,
        "extended-community",
        "extended communities such as \"target:65000:1\"",
        |s| parse_ext_community(s).map(|c| attrs.ext_communities.push(c)),
    );
    if attrs.ext_communities.is_empty() && attrs.communities.is_empty() && ok {
        ctx.error(
            &then.span,
            format!(
                "then has no action, expected one of: {}",
                THEN_KEYS.join(", ")
            ),
        );
        ok = false;
    }
    ok
}

/// A string or an array of strings, each given to `f`.
fn strings(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    expected: &str,
    mut f: impl FnMut(&str) -> Result<(), String>,
) -> bool {
    let Some(v) = t.get(key) else {
        return true;
    };
    if let DeValue::String(s) = v.get_ref() {
        return match f(s) {
            Ok(()) => true,
            Err(m) => {
                ctx.error(&v.span(), m);
                false
            }
        };
    }
    let Some((items, _)) = t.str_array(ctx, key, expected) else {
        return false;
    };
    let mut ok = true;
    for (s, span) in items {
        if let Err(m) = f(s) {
            ctx.error(&span, m);
            ok = false;
        }
    }
    ok
}

/// The rule's family must be negotiated by a neighbor it goes to.
fn check_family(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    family: Family,
    scope: Option<&[IpAddr]>,
    neighbors: &[NeighborDraft],
) {
    let mut targeted = false;
    for n in neighbors {
        let addr = n.address.as_ref().map(|(a, _)| *a);
        let goes = match (scope, addr) {
            (None, _) => true,
            (Some(list), Some(a)) => list.contains(&a),
            (Some(_), None) => false,
        };
        if !goes {
            continue;
        }
        match &n.families {
            None => return,
            Some(f) if f.contains(&family) => return,
            Some(_) => targeted = true,
        }
    }
    let why = if targeted {
        format!("no neighbor this rule goes to negotiates \"{family}\", expected \"{family}\" in their families")
    } else {
        "no neighbor to send this rule to, expected a [[neighbor]] (or fix neighbors)".to_string()
    };
    ctx.error(&t.span, why);
}
