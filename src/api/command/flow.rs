//! `announce flow route ...` / `withdraw flow route ...`: flow specification
//! rules (RFC 8955/8956) in ExaBGP's two spellings.
//!
//! ```text
//! announce flow route { match { source 10.0.0.1/32; destination-port =80; protocol tcp; } then { discard; } }
//! announce flow route source 10.0.0.1/32 destination-port =80 protocol tcp discard
//! neighbor 192.0.2.254 withdraw flow route destination 192.0.2.0/24
//! ```
//!
//! The block form's `{`, `}`, `;`, `match` and `then` only group: the match
//! words (`bgp::flow` parses them, the same as `[[flow]]`) and the action words
//! never share a name, so the one-line form is the same words without the
//! braces. Actions: `discard`, `rate-limit N`, `rate-limit-packets N`,
//! `redirect ASN:NN|IPV4:NN|ADDRESS`, `redirect-to-nexthop`, `copy-to-nexthop`,
//! `mark DSCP`, `action sample|terminal|sample-terminal`, `community [ ... ]`,
//! `extended-community [ ... ]`, and `next-hop ADDRESS` (the next hop of
//! redirect-to-nexthop). `rd ASN:NN|A.B.C.D:NN` makes the rule flow-vpn (SAFI
//! 134, RFC 8955 §8). A withdraw takes the same line; only the match and the
//! route distinguisher count.

use std::net::IpAddr;
use std::sync::Arc;

use crate::bgp::flow::{parse_rd, FlowAction};
use crate::bgp::{AsPath, Community, ExtCommunity, FlowNlri, FlowRule, Origin, PathAttributes};
use crate::control::{Command, Scope};
use crate::rib::FlowRoute;

use super::super::ApiError;
use super::tokens::{syntax, Tokens};
use super::ApiCommand;

const MATCH_WORDS: &[&str] = &[
    "source",
    "source-ipv4",
    "source-ipv6",
    "destination",
    "destination-ipv4",
    "destination-ipv6",
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
    "traffic-class",
    "fragment",
    "flow-label",
];

/// True when the words after `announce` / `withdraw` are a flow rule.
pub(super) fn is_flow(t: &Tokens) -> bool {
    t.toks
        .get(t.pos)
        .is_some_and(|w| w.eq_ignore_ascii_case("flow"))
}

/// The rule and its actions, from the words after `flow`.
fn parse_rule(t: &mut Tokens) -> Result<FlowRoute, ApiError> {
    // `flow` then `route`.
    t.next();
    match t.next() {
        Some(w) if w.eq_ignore_ascii_case("route") => {}
        Some(w) => return Err(syntax(format!("expected 'flow route', found 'flow {w}'"))),
        None => return Err(syntax("missing 'route' after 'flow'")),
    }
    let rest = t.rest();
    t.pos = t.toks.len();
    // The grouping characters as words of their own, in one pass (five
    // `replace` calls were five copies of every command line).
    let mut spaced = String::with_capacity(rest.len() + 32);
    for ch in rest.chars() {
        if matches!(ch, '{' | '}' | ';' | '[' | ']') {
            spaced.push(' ');
            spaced.push(ch);
            spaced.push(' ');
        } else {
            spaced.push(ch);
        }
    }
    let mut words = spaced.split_whitespace().peekable();
    let mut matches: Vec<String> = Vec::new();
    let mut actions: Vec<FlowAction> = Vec::new();
    let mut communities: Vec<Community> = Vec::new();
    let mut ext: Vec<ExtCommunity> = Vec::new();
    let mut next_hop: Option<IpAddr> = None;
    let mut rd: Option<[u8; 8]> = None;
    let mut depth = 0usize;

    // A value, or `[ ... ]` kept as text for the flow parser.
    fn value<'a>(
        words: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>,
        key: &str,
    ) -> Result<Vec<&'a str>, ApiError> {
        let first = words
            .next()
            .ok_or_else(|| syntax(format!("missing the value of '{key}'")))?;
        if first != "[" {
            return Ok(vec![first]);
        }
        let mut out = Vec::new();
        loop {
            match words.next() {
                Some("]") => return Ok(out),
                Some(w) if matches!(w, "[" | "{" | "}" | ";") => {
                    return Err(syntax(format!("'{w}' inside the [ ] of '{key}'")))
                }
                Some(w) => out.push(w),
                None => return Err(syntax(format!("missing ']' after '{key}'"))),
            }
        }
    }
    let action = |text: &str| -> Result<FlowAction, ApiError> {
        text.parse::<FlowAction>()
            .map_err(|e| syntax(e.to_string()))
    };

    while let Some(word) = words.next() {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "{" => depth += 1,
            "}" => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| syntax("'}' without '{'"))?
            }
            ";" | "match" | "then" => {}
            w if MATCH_WORDS.contains(&w) => {
                let v = value(&mut words, w)?;
                if v.is_empty() {
                    return Err(syntax(format!("empty [ ] after '{w}'")));
                }
                matches.push(format!("{w} [ {} ]", v.join(" ")));
            }
            "discard" | "redirect-to-nexthop" | "copy-to-nexthop" => actions.push(action(&lower)?),
            "rate-limit" | "rate-limit-packets" | "mark" | "action" | "redirect-to-nexthop-ietf"
            | "copy-to-nexthop-ietf" => {
                let v = value(&mut words, &lower)?;
                let [v] = v.as_slice() else {
                    return Err(syntax(format!("'{lower}' takes one value")));
                };
                actions.push(action(&format!("{lower} {v}"))?);
            }
            "redirect" => {
                let v = value(&mut words, "redirect")?;
                let [v] = v.as_slice() else {
                    return Err(syntax("'redirect' takes one value"));
                };
                // ExaBGP: an address alone is redirect-to-nexthop with that next hop.
                if let Ok(ip) = v.parse::<IpAddr>() {
                    next_hop = Some(ip);
                    actions.push(FlowAction::RedirectToNexthop { copy: false });
                } else {
                    actions.push(action(&format!("redirect {v}"))?);
                }
            }
            "rd" | "route-distinguisher" => {
                let v = value(&mut words, &lower)?;
                let [v] = v.as_slice() else {
                    return Err(syntax(format!("'{lower}' takes one value")));
                };
                rd = Some(parse_rd(v).map_err(|e| syntax(e.to_string()))?);
            }
            "next-hop" => {
                let v = value(&mut words, "next-hop")?;
                let [v] = v.as_slice() else {
                    return Err(syntax("'next-hop' takes one address"));
                };
                next_hop = Some(
                    v.parse()
                        .map_err(|_| syntax(format!("invalid next-hop '{v}'")))?,
                );
            }
            "community" => {
                for c in value(&mut words, "community")? {
                    communities.push(
                        c.parse()
                            .map_err(|e: crate::bgp::ParseTextError| syntax(e.to_string()))?,
                    );
                }
            }
            "extended-community" => {
                for c in value(&mut words, "extended-community")? {
                    ext.push(
                        c.parse()
                            .map_err(|e: crate::bgp::ParseTextError| syntax(e.to_string()))?,
                    );
                }
            }
            other => {
                return Err(syntax(format!(
                    "unknown word '{other}' in a flow route, expected a match ({}), rd or an action (discard, rate-limit, redirect, redirect-to-nexthop, mark, action, community, extended-community)",
                    MATCH_WORDS.join(", ")
                )))
            }
        }
    }
    if depth != 0 {
        return Err(syntax("'{' without '}'"));
    }
    if matches.is_empty() {
        return Err(syntax(
            "a flow route needs at least one match, e.g. destination 192.0.2.1/32",
        ));
    }
    let rule = FlowRule::parse(&matches.join(" "), None).map_err(|e| syntax(e.to_string()))?;
    let mut ext_communities: Vec<ExtCommunity> =
        actions.iter().map(FlowAction::to_ext_community).collect();
    ext_communities.extend(ext);
    Ok(FlowRoute {
        nlri: FlowNlri { rd, rule },
        next_hop,
        attributes: Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            communities,
            ext_communities,
            ..Default::default()
        }),
    })
}

pub(super) fn parse_announce(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
    let route = parse_rule(t)?;
    Ok(ApiCommand::Control(Command::AnnounceFlow {
        scope,
        rules: vec![route],
    }))
}

pub(super) fn parse_withdraw(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
    let route = parse_rule(t)?;
    Ok(ApiCommand::Control(Command::WithdrawFlow {
        scope,
        rules: vec![route.nlri],
    }))
}
