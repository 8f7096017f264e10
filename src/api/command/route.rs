//! Routes: `announce` / `withdraw` `route PREFIX ...` and `attributes ... nlri ...`,
//! with the path attributes in ExaBGP's words.

use std::sync::Arc;

use crate::api::{values, ApiError};
use crate::bgp::{AsPath, AsSegment, PathAttributes, Prefix};
use crate::control::{Command, Scope};
use crate::rib::{NextHop, Route};

use super::tokens::{expect_words, list, parse_ipv4, parse_u32, syntax, Tokens};
use super::ApiCommand;

pub(super) fn parse_announce(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
    if super::flow::is_flow(t) {
        return super::flow::parse_announce(t, scope);
    }
    let routes = match parse_target(t, "announce")? {
        Target::Route(prefix, spec) => vec![spec.route(prefix)?],
        Target::Attributes(spec) => {
            let shared = Arc::new(spec.attrs.clone());
            spec.nlri
                .iter()
                .map(|p| spec.route_with(*p, shared.clone()))
                .collect::<Result<Vec<_>, _>>()?
        }
    };
    Ok(ApiCommand::Control(Command::Announce { scope, routes }))
}

pub(super) fn parse_withdraw(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
    if super::flow::is_flow(t) {
        return super::flow::parse_withdraw(t, scope);
    }
    let prefixes = match parse_target(t, "withdraw")? {
        // Attributes may follow (ExaBGP accepts them); they are checked, then ignored.
        Target::Route(prefix, _) => vec![prefix],
        Target::Attributes(spec) => spec.nlri,
    };
    Ok(ApiCommand::Control(Command::Withdraw { scope, prefixes }))
}

/// What follows `announce` / `withdraw`.
enum Target {
    /// `route P ...`, or ExaBGP 4's family form `ipv4 unicast P ...`.
    Route(Prefix, Spec),
    /// `attributes ... nlri P [P ...]` (at least one prefix).
    Attributes(Spec),
}

fn parse_target(t: &mut Tokens, verb: &str) -> Result<Target, ApiError> {
    let what = t.need("'route' or 'attributes'")?.to_ascii_lowercase();
    match what.as_str() {
        "route" | "ipv4" | "ipv6" => {
            if what != "route" {
                expect_words(t, &["unicast"])?;
            }
            let prefix = parse_prefix(&t.need("prefix")?)?;
            Ok(Target::Route(prefix, parse_attributes(t, false)?))
        }
        "attributes" | "attribute" => {
            let spec = parse_attributes(t, true)?;
            if spec.nlri.is_empty() {
                return Err(syntax(format!(
                    "{verb} attributes needs 'nlri' followed by at least one prefix"
                )));
            }
            Ok(Target::Attributes(spec))
        }
        other => Err(syntax(format!(
            "{verb} what? expected 'route' or 'attributes', found '{other}'"
        ))),
    }
}

fn parse_prefix(s: &str) -> Result<Prefix, ApiError> {
    s.parse::<Prefix>().map_err(|e| syntax(e.to_string()))
}

/// What `announce route P ...` / `announce attributes ...` said.
#[derive(Default)]
struct Spec {
    next_hop: Option<NextHop>,
    attrs: PathAttributes,
    nlri: Vec<Prefix>,
}

impl Spec {
    fn route(&self, prefix: Prefix) -> Result<Route, ApiError> {
        self.route_with(prefix, Arc::new(self.attrs.clone()))
    }

    /// A route sharing `attributes` (many prefixes, one attribute set).
    fn route_with(
        &self,
        prefix: Prefix,
        attributes: Arc<PathAttributes>,
    ) -> Result<Route, ApiError> {
        let next_hop = self.next_hop.ok_or_else(|| {
            syntax(format!(
                "announcing {prefix} needs a next-hop (an address or 'self')"
            ))
        })?;
        if let NextHop::Address(a) = next_hop {
            if a.is_ipv4() != prefix.addr().is_ipv4() {
                return Err(syntax(format!(
                    "next-hop {a} is not of the family of {prefix}"
                )));
            }
        }
        Ok(Route {
            prefix,
            next_hop,
            attributes,
        })
    }
}

/// `as-path A`, `as-path [ A B ( C D ) ]` (parentheses: an AS_SET).
fn as_path(t: &mut Tokens) -> Result<AsPath, ApiError> {
    let first = t.need("as-path")?;
    if first != "[" {
        return Ok(AsPath::sequence(vec![parse_u32(&first, "AS number")?]));
    }
    let mut segments = Vec::new();
    let mut seq = Vec::new();
    loop {
        match t.next().as_deref() {
            Some("]") => break,
            Some("(") => {
                if !seq.is_empty() {
                    segments.push(AsSegment::Sequence(std::mem::take(&mut seq)));
                }
                let mut set = Vec::new();
                loop {
                    match t.next().as_deref() {
                        Some(")") => break,
                        Some(x) => set.push(parse_u32(x, "AS number")?),
                        None => return Err(syntax("missing ')' in as-path")),
                    }
                }
                segments.push(AsSegment::Set(set));
            }
            Some(x) => seq.push(parse_u32(x, "AS number")?),
            None => return Err(syntax("missing ']' after as-path")),
        }
    }
    if !seq.is_empty() {
        segments.push(AsSegment::Sequence(seq));
    }
    Ok(AsPath { segments })
}

fn parse_attributes(t: &mut Tokens, allow_nlri: bool) -> Result<Spec, ApiError> {
    // The same defaults as a `[[route]]` of the config file, so that one route
    // announced either way is the same route.
    let mut s = Spec {
        attrs: PathAttributes {
            origin: Some(crate::bgp::Origin::Igp),
            as_path: Some(AsPath::default()),
            ..Default::default()
        },
        ..Default::default()
    };
    while let Some(word) = t.next() {
        let a = &mut s.attrs;
        match word.to_ascii_lowercase().as_str() {
            "next-hop" => {
                let v = t.need("next-hop value")?;
                s.next_hop = Some(if v.eq_ignore_ascii_case("self") {
                    NextHop::SelfAddress
                } else {
                    NextHop::Address(v.parse().map_err(|_| {
                        syntax(format!(
                            "invalid next-hop '{v}': expected an IP address or 'self'"
                        ))
                    })?)
                });
            }
            "origin" => {
                a.origin = Some(values::parse_origin(&t.need("origin value")?).map_err(syntax)?)
            }
            "as-path" => a.as_path = Some(as_path(t)?),
            "med" => a.med = Some(parse_u32(&t.need("med value")?, "med")?),
            "local-preference" => {
                a.local_pref = Some(parse_u32(
                    &t.need("local-preference value")?,
                    "local-preference",
                )?)
            }
            "community" => {
                for c in list(t, "community")? {
                    a.communities
                        .push(values::parse_community(&c).map_err(syntax)?);
                }
            }
            "large-community" => {
                for c in list(t, "large-community")? {
                    a.large_communities
                        .push(values::parse_large_community(&c).map_err(syntax)?);
                }
            }
            "extended-community" => {
                for c in list(t, "extended-community")? {
                    a.ext_communities
                        .push(values::parse_ext_community(&c).map_err(syntax)?);
                }
            }
            "atomic-aggregate" => a.atomic_aggregate = true,
            "aggregator" => {
                let v = list_paren(t)?;
                a.aggregator = Some(values::parse_aggregator(&v).map_err(syntax)?);
            }
            "originator-id" => {
                a.originator_id = Some(parse_ipv4(
                    &t.need("originator-id value")?,
                    "originator-id",
                )?)
            }
            "cluster-list" => {
                for c in list(t, "cluster-list")? {
                    a.cluster_list.push(parse_ipv4(&c, "cluster-list entry")?);
                }
            }
            "nlri" if allow_nlri => {
                while let Some(p) = t.next() {
                    s.nlri.push(parse_prefix(&p)?);
                }
            }
            other => return Err(syntax(format!("unknown attribute '{other}'"))),
        }
    }
    Ok(s)
}

/// `aggregator ( 65000:192.0.2.1 )` or `aggregator 65000:192.0.2.1`.
fn list_paren(t: &mut Tokens) -> Result<String, ApiError> {
    let first = t.need("aggregator value")?;
    if first != "(" {
        return Ok(first);
    }
    let mut v = String::new();
    loop {
        match t.next() {
            Some(x) if x == ")" => return Ok(v),
            Some(x) => v.push_str(&x),
            None => return Err(syntax("missing ')' after aggregator")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_command;

    /// announce and withdraw share one parser for what follows them; each error
    /// still names the verb the line used.
    #[test]
    fn errors_name_the_verb() {
        for verb in ["announce", "withdraw"] {
            let e = parse_command(&format!("{verb} attributes next-hop self"))
                .unwrap_err()
                .to_string();
            let want = format!("{verb} attributes needs 'nlri' followed by at least one prefix");
            assert!(e.contains(&want), "{e}");
            let e = parse_command(&format!("{verb} vpls 10.0.0.0/8"))
                .unwrap_err()
                .to_string();
            let want = format!("{verb} what? expected 'route' or 'attributes', found 'vpls'");
            assert!(e.contains(&want), "{e}");
        }
    }
}
