//! From TOML text to a validated [`Config`]: the top level and `[global]`.
//! Neighbors, routes and processes are in `neighbor.rs`, `route.rs`, `process.rs`.
//!
//! Every problem is collected (see `walk.rs`); a config is returned only when there
//! is none.

use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, Diagnostic};
use super::model::{Config, Global};
use super::neighbor::{check_duplicate_neighbors, parse_neighbor, NeighborDraft};
use super::walk::{type_name, Ctx, Table};

pub(crate) const TOP_KEYS: &[&str] = &["global", "neighbor", "route", "process"];
pub(crate) const GLOBAL_KEYS: &[&str] = &["router-id", "local-as"];

/// Every key the file may hold, by section (`""` is the top level), in the order the
/// documentation lists them; for docs and tooling.
pub fn known_keys() -> &'static [(&'static str, &'static [&'static str])] {
    &[
        ("", TOP_KEYS),
        ("global", GLOBAL_KEYS),
        ("neighbor", super::neighbor::NEIGHBOR_KEYS),
        ("route", super::route::ROUTE_KEYS),
        ("process", super::process::PROCESS_KEYS),
    ]
}

/// What an AS number is, for messages.
pub(crate) const AS_RANGE: &str = "an AS number from 1 to 4294967295";

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
///
/// Large route tables take a fast path (see `fast.rs`); whenever it declines, the
/// full parser below reads the whole text and reports every problem.
pub fn parse_str(text: &str, name: &str) -> Result<Config, ConfigError> {
    if let Some(config) = super::fast::parse(text, name) {
        return Ok(config);
    }
    parse_full(text, name)
}

/// The full parser: a spanned TOML document walked by hand, every problem collected.
pub(crate) fn parse_full(text: &str, name: &str) -> Result<Config, ConfigError> {
    let mut ctx = Ctx::new(name, text);
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            let mut span = e.span().unwrap_or(0..0);
            let hint = match unquoted_value(text, &span) {
                Some(start) => {
                    span = start..start;
                    " (addresses, prefixes and names are strings: put them in double quotes)"
                }
                None => "",
            };
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
                GlobalDraft {
                    broken: true,
                    ..GlobalDraft::default()
                }
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
        {
            // Routes with equal attributes share one allocation.
            let mut interner: crate::rib::Interner = crate::rib::Interner::new();
            routes
                .into_iter()
                .map(|r| {
                    r.config.map(|mut c| {
                        c.route.attributes = interner.share(&c.route.attributes);
                        c
                    })
                })
                .collect::<Option<Vec<_>>>()
        },
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

/// The most common syntax slip is an unquoted address or prefix: when the error is
/// on a `key = value` line whose value looks like one, the value's start offset.
fn unquoted_value(text: &str, span: &Range<usize>) -> Option<usize> {
    let at = span.start.min(text.len());
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.split('\n').next()?;
    let eq = line.find('=')?;
    let after = &line[eq + 1..];
    let value = after.trim_start();
    let looks_unquoted = !value.is_empty()
        && !value.starts_with(['"', '\'', '[', '{'])
        && value
            .chars()
            .any(|c| c == '.' || c == ':' || c == '/' || c.is_ascii_alphabetic())
        && !value.starts_with("true")
        && !value.starts_with("false");
    looks_unquoted.then(|| line_start + eq + 1 + (after.len() - value.len()))
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
    pub(crate) router_id: Option<Ipv4Addr>,
    pub(crate) local_as: Option<u32>,
    /// Set when a value was present but invalid (already reported): no cascade.
    pub(crate) broken: bool,
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
pub(crate) fn router_id(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> Result<Option<Ipv4Addr>, ()> {
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
