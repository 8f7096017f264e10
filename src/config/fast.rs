//! A fast path for files with many `[[route]]` tables.
//!
//! The spanned TOML document (`toml::de::DeTable`) costs about 2 KB and several
//! allocations per route: at 100k routes the parse peaks above 200 MB. Here the
//! `[[route]]` sections are read line by line straight into [`RouteConfig`]s, and only
//! the rest of the file (global, neighbors, processes: small) goes through the spanned
//! parser.
//!
//! The fast path only *accepts*: it never reports. When a line is not in the simple
//! subset it reads (one `key = value` a line; basic strings without escapes, literal
//! strings, decimal integers, booleans, one-line arrays of those), or when anything is
//! wrong with a route, it gives up and the caller runs the full parser over the whole
//! text, which produces the precise `file:line:col` diagnostics. So the fast path must
//! accept exactly what the full parser accepts, and build the same [`Config`]: the
//! checks on a route's values are the full parser's own (`route_check.rs`), and the
//! rest of the file goes through the full parser itself (`parse.rs`).

use std::net::IpAddr;
use std::ops::ControlFlow;

use super::model::{Config, NeighborConfig, RouteConfig};
use super::parse::parse_full;
use super::route::ROUTE_KEYS;
use super::route_check::{duplicate_routes, family_problem, next_hop_of, scope_of};
use super::values::{
    parse_aggregator, parse_community, parse_ext_community, parse_ipv4, parse_large_community,
    parse_origin, parse_prefix,
};
use crate::bgp::{AsPath, Origin, PathAttributes, Prefix};
use crate::rib::{Interner, Route};

/// Without any `[[route]]` there is nothing to gain. (Small files take the fast path
/// too, so that every configuration test exercises it against the full parser.)
const MIN_ROUTES: usize = 1;

/// The text split in two: everything but the `[[route]]` sections, and the lines of
/// those sections (one `Vec` of lines per route). None: not in the simple subset.
struct Split<'a> {
    rest: String,
    routes: Vec<&'a str>,
}

/// Parse `text` the fast way; None means "use the full parser" (not an error).
pub(crate) fn parse(text: &str, name: &str) -> Option<Config> {
    if text.matches("[[route]]").take(MIN_ROUTES).count() < MIN_ROUTES {
        return None;
    }
    let split = split(text)?;
    let Split { rest, routes } = split;
    // The rest must be a valid configuration of its own, without any `route` key.
    let mut config = parse_full(&rest, name).ok()?;
    drop(rest);
    // A `route` key of another shape (`route = 1`, `[route]`) is an error there.
    if !config.routes.is_empty() {
        return None;
    }
    let mut interner: Interner = Interner::new();
    let known: Vec<IpAddr> = config.neighbors.iter().map(|n| n.address).collect();
    let mut out = Vec::with_capacity(routes.len());
    for section in &routes {
        out.push(route(section, &config.neighbors, &known, &mut interner)?);
    }
    drop(routes);
    if !no_duplicates(&out) {
        return None;
    }
    config.routes = out;
    Some(config)
}

/// Cut the `[[route]]` sections out. Every line outside them must be complete on its
/// own (balanced brackets and braces, no multi-line string) so that a line starting
/// with `[` is a table header for TOML too.
fn split(text: &str) -> Option<Split<'_>> {
    let mut rest = String::new();
    let mut routes: Vec<&str> = Vec::new();
    // Byte range of the current route section's body, if inside one.
    let mut current: Option<(usize, usize)> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        offset += raw.len();
        let line = strip_eol(raw);
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.starts_with('[') {
            if let Some((s, e)) = current.take() {
                routes.push(&text[s..e]);
            }
            if is_route_header(trimmed) {
                current = Some((offset, offset));
                continue;
            }
        }
        match &mut current {
            Some((_, e)) => *e = offset,
            None => {
                if !self_contained(line) {
                    return None;
                }
                rest.push_str(raw);
            }
        }
    }
    if let Some((s, e)) = current {
        routes.push(&text[s..e]);
    }
    Some(Split { rest, routes })
}

/// `[[route]]`, optionally followed by blanks and a comment.
fn is_route_header(line: &str) -> bool {
    let Some(after) = line.strip_prefix("[[route]]") else {
        return false;
    };
    let after = after.trim_start_matches([' ', '\t']);
    after.is_empty() || (after.starts_with('#') && comment_ok(after))
}

/// A comment may not hold control characters other than tab.
fn comment_ok(c: &str) -> bool {
    !c.chars().any(|ch| ch != '\t' && ch.is_control())
}

/// A line outside route sections: strings closed, brackets and braces balanced, no
/// triple quotes. Conservative: false only costs the fast path.
fn self_contained(line: &str) -> bool {
    if line.contains("\"\"\"") || line.contains("'''") {
        return false;
    }
    let mut depth: i32 = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => return depth == 0,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            '"' => loop {
                match chars.next() {
                    None => return false,
                    Some('\\') => {
                        chars.next();
                    }
                    Some('"') => break,
                    Some(_) => {}
                }
            },
            '\'' => loop {
                match chars.next() {
                    None => return false,
                    Some('\'') => break,
                    Some(_) => {}
                }
            },
            _ => {}
        }
    }
    depth == 0
}

/// A value of the simple subset.
enum Val<'a> {
    Str(&'a str),
    Int(u64),
    Bool(bool),
    Array(Vec<Val<'a>>),
}

/// Read a scalar at the start of `s`: the value and what follows it.
fn scalar(s: &str) -> Option<(Val<'_>, &str)> {
    let b = s.as_bytes();
    match *b.first()? {
        b'"' => {
            let end = s[1..].find('"')? + 1;
            let body = &s[1..end];
            if body.contains('\\') || !string_ok(body) {
                return None;
            }
            Some((Val::Str(body), &s[end + 1..]))
        }
        b'\'' => {
            let end = s[1..].find('\'')? + 1;
            let body = &s[1..end];
            if !string_ok(body) {
                return None;
            }
            Some((Val::Str(body), &s[end + 1..]))
        }
        b'0'..=b'9' => {
            let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let digits = &s[..n];
            if n > 1 && digits.starts_with('0') {
                return None;
            }
            // The next character must end the value (not `1.5`, `1_000`, `1e3`, a date).
            let after = &s[n..];
            match after.as_bytes().first() {
                None | Some(b' ' | b'\t' | b',' | b']' | b'#') => {}
                Some(_) => return None,
            }
            Some((Val::Int(digits.parse().ok()?), after))
        }
        b't' if s.starts_with("true") => Some((Val::Bool(true), &s[4..])),
        b'f' if s.starts_with("false") => Some((Val::Bool(false), &s[5..])),
        _ => None,
    }
}

/// Control characters other than tab are not allowed in TOML strings.
fn string_ok(body: &str) -> bool {
    !body.chars().any(|c| c != '\t' && c.is_control())
}

/// A line without its `\n` or `\r\n` (a lone `\r` stays, and TOML rejects it).
fn strip_eol(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

fn skip_ws(s: &str) -> &str {
    s.trim_start_matches([' ', '\t'])
}

/// A whole value: a scalar or a one-line array of scalars; then only a comment.
fn value(s: &str) -> Option<Val<'_>> {
    let (v, after) = if let Some(mut s) = s.strip_prefix('[') {
        let mut items = Vec::new();
        loop {
            s = skip_ws(s);
            if let Some(after) = s.strip_prefix(']') {
                break (Val::Array(items), after);
            }
            let (item, after) = scalar(s)?;
            items.push(item);
            s = skip_ws(after);
            if let Some(after) = s.strip_prefix(',') {
                s = after;
            } else if !s.starts_with(']') {
                return None;
            }
        }
    } else {
        scalar(s)?
    };
    let after = skip_ws(after);
    (after.is_empty() || (after.starts_with('#') && comment_ok(after))).then_some(v)
}

/// One line of a route section: None to give up, Some(None) for a blank or comment.
fn key_value(line: &str) -> Option<Option<(&str, Val<'_>)>> {
    let line = skip_ws(strip_eol(line));
    if line.is_empty() {
        return Some(None);
    }
    if line.starts_with('#') {
        return comment_ok(line).then_some(None);
    }
    let key_len = line
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
        .count();
    if key_len == 0 {
        return None;
    }
    let key = &line[..key_len];
    let rest = skip_ws(&line[key_len..]).strip_prefix('=')?;
    Some(Some((key, value(skip_ws(rest))?)))
}

/// Strings of an array, each parsed; None if any item is not a string or invalid.
fn strings<T>(v: &Val<'_>, parse: impl Fn(&str) -> Result<T, String>) -> Option<Vec<T>> {
    let Val::Array(items) = v else { return None };
    items
        .iter()
        .map(|i| match i {
            Val::Str(s) => parse(s).ok(),
            _ => None,
        })
        .collect()
}

fn u32_of(v: &Val<'_>) -> Option<u32> {
    match v {
        Val::Int(n) => u32::try_from(*n).ok(),
        _ => None,
    }
}

/// One route section, checked as `route::parse_route` does (with the same
/// `route_check` functions); None on any problem. `known`: the neighbor addresses.
fn route(
    section: &str,
    neighbors: &[NeighborConfig],
    known: &[IpAddr],
    interner: &mut Interner,
) -> Option<RouteConfig> {
    let mut attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    };
    let mut prefix: Option<Prefix> = None;
    let mut next_hop: Option<&str> = None;
    let mut scope: Option<Vec<IpAddr>> = None;
    // Keys seen, by index in ROUTE_KEYS: a key twice is a TOML error.
    let mut seen: u32 = 0;
    for line in section.split_inclusive('\n') {
        let Some((key, v)) = key_value(line)? else {
            continue;
        };
        let index = ROUTE_KEYS.iter().position(|k| *k == key)?;
        if seen & (1 << index) != 0 {
            return None;
        }
        seen |= 1 << index;
        match (key, &v) {
            ("prefix", Val::Str(s)) => prefix = Some(parse_prefix(s).ok()?),
            ("next-hop", Val::Str(s)) => next_hop = Some(s),
            ("origin", Val::Str(s)) => attrs.origin = Some(parse_origin(s).ok()?),
            ("as-path", Val::Array(items)) => {
                let asns = items
                    .iter()
                    .map(|i| u32_of(i).filter(|n| *n != 0))
                    .collect::<Option<Vec<u32>>>()?;
                attrs.as_path = Some(AsPath::sequence(asns));
            }
            ("med", _) => attrs.med = Some(u32_of(&v)?),
            ("local-preference", _) => attrs.local_pref = Some(u32_of(&v)?),
            ("communities", _) => attrs.communities = strings(&v, parse_community)?,
            ("large-communities", _) => {
                attrs.large_communities = strings(&v, parse_large_community)?;
            }
            ("extended-communities", _) => {
                attrs.ext_communities = strings(&v, parse_ext_community)?;
            }
            ("atomic-aggregate", Val::Bool(b)) => attrs.atomic_aggregate = *b,
            ("aggregator", Val::Str(s)) => attrs.aggregator = Some(parse_aggregator(s).ok()?),
            ("originator-id", Val::Str(s)) => {
                attrs.originator_id = Some(parse_ipv4("originator-id", s).ok()?);
            }
            ("cluster-list", _) => {
                attrs.cluster_list = strings(&v, |s| parse_ipv4("cluster-list", s))?;
            }
            ("neighbors", Val::Array(items)) => {
                let entries = items
                    .iter()
                    .map(|i| match i {
                        Val::Str(s) => Some(*s),
                        _ => None,
                    })
                    .collect::<Option<Vec<&str>>>()?;
                let (list, problems) = scope_of(entries, known);
                if list.is_empty() || !problems.is_empty() {
                    return None;
                }
                scope = Some(list);
            }
            _ => return None,
        }
    }
    let prefix = prefix?;
    let next_hop = next_hop_of(next_hop?, Some(prefix)).ok()?;
    let families = neighbors
        .iter()
        .map(|n| (Some(n.address), Some(n.families.as_slice())));
    if family_problem(prefix, scope.as_deref(), families).is_some() {
        return None;
    }
    Some(RouteConfig {
        route: Route {
            prefix,
            next_hop,
            attributes: interner.intern(attrs),
        },
        neighbors: scope.unwrap_or_default(),
    })
}

/// No route repeats a prefix for a common neighbor (see `route_check.rs`).
fn no_duplicates(routes: &[RouteConfig]) -> bool {
    let key = |i: usize| {
        let r: &RouteConfig = &routes[i];
        Some((r.route.prefix, r.neighbors.as_slice()))
    };
    let mut any = false;
    let checked = duplicate_routes(routes.len(), key, |_, _| {
        any = true;
        ControlFlow::Break(())
    });
    checked.is_ok() && !any
}

#[cfg(test)]
mod tests {
    use super::{key_value, parse, parse_full, self_contained, Val};
    use std::sync::Arc;

    const HEAD: &str = r#"
[global]
router-id = "192.0.2.1"
local-as = 65001

[[neighbor]]
address = "192.0.2.2"
peer-as = 65002
families = ["ipv4 unicast", "ipv6 unicast"]

[[neighbor]] # second
address = "2001:db8::2"
peer-as = 65003
families = ["ipv6 unicast", "ipv4 unicast"]
"#;

    const ROUTES: &str = r#"
[[route]]
prefix = "10.0.0.0/8"
next-hop = "self"
neighbors = ["192.0.2.2"]

[[route]]
prefix = '10.1.0.0/16'   # literal string
next-hop = "192.0.2.9"
origin = "egp"
as-path = [65001, 65002,]
med = 10
local-preference = 200
communities = ["65000:1", "no-export"]
large-communities = ["65000:1:2"]
extended-communities = ["target:65000:1"]
atomic-aggregate = true
aggregator = "65000:192.0.2.1"
originator-id = "192.0.2.7"
cluster-list = ["192.0.2.8"]
neighbors = ["192.0.2.2", "192.0.2.2"]

[[route]]
prefix = "2001:db8:1::/48"
next-hop = "2001:db8::9"
neighbors = ["2001:db8::2"]

[[route]]
prefix = "10.0.0.0/8"
next-hop = "self"
neighbors = ["2001:db8::2"]
"#;

    /// The fast path accepts these and builds exactly what the full parser builds,
    /// with attribute sets shared.
    #[test]
    fn same_as_full_parser() {
        let mut text = format!("{HEAD}{ROUTES}");
        for i in 0..100 {
            text.push_str(&format!(
                "[[route]]\r\nprefix = \"10.2.0.{i}/32\"\r\nnext-hop = \"192.0.2.1\"\r\n"
            ));
        }
        text.push_str("\n[[process]]\nname = \"p\"\nrun = [\"/bin/true\"]\n");
        let fast = parse(&text, "t.toml");
        let full = parse_full(&text, "t.toml");
        if let Err(e) = &full {
            panic!("{e}");
        }
        let (Some(fast), Ok(full)) = (fast, full) else {
            panic!("both parsers must accept the text");
        };
        assert_eq!(fast, full);
        assert_eq!(fast.routes.len(), 104);
        assert_eq!(fast.processes.len(), 1);
        let a = &fast.routes[10].route.attributes;
        assert!(Arc::ptr_eq(a, &fast.routes[103].route.attributes));
        assert!(Arc::ptr_eq(
            &full.routes[10].route.attributes,
            &full.routes[103].route.attributes
        ));
    }

    /// Anything outside the subset, or wrong, is left to the full parser.
    #[test]
    fn declines() {
        let cases = [
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nnext-hop = \"self\"\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\n",
            "[[route]]\nprefix = \"10.0.0.1/8\"\nnext-hop = \"self\"\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nmed = 4294967296\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nneighbors = []\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nneighbors = [\"192.0.2.99\"]\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n[route.x]\na = 1\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nas-path = [\n1]\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nbogus = 1\n",
            "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\r\r\n",
            "route = 1\n[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n",
        ];
        for c in cases {
            let text = format!("{HEAD}{c}");
            assert!(parse(&text, "t.toml").is_none(), "accepted: {c}");
        }
        let ok = format!("{HEAD}[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n");
        assert!(parse(&ok, "t.toml").is_some());
    }

    #[test]
    fn lines() {
        assert!(matches!(
            key_value("prefix = \"10.0.0.0/8\" # c\n"),
            Some(Some(("prefix", Val::Str("10.0.0.0/8"))))
        ));
        assert!(matches!(key_value("  # only\n"), Some(None)));
        assert!(matches!(
            key_value("med = 10"),
            Some(Some(("med", Val::Int(10))))
        ));
        assert!(key_value("med = 010").is_none());
        assert!(key_value("med = 1_0").is_none());
        assert!(key_value("med = 1.5").is_none());
        assert!(key_value("\"prefix\" = \"x\"").is_none());
        assert!(key_value("a.b = 1").is_none());
        assert!(key_value("p = \"a\\\"b\"").is_none());
        assert!(key_value("p = [\"a\", 'b',]").is_some());
        assert!(key_value("p = [\"a\"").is_none());
        assert!(key_value("p = \"a\" x").is_none());
        assert!(self_contained("families = [\"ipv4 unicast\"] # [x"));
        assert!(!self_contained("families = ["));
        assert!(!self_contained("d = \"\"\"x"));
    }
}
