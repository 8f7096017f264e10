//! Neighbor operations: the `neighbor A[,B] [selectors] ...` prefix that scopes a
//! command (also spelt `peer A ...`, ExaBGP's newer API, where `peer * ...` means
//! every neighbor and `peer [ A B ] ...` a list), `teardown`, `flush adj-rib out`
//! and `clear adj-rib`.

use crate::api::ApiError;
use crate::bgp::iana::CEASE_ADMIN_SHUTDOWN;
use crate::control::{Command, RibDirection, Scope};

use super::route;
use super::tokens::{expect_words, parse_ip, syntax, Tokens};
use super::ApiCommand;

/// `neighbor|peer A[,B] [selector value ...] (announce|withdraw|teardown|flush|clear) ...`.
/// ExaBGP's selectors (local-as, peer-as, local-ip, router-id, family-allowed) and
/// `, neighbor B` continuations are accepted; only the addresses scope the command.
/// `*` in place of an address is every neighbor (the command is not scoped);
/// `[ A B ]` lists addresses.
pub(super) fn parse_scoped(t: &mut Tokens) -> Result<ApiCommand, ApiError> {
    let mut addrs = Vec::new();
    let mut all = false;
    let mut want_addr = true;
    let mut in_list = false;
    loop {
        let tok = t.next().ok_or_else(|| {
            syntax("a neighbor selector must be followed by announce, withdraw or teardown")
        })?;
        let lower = tok.to_ascii_lowercase();
        match lower.as_str() {
            "announce" | "withdraw" | "teardown" | "flush" | "clear" if !want_addr && !in_list => {
                let scope: Scope = if all { None } else { Some(addrs) };
                return match lower.as_str() {
                    "announce" => route::parse_announce(t, scope),
                    "withdraw" => route::parse_withdraw(t, scope),
                    "flush" => parse_flush(t, scope),
                    "clear" => parse_clear(t, scope),
                    _ => {
                        let list = scope.as_deref().unwrap_or_default();
                        if all || list.len() != 1 {
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
            "neighbor" | "neighbors" | "peer" | "peers" => want_addr = true,
            "," => want_addr = true,
            "*" if want_addr => {
                all = true;
                want_addr = false;
            }
            "[" if want_addr => in_list = true,
            "]" if in_list => {
                in_list = false;
                want_addr = false;
            }
            _ if in_list => {
                for part in tok.split(',').filter(|p| !p.is_empty()) {
                    addrs.push(parse_ip(part)?);
                }
            }
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

/// `teardown ADDR [CEASE-SUBCODE]`.
pub(super) fn parse_teardown(t: &mut Tokens) -> Result<ApiCommand, ApiError> {
    let addr = parse_ip(&t.need("neighbor address")?)?;
    let code = parse_teardown_code(t)?;
    Ok(ApiCommand::Control(Command::Teardown {
        address: addr,
        code,
    }))
}

fn parse_teardown_code(t: &mut Tokens) -> Result<u8, ApiError> {
    let code = match t.next() {
        None => CEASE_ADMIN_SHUTDOWN,
        Some(c) => c.parse::<u8>().ok().filter(|c| *c > 0).ok_or_else(|| {
            syntax(format!(
                "invalid teardown code '{c}': expected a Cease subcode 1-255"
            ))
        })?,
    };
    t.end()?;
    Ok(code)
}

/// `flush adj-rib out`.
pub(super) fn parse_flush(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
    expect_words(t, &["adj-rib", "out"])?;
    t.end()?;
    Ok(ApiCommand::Control(Command::FlushAdjRibOut { scope }))
}

pub(super) fn parse_clear(t: &mut Tokens, scope: Scope) -> Result<ApiCommand, ApiError> {
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
