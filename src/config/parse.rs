//! The full parser: a spanned TOML document walked by hand, every problem
//! collected (see `walk.rs`), a [`Config`] returned only when there is none.
//!
//! This file reads the top level and hands each table to its own file:
//! `global.rs`, `neighbor.rs`, `route.rs`, `process.rs`. The entry points
//! (`load`, `parse_str`) are in `load.rs`.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::error::ConfigError;
use super::global::{parse_global, resolve_global, GlobalDraft};
use super::model::Config;
use super::neighbor::{check_duplicate_neighbors, parse_neighbor};
use super::process::{check_duplicate_names, parse_process};
use super::route::{check_duplicate_routes, parse_route};
use super::walk::{type_name, Ctx, Table};

pub(crate) const TOP_KEYS: &[&str] = &["global", "neighbor", "route", "flow", "process"];

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
        routes.push(parse_route(&mut ctx, &t, &neighbors));
    }
    check_duplicate_routes(&mut ctx, &routes);

    let mut flows = Vec::new();
    for t in tables(&mut ctx, &root, "flow") {
        flows.push(super::flow::parse_flow(&mut ctx, &t, &neighbors));
    }

    let mut processes = Vec::new();
    for t in tables(&mut ctx, &root, "process") {
        processes.push(parse_process(&mut ctx, &t));
    }
    check_duplicate_names(&mut ctx, &processes);

    let first = neighbors.iter().find_map(|n| n.config.as_ref());
    let global = resolve_global(&mut ctx, &root, &global, first, neighbors.is_empty());
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
        // No error was recorded, so every rule parsed.
        flows: flows.into_iter().flatten().collect(),
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
        "flow" => "[[flow]]",
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
