//! A route as ExaBGP's configuration writes it: `route PREFIX next-hop NH med 10
//! community [ 65000:1 ] split /24;` (in `static`), or `unicast PREFIX ...;` (in
//! `announce { ipv4 { ... } }`), or the block form `route PREFIX { next-hop NH; ... }`.
//! The attribute words are ExaBGP's (src/exabgp/configuration/static/route.py);
//! those with no equivalent in our model are refused by name.

use std::net::IpAddr;
use std::sync::Arc;

use super::super::route_check::next_hop_of;
use super::super::values::{
    parse_aggregator, parse_community, parse_ext_community, parse_ipv4, parse_large_community,
    parse_origin, parse_prefix,
};
use super::super::walk::Ctx;
use super::lexer::Word;
use crate::bgp::{AsPath, Origin, PathAttributes, Prefix};
use crate::rib::Route;

/// The most routes one `split` may produce.
pub(crate) const SPLIT_MAX: u32 = 65_536;

/// Route attributes ExaBGP knows that this model cannot hold: refused by name.
const REFUSED: &[(&str, &str)] = &[
    ("path-information", "ADD-PATH is not supported"),
    ("label", "labelled unicast (RFC 8277) is not supported"),
    ("rd", "VPN routes are not supported"),
    ("route-distinguisher", "VPN routes are not supported"),
    ("watchdog", "API watchdogs are not supported"),
    (
        "withdraw",
        "routes configured as withdrawn (for a watchdog) are not supported",
    ),
    ("name", "route names are not supported"),
    ("attribute", "generic (raw) attributes are not supported"),
    ("aigp", "the AIGP attribute is not supported"),
    (
        "bgp-prefix-sid",
        "the BGP Prefix-SID attribute is not supported",
    ),
    (
        "bgp-prefix-sid-srv6",
        "the BGP Prefix-SID attribute is not supported",
    ),
    ("as-sequence", "use as-path [ ... ]"),
    ("local-as", "not a route attribute here"),
];

/// The most routes a classic file may expand to, `split` and the routes of
/// templates and groups (copied to each neighbor) counted: each costs memory
/// before any session starts. The TOML has no expansion, so no such limit.
pub(crate) const FILE_ROUTES_MAX: usize = 1_000_000;

/// One route as written, before it meets its neighbor: the prefix and its `split`
/// length. The prefixes are expanded only once counted (see [`RouteSpec::count`]).
#[derive(Clone)]
pub(crate) struct RouteSpec {
    /// The route of the prefix as written.
    pub(crate) route: Route,
    /// `split /N`: N (checked: at most [`SPLIT_MAX`] routes).
    pub(crate) split: Option<u8>,
    /// Offset of the prefix, for messages about the route.
    pub(crate) at: usize,
}

impl RouteSpec {
    /// How many routes [`RouteSpec::routes`] gives.
    pub(crate) fn count(&self) -> usize {
        match self.split {
            Some(n) => 1usize << (n.saturating_sub(self.route.prefix.len()).min(31)),
            None => 1,
        }
    }

    /// The routes: one, or the prefix cut by `split`, sharing the attributes.
    pub(crate) fn routes(&self) -> Vec<Route> {
        match self.split {
            Some(n) => split_prefix(self.route.prefix, n)
                .into_iter()
                .map(|prefix| Route {
                    prefix,
                    next_hop: self.route.next_hop,
                    attributes: self.route.attributes.clone(),
                })
                .collect(),
            None => vec![self.route.clone()],
        }
    }
}

fn err(ctx: &mut Ctx<'_>, at: usize, m: impl Into<String>) {
    ctx.error(&(at..at), m);
}

/// ExaBGP's spellings of the well-known communities that the shared parser does
/// not know (it takes `no-peer`, and `_` for `-` as in `no_export`).
fn community_alias(s: &str) -> &str {
    if s.eq_ignore_ascii_case("nopeer") {
        "no-peer"
    } else {
        s
    }
}

/// The words after a value keyword: `[ a b , c ]` or a single word. None: reported.
fn list<'w>(
    ctx: &mut Ctx<'_>,
    key: &str,
    words: &mut std::slice::Iter<'w, Word>,
) -> Option<Vec<&'w Word>> {
    let first = words.next()?;
    if first.text != "[" {
        return Some(vec![first]);
    }
    let mut out = Vec::new();
    for w in words.by_ref() {
        match w.text.as_str() {
            "]" => return Some(out),
            "," => {}
            _ => out.push(w),
        }
    }
    err(ctx, first.at, format!("missing ']' after {key} [ ..."));
    None
}

/// Parse `PREFIX attribute...` (`words[0]` is the prefix). None when anything was
/// wrong (every problem reported).
pub(crate) fn parse_route(ctx: &mut Ctx<'_>, keyword: &Word, words: &[Word]) -> Option<RouteSpec> {
    let Some(pw) = words.first() else {
        err(
            ctx,
            keyword.at,
            format!(
                "'{}' needs a prefix, e.g. {} 203.0.113.0/24 next-hop self;",
                keyword.text, keyword.text
            ),
        );
        return None;
    };
    let prefix = match parse_prefix(&pw.text) {
        Ok(p) => p,
        Err(m) => {
            err(ctx, pw.at, m);
            return None;
        }
    };
    let mut ok = true;
    let mut next_hop = None;
    let mut split: Option<u8> = None;
    let mut a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    };
    let mut it = words[1..].iter();
    let u32_of = |ctx: &mut Ctx<'_>, key: &str, w: Option<&Word>, at: usize| -> Option<u32> {
        match w {
            Some(w) => match w.text.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    err(
                        ctx,
                        w.at,
                        format!(
                            "invalid {key} \"{}\", expected an integer from 0 to 4294967295",
                            w.text
                        ),
                    );
                    None
                }
            },
            None => {
                err(ctx, at, format!("{key} needs a value"));
                None
            }
        }
    };
    while let Some(w) = it.next() {
        let key = w.text.to_ascii_lowercase();
        match key.as_str() {
            "next-hop" => match it.next() {
                Some(v) => match next_hop_of(&v.text, Some(prefix)) {
                    Ok(n) => next_hop = Some(n),
                    Err(m) => {
                        err(ctx, v.at, m);
                        ok = false;
                    }
                },
                None => {
                    err(ctx, w.at, "next-hop needs a value: an address or 'self'");
                    ok = false;
                }
            },
            "origin" => match it.next().map(|v| (v, parse_origin(&v.text))) {
                Some((_, Ok(o))) => a.origin = Some(o),
                Some((v, Err(m))) => {
                    err(ctx, v.at, m);
                    ok = false;
                }
                None => {
                    err(ctx, w.at, "origin needs a value: igp, egp or incomplete");
                    ok = false;
                }
            },
            "med" => match u32_of(ctx, "med", it.next(), w.at) {
                Some(n) => a.med = Some(n),
                None => ok = false,
            },
            "local-preference" => match u32_of(ctx, "local-preference", it.next(), w.at) {
                Some(n) => a.local_pref = Some(n),
                None => ok = false,
            },
            "as-path" => {
                let Some(items) = list(ctx, "as-path", &mut it) else {
                    err(
                        ctx,
                        w.at,
                        "as-path needs a value, e.g. as-path [ 65001 65002 ]",
                    );
                    ok = false;
                    continue;
                };
                let mut asns = Vec::new();
                for v in items {
                    if v.text == "(" || v.text == ")" {
                        err(ctx, v.at, "an AS_SET in as-path ( ... ) is not supported: the TOML model holds an AS_SEQUENCE only");
                        ok = false;
                        break;
                    }
                    match v.text.parse::<u32>() {
                        Ok(n) if n != 0 => asns.push(n),
                        _ => {
                            err(ctx, v.at, format!("invalid AS \"{}\" in as-path, expected an AS number from 1 to 4294967295", v.text));
                            ok = false;
                        }
                    }
                }
                a.as_path = Some(AsPath::sequence(asns));
            }
            "community" | "large-community" | "extended-community" | "cluster-list" => {
                let Some(items) = list(ctx, &key, &mut it) else {
                    err(ctx, w.at, format!("{key} needs a value"));
                    ok = false;
                    continue;
                };
                for v in items {
                    let r = match key.as_str() {
                        "community" => {
                            parse_community(community_alias(&v.text)).map(|c| a.communities.push(c))
                        }
                        "large-community" => {
                            parse_large_community(&v.text).map(|c| a.large_communities.push(c))
                        }
                        "extended-community" => {
                            parse_ext_community(&v.text).map(|c| a.ext_communities.push(c))
                        }
                        _ => parse_ipv4("cluster-list", &v.text).map(|c| a.cluster_list.push(c)),
                    };
                    if let Err(m) = r {
                        err(ctx, v.at, m);
                        ok = false;
                    }
                }
            }
            "atomic-aggregate" => a.atomic_aggregate = true,
            "aggregator" => {
                let mut text = String::new();
                match it.next() {
                    Some(v) if v.text == "(" => {
                        let mut closed = false;
                        for v in it.by_ref() {
                            if v.text == ")" {
                                closed = true;
                                break;
                            }
                            text.push_str(&v.text);
                        }
                        if !closed {
                            err(ctx, v.at, "missing ')' after aggregator ( ...");
                            ok = false;
                            continue;
                        }
                    }
                    Some(v) => text.push_str(&v.text),
                    None => {}
                }
                match parse_aggregator(&text) {
                    Ok(g) => a.aggregator = Some(g),
                    Err(m) => {
                        err(ctx, w.at, m);
                        ok = false;
                    }
                }
            }
            "originator-id" => match it.next().map(|v| (v, parse_ipv4("originator-id", &v.text))) {
                Some((_, Ok(o))) => a.originator_id = Some(o),
                Some((v, Err(m))) => {
                    err(ctx, v.at, m);
                    ok = false;
                }
                None => {
                    err(ctx, w.at, "originator-id needs an IPv4 address");
                    ok = false;
                }
            },
            "split" => {
                let v = it.next();
                let n = v
                    .and_then(|v| v.text.strip_prefix('/'))
                    .and_then(|n| n.parse::<u8>().ok());
                let max = if prefix.addr().is_ipv4() { 32 } else { 128 };
                match n {
                    Some(n)
                        if n >= prefix.len()
                            && n <= max
                            && u32::from(n - prefix.len()) <= SPLIT_MAX.trailing_zeros() =>
                    {
                        split = Some(n)
                    }
                    _ => {
                        err(ctx, v.map_or(w.at, |v| v.at), format!(
                            "invalid split for {prefix}: expected /N with N from {} to {max}, making at most {SPLIT_MAX} routes",
                            prefix.len()
                        ));
                        ok = false;
                    }
                }
            }
            other => {
                match REFUSED.iter().find(|(n, _)| *n == other) {
                    Some((_, why)) => err(ctx, w.at, format!("route attribute '{other}' is not supported: {why}")),
                    None => err(ctx, w.at, format!("unknown route attribute '{other}', expected next-hop, origin, as-path, med, local-preference, community, large-community, extended-community, atomic-aggregate, aggregator, originator-id, cluster-list or split")),
                }
                // The values that follow cannot be told apart from attributes: stop here.
                return None;
            }
        }
    }
    let Some(next_hop) = next_hop else {
        if ok {
            err(
                ctx,
                pw.at,
                format!(
                    "route {prefix} has no next-hop, expected next-hop ADDRESS or next-hop self"
                ),
            );
        }
        return None;
    };
    if !ok {
        return None;
    }
    Some(RouteSpec {
        route: Route {
            prefix,
            next_hop,
            attributes: Arc::new(a),
        },
        split,
        at: pw.at,
    })
}

/// `prefix` cut into its sub-prefixes of length `len` (len >= prefix.len(), checked
/// by the caller with the count bounded by [`SPLIT_MAX`]), in address order.
pub(crate) fn split_prefix(prefix: Prefix, len: u8) -> Vec<Prefix> {
    let extra = u32::from(len - prefix.len());
    let count = 1u128 << extra;
    let mut out = Vec::new();
    match prefix.addr() {
        IpAddr::V4(a) => {
            let base = u32::from(a);
            let step = if len == 0 {
                0
            } else {
                1u64 << (32 - u32::from(len))
            };
            for i in 0..count as u64 {
                let addr = u64::from(base) + i * step;
                let addr = std::net::Ipv4Addr::from(u32::try_from(addr).unwrap_or(u32::MAX));
                if let Some(p) = Prefix::new(IpAddr::V4(addr), len) {
                    out.push(p);
                }
            }
        }
        IpAddr::V6(a) => {
            let base = u128::from(a);
            let step = if len == 0 {
                0
            } else {
                1u128 << (128 - u32::from(len))
            };
            for i in 0..count {
                let addr = std::net::Ipv6Addr::from(base.wrapping_add(i.wrapping_mul(step)));
                if let Some(p) = Prefix::new(IpAddr::V6(addr), len) {
                    out.push(p);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_cuts_in_order() {
        let p: Prefix = "172.10.0.0/22".parse().unwrap();
        let s: Vec<String> = split_prefix(p, 24).iter().map(|p| p.to_string()).collect();
        assert_eq!(
            s,
            [
                "172.10.0.0/24",
                "172.10.1.0/24",
                "172.10.2.0/24",
                "172.10.3.0/24"
            ]
        );
        let p: Prefix = "2001:db8::/32".parse().unwrap();
        let s: Vec<String> = split_prefix(p, 33).iter().map(|p| p.to_string()).collect();
        assert_eq!(
            s,
            ["2001:db8::/32", "2001:db8:8000::/33"].map(|x| if x.ends_with("/32") {
                "2001:db8::/33"
            } else {
                x
            })
        );
        assert_eq!(split_prefix(p, 32), vec![p]);
    }
}
