//! `[[route]]`: a prefix, its next hop, its path attributes, and which neighbors it
//! goes to. The checks on those values are pure functions in `route_check.rs`,
//! shared with the fast path; this file places their messages in the file.

use std::net::IpAddr;
use std::ops::{ControlFlow, Range};
use std::sync::Arc;

use super::model::RouteConfig;
use super::neighbor::NeighborDraft;
use super::route_check::{
    duplicate_routes, family_problem, next_hop_of, scope_of, FamilyProblem, ScopeProblem,
    NEXT_HOP_EXPECTED,
};
use super::values::{
    parse_aggregator, parse_community, parse_ext_community, parse_ipv4, parse_large_community,
    parse_origin, parse_prefix, AS_RANGE,
};
use super::walk::{int_value, Ctx, Table};
use crate::bgp::{AsPath, Origin, PathAttributes, Prefix};
use crate::rib::{NextHop, Route};

pub(crate) const ROUTE_KEYS: &[&str] = &[
    "prefix",
    "next-hop",
    "origin",
    "as-path",
    "med",
    "local-preference",
    "communities",
    "large-communities",
    "extended-communities",
    "atomic-aggregate",
    "aggregator",
    "originator-id",
    "cluster-list",
    "neighbors",
];

/// One `[[route]]` as parsed, with what the duplicate check needs.
pub(crate) struct RouteDraft {
    pub(crate) config: Option<RouteConfig>,
    prefix: Option<(Prefix, Range<usize>)>,
    /// None: every neighbor; Some: the listed ones (only when the list was valid).
    scope: Option<Vec<IpAddr>>,
    scope_ok: bool,
}

pub(crate) fn parse_route(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    neighbors: &[NeighborDraft],
) -> RouteDraft {
    t.check_keys(ctx, ROUTE_KEYS);
    let mut ok = true;

    let prefix = match t.str(
        ctx,
        "prefix",
        "a prefix as a string, e.g. \"203.0.113.0/24\"",
    ) {
        Some((s, span)) => match parse_prefix(s) {
            Ok(p) => Some((p, span)),
            Err(m) => {
                ctx.error(&span, m);
                None
            }
        },
        None => {
            if t.get("prefix").is_none() {
                t.missing(
                    ctx,
                    "prefix",
                    "the prefix to announce, e.g. prefix = \"203.0.113.0/24\"",
                );
            }
            None
        }
    };

    let next_hop = parse_next_hop(ctx, t, prefix.as_ref().map(|(p, _)| *p));
    let mut attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    };

    if let Some((s, span)) = t.str(ctx, "origin", "\"igp\", \"egp\" or \"incomplete\"") {
        match parse_origin(s) {
            Ok(o) => attrs.origin = Some(o),
            Err(m) => {
                ctx.error(&span, m);
                ok = false;
            }
        }
    } else {
        ok &= t.get("origin").is_none();
    }

    if let Some((items, _)) = t.array(
        ctx,
        "as-path",
        &format!("an array of AS numbers, each {AS_RANGE}"),
    ) {
        let mut asns = Vec::with_capacity(items.len());
        for item in items {
            match int_value(ctx, "as-path", item, 0, i128::from(u32::MAX), AS_RANGE) {
                Some(0) => {
                    ctx.error(
                        &item.span(),
                        format!("as-path AS 0 is reserved, expected {AS_RANGE}"),
                    );
                    ok = false;
                }
                Some(n) => asns.push(u32::try_from(n).unwrap_or_default()),
                None => ok = false,
            }
        }
        attrs.as_path = Some(AsPath::sequence(asns));
    } else {
        ok &= t.get("as-path").is_none();
    }

    let u32_range = "an integer from 0 to 4294967295";
    for key in ["med", "local-preference"] {
        match t.int(ctx, key, 0, i128::from(u32::MAX), u32_range) {
            Some((n, _)) => {
                let n = u32::try_from(n).unwrap_or_default();
                if key == "med" {
                    attrs.med = Some(n);
                } else {
                    attrs.local_pref = Some(n);
                }
            }
            None => ok &= t.get(key).is_none(),
        }
    }

    ok &= list(
        ctx,
        t,
        "communities",
        "communities such as \"65000:1\" or \"no-export\"",
        parse_community,
        &mut attrs.communities,
    );
    ok &= list(
        ctx,
        t,
        "large-communities",
        "large communities such as \"65000:1:2\"",
        parse_large_community,
        &mut attrs.large_communities,
    );
    ok &= list(
        ctx,
        t,
        "extended-communities",
        "extended communities such as \"target:65000:1\"",
        parse_ext_community,
        &mut attrs.ext_communities,
    );

    match t.bool(ctx, "atomic-aggregate") {
        Some(b) => attrs.atomic_aggregate = b,
        None => ok &= t.get("atomic-aggregate").is_none(),
    }
    if let Some((s, span)) = t.str(
        ctx,
        "aggregator",
        "a string ASN:IPV4, e.g. \"65000:192.0.2.1\"",
    ) {
        match parse_aggregator(s) {
            Ok(a) => attrs.aggregator = Some(a),
            Err(m) => {
                ctx.error(&span, m);
                ok = false;
            }
        }
    } else {
        ok &= t.get("aggregator").is_none();
    }
    if let Some((s, span)) = t.str(
        ctx,
        "originator-id",
        "an IPv4 address as a string, e.g. \"192.0.2.1\"",
    ) {
        match parse_ipv4("originator-id", s) {
            Ok(a) => attrs.originator_id = Some(a),
            Err(m) => {
                ctx.error(&span, m);
                ok = false;
            }
        }
    } else {
        ok &= t.get("originator-id").is_none();
    }
    ok &= list(
        ctx,
        t,
        "cluster-list",
        "IPv4 addresses such as \"192.0.2.1\"",
        |s| parse_ipv4("cluster-list", s),
        &mut attrs.cluster_list,
    );

    let (scope, scope_ok) = parse_scope(ctx, t, neighbors);
    ok &= scope_ok;

    if let (Some((p, span)), true) = (&prefix, scope_ok) {
        check_family(ctx, *p, span, scope.as_deref(), neighbors);
    }

    let config = match (ok, &prefix, next_hop) {
        (true, Some((prefix, _)), Some(next_hop)) => Some(RouteConfig {
            route: Route {
                prefix: *prefix,
                next_hop,
                attributes: Arc::new(attrs),
            },
            neighbors: scope.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    RouteDraft {
        config,
        prefix,
        scope,
        scope_ok,
    }
}

/// An array of strings each parsed by `parse`; false when anything was invalid.
fn list<T>(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    expected: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    out: &mut Vec<T>,
) -> bool {
    let Some((items, _)) = t.str_array(ctx, key, expected) else {
        return t.get(key).is_none();
    };
    let mut ok = t
        .array(ctx, key, expected)
        .is_some_and(|(all, _)| all.len() == items.len());
    for (s, span) in items {
        match parse(s) {
            Ok(v) => out.push(v),
            Err(m) => {
                ctx.error(&span, m);
                ok = false;
            }
        }
    }
    ok
}

fn parse_next_hop(ctx: &mut Ctx<'_>, t: &Table<'_, '_>, prefix: Option<Prefix>) -> Option<NextHop> {
    let Some((s, span)) = t.str(ctx, "next-hop", NEXT_HOP_EXPECTED) else {
        if t.get("next-hop").is_none() {
            t.missing(
                ctx,
                "next-hop",
                "next-hop = \"self\" or an address, e.g. next-hop = \"192.0.2.1\"",
            );
        }
        return None;
    };
    match next_hop_of(s, prefix) {
        Ok(n) => Some(n),
        Err(m) => {
            ctx.error(&span, m);
            None
        }
    }
}

/// `neighbors`: (None = all, valid?).
pub(crate) fn parse_scope(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    neighbors: &[NeighborDraft],
) -> (Option<Vec<IpAddr>>, bool) {
    let Some((items, span)) = t.str_array(ctx, "neighbors", "neighbor addresses as strings") else {
        return (None, t.get("neighbors").is_none());
    };
    let mut ok = t
        .array(ctx, "neighbors", "")
        .is_some_and(|(all, _)| all.len() == items.len());
    if items.is_empty() && ok {
        ctx.error(&span, "neighbors is empty, expected at least one neighbor address (omit it to send to every neighbor)");
        return (None, false);
    }
    // Only when every neighbor address parsed can "unknown" be told apart from "broken".
    let all_known = neighbors.iter().all(|n| n.address.is_some());
    let mut known: Vec<IpAddr> = Vec::new();
    for a in neighbors
        .iter()
        .filter_map(|n| n.address.as_ref().map(|(a, _)| *a))
    {
        if !known.contains(&a) {
            known.push(a);
        }
    }
    let (out, problems) = scope_of(items.iter().map(|(s, _)| *s), &known);
    for (i, problem) in problems {
        ok = false;
        let span = &items[i].1;
        match problem {
            ScopeProblem::Unknown(a) if all_known => {
                let list = if known.is_empty() {
                    "none is configured".to_string()
                } else {
                    format!(
                        "one of: {}",
                        known
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                ctx.error(
                    span,
                    format!(
                        "neighbors names {a}, which is not a configured neighbor, expected {list}"
                    ),
                );
            }
            ScopeProblem::Unknown(_) => {}
            ScopeProblem::Invalid(m) => ctx.error(span, m),
        }
    }
    (Some(out), ok)
}

/// The route's family must be negotiated by at least one neighbor it goes to.
fn check_family(
    ctx: &mut Ctx<'_>,
    p: Prefix,
    span: &Range<usize>,
    scope: Option<&[IpAddr]>,
    neighbors: &[NeighborDraft],
) {
    let drafts = neighbors
        .iter()
        .map(|n| (n.address.as_ref().map(|(a, _)| *a), n.families.as_deref()));
    let Some(problem) = family_problem(p, scope, drafts) else {
        return;
    };
    let f = p.family().to_string();
    let msg = match (scope, problem) {
        (Some(list), _) => format!(
            "route {p} is {f} but none of its neighbors ({}) negotiates {f}, expected \"{f}\" in the families of one of them",
            list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        ),
        (None, FamilyProblem::NotNegotiated) => format!(
            "route {p} is {f} but no neighbor negotiates {f}, expected a [[neighbor]] whose families include \"{f}\""
        ),
        (None, FamilyProblem::NoNeighbor) => format!("route {p} has no neighbor to go to, expected a [[neighbor]] whose families include \"{f}\""),
    };
    ctx.error(span, msg);
}

/// The same prefix twice for overlapping neighbors (see `route_check.rs`): each
/// repeat reported with the line of the first.
pub(crate) fn check_duplicate_routes(ctx: &mut Ctx<'_>, routes: &[RouteDraft]) {
    let key = |i: usize| {
        let r: &RouteDraft = &routes[i];
        match (&r.prefix, r.scope_ok) {
            (Some((p, _)), true) => Some((*p, r.scope.as_deref().unwrap_or_default())),
            _ => None,
        }
    };
    let result = duplicate_routes(routes.len(), key, |i, first| {
        if let (Some((p, span)), Some((_, first))) = (&routes[i].prefix, &routes[first].prefix) {
            let line = ctx.line_of(first);
            ctx.error(
                span,
                format!(
                    "duplicate route {p} (first defined at line {line}) for the same neighbor, expected each prefix once per neighbor"
                ),
            );
        }
        ControlFlow::Continue(())
    });
    if result.is_err() {
        ctx.error(
            &(0..0),
            "too many [[route]] tables to check for duplicates, expected at most 4294967294",
        );
    }
}
