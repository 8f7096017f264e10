//! The text command language (ExaBGP's syntax), parsed into [`ApiCommand`]s.
//!
//! One line is one command. Blank lines and `#` comments are no-ops. A trailing
//! `json` word asks for JSON output (`show ...`, `version`). Examples:
//!
//! ```text
//! announce route 203.0.113.7/32 next-hop self community [65000:1 no-export] med 10
//! neighbor 192.0.2.254 withdraw route 203.0.113.7/32
//! neighbor 192.0.2.254 local-as 65001 announce attributes next-hop 192.0.2.1 nlri 10.0.0.0/24 10.0.1.0/24
//! show neighbor summary
//! teardown 192.0.2.254 4
//! ```

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::bgp::{AsPath, AsSegment, PathAttributes, Prefix};
use crate::control::{Command, RibDirection, Scope, ShowDetail};
use crate::rib::{NextHop, Route};

use super::values;
use super::ApiError;

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiCommand {
    /// A blank line or a comment.
    Nop,
    /// One command for the daemon core.
    Control(Command),
    /// Several commands, run in order, stopping at the first error
    /// (`clear adj-rib` without a direction = in, then out).
    Batch(Vec<Command>),
    /// Re-read the configuration file and apply it.
    Reload,
    /// Re-read the configuration, apply it, then restart every session.
    Restart,
    Version,
    Help,
    /// `show metrics`: the Prometheus exposition text, as the HTTP endpoint gives it.
    Metrics,
}

/// A command with how its answer should look.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub command: ApiCommand,
    /// Answer `show`/`version` in JSON (the `json` keyword).
    pub json: bool,
}

/// Parse one line; see the module docs for the language.
pub fn parse_command(line: &str) -> Result<ApiCommand, ApiError> {
    parse_request(line).map(|r| r.command)
}

/// Parse one line, keeping the `json` keyword.
pub fn parse_request(line: &str) -> Result<Request, ApiError> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Request {
            command: ApiCommand::Nop,
            json: false,
        });
    }
    let mut tokens = tokenize(line);
    let mut json = false;
    if tokens.len() > 1 && tokens.last().map(String::as_str) == Some("json") {
        tokens.pop();
        json = true;
    }
    let mut t = Tokens {
        toks: tokens,
        pos: 0,
    };
    let command = parse_tokens(&mut t)?;
    Ok(Request { command, json })
}

/// Words, with `[ ] ( )` always tokens of their own.
fn tokenize(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for ch in line.chars() {
        if ch.is_whitespace() || matches!(ch, '[' | ']' | '(' | ')') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if !ch.is_whitespace() {
                out.push(ch.to_string());
            }
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

struct Tokens {
    toks: Vec<String>,
    pos: usize,
}

impl Tokens {
    fn next(&mut self) -> Option<String> {
        let t = self.toks.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }
    fn need(&mut self, what: &str) -> Result<String, ApiError> {
        self.next()
            .ok_or_else(|| ApiError::Syntax(format!("missing {what} at the end of the line")))
    }
    fn done(&self) -> bool {
        self.pos >= self.toks.len()
    }
    fn rest(&self) -> String {
        self.toks[self.pos.min(self.toks.len())..].join(" ")
    }
    fn end(&self) -> Result<(), ApiError> {
        if self.done() {
            Ok(())
        } else {
            Err(ApiError::Syntax(format!("unexpected '{}'", self.rest())))
        }
    }
}

fn syntax(msg: impl Into<String>) -> ApiError {
    ApiError::Syntax(msg.into())
}

fn parse_tokens(t: &mut Tokens) -> Result<ApiCommand, ApiError> {
    let first = t.next().unwrap_or_default().to_ascii_lowercase();
    match first.as_str() {
        "neighbor" | "neighbors" => parse_scoped(t),
        "announce" => parse_announce(t, None),
        "withdraw" => parse_withdraw(t, None),
        "show" => parse_show(t),
        "flush" => {
            expect_words(t, &["adj-rib", "out"])?;
            t.end()?;
            Ok(ApiCommand::Control(Command::FlushAdjRibOut { scope: None }))
        }
        "clear" => parse_clear(t, None),
        "teardown" => {
            let addr = parse_ip(&t.need("neighbor address")?)?;
            let code = parse_teardown_code(t)?;
            Ok(ApiCommand::Control(Command::Teardown {
                address: addr,
                code,
            }))
        }
        "shutdown" => bare(t, ApiCommand::Control(Command::Shutdown)),
        "reload" => bare(t, ApiCommand::Reload),
        "restart" => bare(t, ApiCommand::Restart),
        "version" => bare(t, ApiCommand::Version),
        "help" => bare(t, ApiCommand::Help),
        other => Err(ApiError::Unknown(other.to_string())),
    }
}

fn bare(t: &Tokens, c: ApiCommand) -> Result<ApiCommand, ApiError> {
    t.end()?;
    Ok(c)
}

fn expect_words(t: &mut Tokens, words: &[&str]) -> Result<(), ApiError> {
    for w in words {
        match t.next() {
            Some(x) if x.eq_ignore_ascii_case(w) => {}
            Some(x) => return Err(syntax(format!("expected '{w}', found '{x}'"))),
            None => return Err(syntax(format!("missing '{w}' at the end of the line"))),
        }
    }
    Ok(())
}

fn parse_ip(s: &str) -> Result<IpAddr, ApiError> {
    s.parse()
        .map_err(|_| syntax(format!("invalid IP address '{s}'")))
}

fn parse_ipv4(s: &str, what: &str) -> Result<Ipv4Addr, ApiError> {
    s.parse()
        .map_err(|_| syntax(format!("invalid {what} '{s}': expected an IPv4 address")))
}

fn parse_u32(s: &str, what: &str) -> Result<u32, ApiError> {
    s.parse().map_err(|_| {
        syntax(format!(
            "invalid {what} '{s}': expected a number 0-4294967295"
        ))
    })
}

fn parse_teardown_code(t: &mut Tokens) -> Result<u8, ApiError> {
    let code = match t.next() {
        None => 2,
        Some(c) => c.parse::<u8>().ok().filter(|c| *c > 0).ok_or_else(|| {
            syntax(format!(
                "invalid teardown code '{c}': expected a Cease subcode 1-255"
            ))
        })?,
    };
    t.end()?;
    Ok(code)
}

/// `neighbor A[,B] [selector value ...] (announce|withdraw|teardown|flush|clear) ...`.
/// ExaBGP's selectors (local-as, peer-as, local-ip, router-id, family-allowed) and
/// `, neighbor B` continuations are accepted; only the addresses scope the command.
fn parse_scoped(t: &mut Tokens) -> Result<ApiCommand, ApiError> {
    let mut addrs = Vec::new();
    let mut want_addr = true;
    loop {
        let tok = t.next().ok_or_else(|| {
            syntax("a neighbor selector must be followed by announce, withdraw or teardown")
        })?;
        let lower = tok.to_ascii_lowercase();
        match lower.as_str() {
            "announce" | "withdraw" | "teardown" | "flush" | "clear" if !want_addr => {
                let scope: Scope = Some(addrs);
                return match lower.as_str() {
                    "announce" => parse_announce(t, scope),
                    "withdraw" => parse_withdraw(t, scope),
                    "flush" => {
                        expect_words(t, &["adj-rib", "out"])?;
                        t.end()?;
                        Ok(ApiCommand::Control(Command::FlushAdjRibOut { scope }))
                    }
                    "clear" => parse_clear(t, scope),
                    _ => {
                        let list = scope.as_deref().unwrap_or_default();
                        if list.len() != 1 {
                            return Err(syntax("teardown takes exactly one neighbor"));
                        }
                        let code = parse_teardown_code(t)?;
                        Ok(ApiCommand::Control(Command::Teardown {
                            address: list[0],
                            code,
                        }))
                    }
                };
            }
            "neighbor" | "neighbors" => want_addr = true,
            "," => want_addr = true,
            _ if want_addr => {
                for part in tok.split(',') {
                    if !part.is_empty() {
                        addrs.push(parse_ip(part)?);
                    }
                }
                want_addr = tok.ends_with(',');
            }
            _ => {
                // A selector (`local-as 65001`): skip it and its value.
                if tok.ends_with(',') {
                    want_addr = true;
                } else if let Some(v) = t.next() {
                    if v.ends_with(',') {
                        want_addr = true;
                    }
                }
            }
        }
    }
}

fn parse_announce(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
    let what = t.need("'route' or 'attributes'")?.to_ascii_lowercase();
    match what.as_str() {
        "route" | "ipv4" | "ipv6" => {
            if what != "route" {
                // "announce ipv4 unicast 10.0.0.0/24 ..." (ExaBGP 4 family form).
                expect_words(t, &["unicast"])?;
            }
            let prefix = parse_prefix(&t.need("prefix")?)?;
            let spec = parse_attributes(t, false)?;
            let route = spec.route(prefix)?;
            Ok(ApiCommand::Control(Command::Announce {
                scope,
                routes: vec![route],
            }))
        }
        "attributes" | "attribute" => {
            let spec = parse_attributes(t, true)?;
            if spec.nlri.is_empty() {
                return Err(syntax(
                    "announce attributes needs 'nlri' followed by at least one prefix",
                ));
            }
            let shared = Arc::new(spec.attrs.clone());
            let routes = spec
                .nlri
                .iter()
                .map(|p| spec.route_with(*p, shared.clone()))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(ApiCommand::Control(Command::Announce { scope, routes }))
        }
        other => Err(syntax(format!(
            "announce what? expected 'route' or 'attributes', found '{other}'"
        ))),
    }
}

fn parse_withdraw(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
    let what = t.need("'route' or 'attributes'")?.to_ascii_lowercase();
    match what.as_str() {
        "route" | "ipv4" | "ipv6" => {
            if what != "route" {
                expect_words(t, &["unicast"])?;
            }
            let prefix = parse_prefix(&t.need("prefix")?)?;
            // Attributes may follow (ExaBGP accepts them); they are checked, then ignored.
            parse_attributes(t, false)?;
            Ok(ApiCommand::Control(Command::Withdraw {
                scope,
                prefixes: vec![prefix],
            }))
        }
        "attributes" | "attribute" => {
            let spec = parse_attributes(t, true)?;
            if spec.nlri.is_empty() {
                return Err(syntax(
                    "withdraw attributes needs 'nlri' followed by at least one prefix",
                ));
            }
            Ok(ApiCommand::Control(Command::Withdraw {
                scope,
                prefixes: spec.nlri,
            }))
        }
        other => Err(syntax(format!(
            "withdraw what? expected 'route' or 'attributes', found '{other}'"
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

/// A value or a bracketed list of values: `X` or `[ X Y ... ]`.
fn list(t: &mut Tokens, what: &str) -> Result<Vec<String>, ApiError> {
    let first = t.need(what)?;
    if first != "[" {
        return Ok(vec![first]);
    }
    let mut out = Vec::new();
    loop {
        match t.next() {
            Some(x) if x == "]" => return Ok(out),
            Some(x) if x == "[" => return Err(syntax(format!("nested '[' in {what}"))),
            Some(x) => out.push(x),
            None => return Err(syntax(format!("missing ']' after {what}"))),
        }
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

fn parse_show(t: &mut Tokens) -> Result<ApiCommand, ApiError> {
    let what = t.need("'neighbor' or 'adj-rib'")?.to_ascii_lowercase();
    match what.as_str() {
        "neighbor" | "neighbors" => {
            let mut detail = ShowDetail::Basic;
            let mut address = None;
            while let Some(w) = t.next() {
                match w.to_ascii_lowercase().as_str() {
                    "summary" => detail = ShowDetail::Summary,
                    "extensive" => detail = ShowDetail::Extensive,
                    "configuration" => detail = ShowDetail::Configuration,
                    _ => address = Some(parse_ip(&w).map_err(|_| syntax(format!("show neighbor: unexpected '{w}': expected summary, extensive, configuration or an address")))?),
                }
            }
            Ok(ApiCommand::Control(Command::ShowNeighbor {
                detail,
                address,
            }))
        }
        "adj-rib" => {
            let direction = match t.need("'in' or 'out'")?.to_ascii_lowercase().as_str() {
                "in" => RibDirection::In,
                "out" => RibDirection::Out,
                other => {
                    return Err(syntax(format!(
                        "show adj-rib: expected 'in' or 'out', found '{other}'"
                    )))
                }
            };
            let mut address = None;
            while let Some(w) = t.next() {
                if w.eq_ignore_ascii_case("extensive") {
                    continue;
                }
                address = Some(parse_ip(&w)?);
            }
            Ok(ApiCommand::Control(Command::ShowAdjRib {
                direction,
                address,
            }))
        }
        "metrics" => match t.next() {
            None => Ok(ApiCommand::Metrics),
            Some(w) => Err(syntax(format!("show metrics: unexpected '{w}'"))),
        },
        other => Err(syntax(format!(
            "show what? expected 'neighbor', 'adj-rib' or 'metrics', found '{other}'"
        ))),
    }
}

fn parse_clear(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
    expect_words(t, &["adj-rib"])?;
    let dir = t.next().map(|d| d.to_ascii_lowercase());
    t.end()?;
    match dir.as_deref() {
        Some("in") => Ok(ApiCommand::Control(Command::ClearAdjRib {
            scope,
            direction: RibDirection::In,
        })),
        Some("out") => Ok(ApiCommand::Control(Command::ClearAdjRib {
            scope,
            direction: RibDirection::Out,
        })),
        None => Ok(ApiCommand::Batch(vec![
            Command::ClearAdjRib {
                scope: scope.clone(),
                direction: RibDirection::In,
            },
            Command::ClearAdjRib {
                scope,
                direction: RibDirection::Out,
            },
        ])),
        Some(other) => Err(syntax(format!(
            "clear adj-rib: expected 'in' or 'out', found '{other}'"
        ))),
    }
}

/// The `help` text.
pub const HELP: &str = "\
commands (one per line; add 'json' to show/version for JSON output):
  announce route PREFIX next-hop (self|ADDR) [origin igp|egp|incomplete] [as-path [ASN ...]]
      [med N] [local-preference N] [community [A:B no-export ...]] [large-community [A:B:C ...]]
      [extended-community [target:A:B origin:A:B ...]] [atomic-aggregate] [aggregator (ASN:IP)]
      [originator-id IP] [cluster-list [IP ...]]
  withdraw route PREFIX
  announce attributes ATTRIBUTES... nlri PREFIX [PREFIX ...]
  withdraw attributes [ATTRIBUTES...] nlri PREFIX [PREFIX ...]
  neighbor ADDR[,ADDR] [local-as N ...] announce|withdraw ...   (only these neighbors)
  show neighbor [summary|extensive|configuration] [ADDR]
  show adj-rib in|out [ADDR] [extensive]
  show metrics                         (Prometheus text, as on exabgp_metrics_listen)
  flush adj-rib out
  clear adj-rib [in|out]
  teardown ADDR [CEASE-SUBCODE]        (also: neighbor ADDR teardown CODE)
  reload | restart | shutdown | version | help";
