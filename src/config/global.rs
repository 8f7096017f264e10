//! `[global]`: the router-id and local AS every neighbor defaults to, and the two
//! readers a `[[neighbor]]` shares with it (`router_id`, `asn`).

use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;

use super::model::{Global, NeighborConfig};
use super::values::AS_RANGE;
use super::walk::{Ctx, Table};

pub(crate) const GLOBAL_KEYS: &[&str] = &["router-id", "local-as"];

/// `[global]` as written (each value optional).
#[derive(Default)]
pub(crate) struct GlobalDraft {
    pub(crate) router_id: Option<Ipv4Addr>,
    pub(crate) local_as: Option<u32>,
    /// Set when a value was present but invalid (already reported): no cascade.
    pub(crate) broken: bool,
    /// Where `[global]` is, to place a message about a key missing from it.
    pub(crate) span: Option<Range<usize>>,
}

pub(crate) fn parse_global(ctx: &mut Ctx<'_>, t: &Table<'_, '_>) -> GlobalDraft {
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

/// The global router-id / local-as: from [global], else the first complete
/// neighbor's (`first`); `no_neighbors` when the file has no `[[neighbor]]` at all.
pub(crate) fn resolve_global(
    ctx: &mut Ctx<'_>,
    root: &Table<'_, '_>,
    g: &GlobalDraft,
    first: Option<&NeighborConfig>,
    no_neighbors: bool,
) -> Option<Global> {
    let router_id = g.router_id.or(first.map(|n| n.router_id));
    let local_as = g.local_as.or(first.map(|n| n.local_as));
    if no_neighbors && !g.broken {
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
