//! From TOML text to a validated [`Config`]: the top level, `[global]` and
//! `[[neighbor]]`. Routes and processes are in `route.rs` and `process.rs`.
//!
//! Every problem is collected (see `walk.rs`); a config is returned only when there
//! is none.

use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Diagnostic};
use super::model::{Config, Global, NeighborConfig};
use super::values::{family_of, format_family, ip_version, parse_family, parse_ip};
use super::walk::{type_name, Ctx, SValue, Table};
use crate::bgp::Family;

pub(crate) const TOP_KEYS: &[&str] = &["global", "neighbor", "route", "process"];
pub(crate) const GLOBAL_KEYS: &[&str] = &["router-id", "local-as"];
pub(crate) const NEIGHBOR_KEYS: &[&str] = &[
    "address",
    "description",
    "peer-as",
    "local-as",
    "router-id",
    "local-address",
    "port",
    "hold-time",
    "passive",
    "families",
    "md5-password",
];

/// What an AS number is, for messages.
pub(crate) const AS_RANGE: &str = "an AS number from 1 to 4294967295";
/// Linux TCP_MD5SIG_MAXKEYLEN.
const MD5_MAX_LEN: usize = 80;

/// Read and parse a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            // Position of the first bad byte, counted over the valid prefix.
            let valid = &bytes[..e.valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let idx = super::position::LineIndex::new(valid);
            let (line, col) = idx.position(valid.len());
            let bad = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
            return Err(ConfigError::Invalid(vec![Diagnostic {
                file: name,
                line,
                col,
                message: format!(
                    "invalid UTF-8 (byte 0x{bad:02x}), expected the file to be UTF-8 text"
                ),
            }]));
        }
    };
    let mut config = parse_str(text, &name)?;
    config.source = Some(path.to_path_buf());
    Ok(config)
}

/// Parse configuration text; `name` prefixes every message (usually the file path).
pub fn parse_str(text: &str, name: &str) -> Result<Config, ConfigError> {
    let mut ctx = Ctx::new(name, text);
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            let span = e.span().unwrap_or(0..0);
            let hint = syntax_hint(text, &span);
            ctx.error(&span, format!("invalid TOML: {}{hint}", e.message()));
        }
        return Err(ConfigError::Invalid(ctx.into_diagnostics()));
    }
    let root = Table {
        table: root.get_ref(),
        span: 0..0,
        what: "the top level",
    };
    root.check_keys(&mut ctx, TOP_KEYS);

    let global = match root.get("global") {
        None => GlobalDraft::default(),
        Some(v) => match v.get_ref() {
            DeValue::Table(t) => parse_global(
                &mut ctx,
                &Table {
                    table: t,
                    span: v.span(),
                    what: "[global]",
                },
            ),
            other => {
                ctx.error(
                    &v.span(),
                    format!(
                        "wrong type for global: found {}, expected a table: write [global]",
                        type_name(other)
                    ),
                );
                GlobalDraft::default()
            }
        },
    };

    let mut neighbors = Vec::new();
    for t in tables(&mut ctx, &root, "neighbor") {
        neighbors.push(parse_neighbor(&mut ctx, &t, &global));
    }
    check_duplicate_neighbors(&mut ctx, &neighbors);

    let mut routes = Vec::new();
    for t in tables(&mut ctx, &root, "route") {
        routes.push(super::route::parse_route(&mut ctx, &t, &neighbors));
    }
    super::route::check_duplicate_routes(&mut ctx, &routes);

    let mut processes = Vec::new();
    for t in tables(&mut ctx, &root, "process") {
        processes.push(super::process::parse_process(&mut ctx, &t));
    }
    super::process::check_duplicate_names(&mut ctx, &processes);

    let global = resolve_global(&mut ctx, &root, &global, &neighbors);
    if ctx.has_errors() {
        return Err(ConfigError::Invalid(ctx.into_diagnostics()));
    }
    let (Some(global), Some(neighbors), Some(routes), Some(processes)) = (
        global,
        neighbors
            .into_iter()
            .map(|n| n.config)
            .collect::<Option<Vec<_>>>(),
        routes
            .into_iter()
            .map(|r| r.config)
            .collect::<Option<Vec<_>>>(),
        processes
            .into_iter()
            .map(|p| p.config)
            .collect::<Option<Vec<_>>>(),
    ) else {
        // Every path that leaves a part unbuilt records an error; this is a guard.
        let mut ctx = Ctx::new(name, text);
        ctx.error(
            &(0..0),
            "internal error: incomplete configuration without a reported problem",
        );
        return Err(ConfigError::Invalid(ctx.into_diagnostics()));
    };
    Ok(Config {
        source: None,
        global,
        neighbors,
        routes,
        processes,
    })
}

/// A hint for the most common syntax slip: an unquoted address or prefix.
fn syntax_hint(text: &str, span: &Range<usize>) -> &'static str {
    let line_start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let rest = &text[line_start..];
    let line = rest.split('\n').next().unwrap_or_default();
    let value = line
        .split_once('=')
        .map(|(_, v)| v.trim())
        .unwrap_or_default();
    let looks_unquoted = !value.is_empty()
        && !value.starts_with(['"', '\'', '[', '{'])
        && value
            .chars()
            .any(|c| c == '.' || c == ':' || c == '/' || c.is_ascii_alphabetic())
        && value != "true"
        && value != "false";
    if looks_unquoted {
        " (addresses, prefixes and names are strings: put them in double quotes)"
    } else {
        ""
    }
}

/// The tables of an array of tables (`[[neighbor]]`), reporting anything else.
fn tables<'t, 'i>(
    ctx: &mut Ctx<'_>,
    root: &Table<'t, 'i>,
    key: &'static str,
) -> Vec<Table<'t, 'i>> {
    let what: &'static str = match key {
        "neighbor" => "[[neighbor]]",
        "route" => "[[route]]",
        _ => "[[process]]",
    };
    let Some(v) = root.get(key) else {
        return Vec::new();
    };
    let DeValue::Array(items) = v.get_ref() else {
        ctx.error(
            &v.span(),
            format!(
                "wrong type for {key}: found {}, expected an array of tables: write {what}",
                type_name(v.get_ref())
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        match item.get_ref() {
            DeValue::Table(t) => out.push(Table {
                table: t,
                span: item.span(),
                what,
            }),
            other => ctx.error(
                &item.span(),
                format!(
                    "wrong type for an item of {key}: found {}, expected a table: write {what}",
                    type_name(other)
                ),
            ),
        }
    }
    out
}

/// `[global]` as written (each value optional).
#[derive(Default)]
pub(crate) struct GlobalDraft {
    router_id: Option<Ipv4Addr>,
    local_as: Option<u32>,
    /// Set when a value was present but invalid (already reported): no cascade.
    broken: bool,
    span: Option<Range<usize>>,
}

fn parse_global(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> GlobalDraft {
    t.check_keys(ctx, GLOBAL_KEYS);
    let mut g = GlobalDraft {
        span: Some(t.span.clone()),
        ..GlobalDraft::default()
    };
    match router_id(ctx, t) {
        Ok(r) => g.router_id = r,
        Err(()) => g.broken = true,
    }
    match asn(ctx, t, "local-as") {
        Ok(a) => g.local_as = a,
        Err(()) => g.broken = true,
    }
    g
}

/// Ok(None): absent; Err: present but invalid (reported).
fn router_id(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> Result<Option<Ipv4Addr>, ()> {
    let expected = "a non-zero IPv4 address as a string, e.g. \"192.0.2.1\"";
    if t.get("router-id").is_none() {
        return Ok(None);
    }
    let Some((s, span)) = t.str(ctx, "router-id", expected) else {
        return Err(());
    };
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) if !a.is_unspecified() => Ok(Some(a)),
        Ok(IpAddr::V4(_)) => {
            ctx.error(
                &span,
                format!("router-id 0.0.0.0 is not allowed, expected {expected}"),
            );
            Err(())
        }
        Ok(IpAddr::V6(_)) => {
            ctx.error(
                &span,
                format!("router-id \"{s}\" is an IPv6 address, expected {expected}"),
            );
            Err(())
        }
        Err(_) => {
            ctx.error(
                &span,
                format!("invalid router-id \"{s}\", expected {expected}"),
            );
            Err(())
        }
    }
}

/// An AS number (1..=u32::MAX). Ok(None): absent; Err: invalid (reported).
pub(crate) fn asn(ctx: &mut Ctx<'_>, t: &Table<'_, '_>, key: &str) -> Result<Option<u32>, ()> {
    if t.get(key).is_none() {
        return Ok(None);
    }
    match t.int(ctx, key, 0, i128::from(u32::MAX), AS_RANGE) {
        Some((0, span)) => {
            ctx.error(&span, format!("{key} 0 is reserved, expected {AS_RANGE}"));
            Err(())
        }
        Some((n, _)) => u32::try_from(n).map(Some).map_err(|_| ()),
        None => Err(()),
    }
}

/// One `[[neighbor]]` as parsed: the config when complete, plus what the route
/// checks need even when something else in it was wrong.
pub(crate) struct NeighborDraft {
    pub(crate) config: Option<NeighborConfig>,
    pub(crate) address: Option<(IpAddr, Range<usize>)>,
    /// None when `families` was invalid (reported): route checks then stay quiet.
    pub(crate) families: Option<Vec<Family>>,
}

fn parse_neighbor(ctx: &mut Ctx<'_>, t: &Table<'_, '_>, global: &GlobalDraft) -> NeighborDraft {
    t.check_keys(ctx, NEIGHBOR_KEYS);
    let mut ok = true;

    let address = match t.str(
        ctx,
        "address",
        "an IP address as a string, e.g. \"192.0.2.254\"",
    ) {
        Some((s, span)) => match parse_ip("address", s) {
            Ok(a) => Some((a, span)),
            Err(m) => {
                ctx.error(&span, m);
                None
            }
        },
        None => {
            if t.get("address").is_none() {
                t.missing(
                    ctx,
                    "address",
                    "the peer's IP address, e.g. address = \"192.0.2.254\"",
                );
            }
            None
        }
    };
    ok &= address.is_some();

    let peer_as = match asn(ctx, t, "peer-as") {
        Ok(Some(a)) => Some(a),
        Ok(None) => {
            t.missing(ctx, "peer-as", "the peer's AS number, e.g. peer-as = 65000");
            None
        }
        Err(()) => None,
    };
    let local_as = match asn(ctx, t, "local-as") {
        Ok(Some(a)) => Some(a),
        Ok(None) => match global.local_as {
            Some(a) => Some(a),
            None => {
                if !global.broken {
                    t.missing(ctx, "local-as", "local-as = 65001 here or in [global]");
                }
                None
            }
        },
        Err(()) => None,
    };
    let router_id = match router_id(ctx, t) {
        Ok(Some(r)) => Some(r),
        Ok(None) => match global.router_id {
            Some(r) => Some(r),
            None => {
                if !global.broken {
                    t.missing(
                        ctx,
                        "router-id",
                        "router-id = \"192.0.2.1\" here or in [global]",
                    );
                }
                None
            }
        },
        Err(()) => None,
    };

    let local_address = match t.str(
        ctx,
        "local-address",
        "an IP address as a string, e.g. \"192.0.2.1\"",
    ) {
        Some((s, span)) => match parse_ip("local-address", s) {
            Ok(a) => {
                if let Some((peer, _)) = address {
                    if peer.is_ipv4() != a.is_ipv4() {
                        ctx.error(
                            &span,
                            format!(
                                "local-address {a} is {} but the neighbor address {peer} is {}, expected an {} address",
                                ip_version(a),
                                ip_version(peer),
                                ip_version(peer)
                            ),
                        );
                        ok = false;
                    }
                }
                Some(a)
            }
            Err(m) => {
                ctx.error(&span, m);
                ok = false;
                None
            }
        },
        None => {
            ok &= t.get("local-address").is_none();
            None
        }
    };

    let port = optional_int(
        ctx,
        t,
        "port",
        1,
        65535,
        "a TCP port from 1 to 65535",
        179,
        &mut ok,
    );
    let hold_expected = "0 (no keepalives) or 3 to 65535 seconds";
    let hold_time = match t.int(ctx, "hold-time", 0, 65535, hold_expected) {
        Some((n @ (1 | 2), span)) => {
            ctx.error(
                &span,
                format!("hold-time {n} is not allowed, expected {hold_expected}"),
            );
            ok = false;
            90
        }
        Some((n, _)) => u16::try_from(n).unwrap_or(90),
        None => {
            ok &= t.get("hold-time").is_none();
            90
        }
    };
    let passive = match t.bool(ctx, "passive") {
        Some(b) => b,
        None => {
            ok &= t.get("passive").is_none();
            false
        }
    };

    let families = parse_families(ctx, t, address.as_ref().map(|(a, _)| *a));

    let md5_password = match t.str(ctx, "md5-password", "a string") {
        Some((s, span)) => {
            if s.is_empty() || s.len() > MD5_MAX_LEN {
                ctx.error(
                    &span,
                    format!(
                        "md5-password is {} bytes long, expected 1 to {MD5_MAX_LEN} bytes (omit the key for no password)",
                        s.len()
                    ),
                );
                ok = false;
            }
            Some(s.to_string())
        }
        None => {
            ok &= t.get("md5-password").is_none();
            None
        }
    };
    let description = match t.str(ctx, "description", "a string") {
        Some((s, _)) => Some(s.to_string()),
        None => {
            ok &= t.get("description").is_none();
            None
        }
    };

    let config = match (
        ok,
        address.as_ref(),
        peer_as,
        local_as,
        router_id,
        families.as_ref(),
    ) {
        (
            true,
            Some((address, _)),
            Some(peer_as),
            Some(local_as),
            Some(router_id),
            Some(families),
        ) => Some(NeighborConfig {
            address: *address,
            peer_as,
            local_as,
            router_id,
            local_address,
            port,
            hold_time,
            passive,
            families: families.clone(),
            md5_password,
            description,
        }),
        _ => None,
    };
    NeighborDraft {
        config,
        address,
        families,
    }
}

/// An optional integer key with a default; `ok` is cleared when it was invalid.
#[allow(clippy::too_many_arguments)]
fn optional_int<T: TryFrom<i128> + Copy>(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    key: &str,
    min: i128,
    max: i128,
    expected: &str,
    default: T,
    ok: &mut bool,
) -> T {
    match t.int(ctx, key, min, max, expected) {
        Some((n, _)) => T::try_from(n).unwrap_or(default),
        None => {
            *ok &= t.get(key).is_none();
            default
        }
    }
}

/// `families`: None when invalid (reported); default the family of the address.
fn parse_families(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    address: Option<IpAddr>,
) -> Option<Vec<Family>> {
    let expected = "\"ipv4 unicast\" or \"ipv6 unicast\"";
    let Some((items, span)) = t.str_array(ctx, "families", expected) else {
        if t.get("families").is_some() {
            return None;
        }
        return address.map(|a| vec![family_of(a)]);
    };
    let mut ok = true;
    let mut out: Vec<Family> = Vec::new();
    for (s, span) in &items {
        match parse_family(s) {
            Ok(f) if !out.contains(&f) => out.push(f),
            Ok(f) => {
                ctx.error(
                    span,
                    format!(
                        "family \"{}\" is listed twice, expected each family once",
                        format_family(f)
                    ),
                );
                ok = false;
            }
            Err(m) => {
                ctx.error(span, m);
                ok = false;
            }
        }
    }
    if let Some(DeValue::Array(a)) = t.get("families").map(SValue::get_ref) {
        ok &= a.len() == items.len();
    }
    if ok && out.is_empty() {
        ctx.error(&span, format!("families is empty, expected at least one of {expected} (omit it for the family of the address)"));
        ok = false;
    }
    ok.then_some(out)
}

/// A second neighbor with the same address: point at it and name the first's line.
fn check_duplicate_neighbors(ctx: &mut Ctx<'_>, neighbors: &[NeighborDraft]) {
    for (i, n) in neighbors.iter().enumerate() {
        let Some((addr, span)) = &n.address else {
            continue;
        };
        let first = neighbors[..i]
            .iter()
            .find_map(|m| m.address.as_ref().filter(|(a, _)| a == addr));
        if let Some((_, first_span)) = first {
            let line = ctx.line_of(first_span);
            ctx.error(
                span,
                format!("duplicate neighbor {addr} (first defined at line {line}), expected each neighbor address once"),
            );
        }
    }
}

/// The global router-id / local-as: from [global], else the first neighbor's.
fn resolve_global(
    ctx: &mut Ctx<'_>,
    root: &Table<'_, '_>,
    g: &GlobalDraft,
    neighbors: &[NeighborDraft],
) -> Option<Global> {
    let first = neighbors.iter().find_map(|n| n.config.as_ref());
    let router_id = g.router_id.or(first.map(|n| n.router_id));
    let local_as = g.local_as.or(first.map(|n| n.local_as));
    if neighbors.is_empty() && !g.broken {
        let span = g.span.clone().unwrap_or(root.span.clone());
        let where_ = if g.span.is_some() {
            "[global] is missing"
        } else {
            "missing"
        };
        if router_id.is_none() {
            ctx.error(
                &span,
                format!("{where_} 'router-id', expected router-id = \"192.0.2.1\" in [global]"),
            );
        }
        if local_as.is_none() {
            ctx.error(
                &span,
                format!("{where_} 'local-as', expected local-as = 65001 in [global]"),
            );
        }
    }
    Some(Global {
        router_id: router_id?,
        local_as: local_as?,
    })
}
