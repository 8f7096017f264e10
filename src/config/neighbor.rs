//! `[[neighbor]]`: one BGP peer, with the `[global]` defaults applied.

use std::net::IpAddr;
use std::ops::Range;

use toml::de::DeValue;

use super::global::{asn, router_id, GlobalDraft};
use super::model::{MaxPrefix, NeighborConfig};
use super::values::{family_of, ip_version, parse_family, parse_ip};
use super::walk::{int_value, type_name, Ctx, SValue, Table};
use crate::bgp::Family;

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
    "max-prefix",
    "max-prefix-warning-only",
    "max-prefix-restart-after",
    "max-prefix-warning-threshold",
    "graceful-restart",
];

/// The `max-prefix-*` options: each needs `max-prefix`.
const MAX_PREFIX_OPTIONS: [&str; 3] = [
    "max-prefix-warning-only",
    "max-prefix-restart-after",
    "max-prefix-warning-threshold",
];

/// Linux TCP_MD5SIG_MAXKEYLEN.
const MD5_MAX_LEN: usize = 80;

/// One `[[neighbor]]` as parsed: the config when complete, plus what the route
/// checks need even when something else in it was wrong.
pub(crate) struct NeighborDraft {
    pub(crate) config: Option<NeighborConfig>,
    pub(crate) address: Option<(IpAddr, Range<usize>)>,
    /// None when `families` was invalid (reported): route checks then stay quiet.
    pub(crate) families: Option<Vec<Family>>,
}

/// A neighbor address as sessions see it: an IPv4-mapped IPv6 address is the IPv4
/// peer it maps (incoming connections are matched that way); an address no peer
/// can have (unspecified, multicast, broadcast) is refused.
fn peer_address(text: &str, a: IpAddr) -> Result<IpAddr, String> {
    let a = a.to_canonical();
    let impossible =
        a.is_unspecified() || a.is_multicast() || matches!(a, IpAddr::V4(v4) if v4.is_broadcast());
    if impossible {
        return Err(format!(
            "\"{text}\" cannot be a BGP peer's address (unspecified, multicast or broadcast), expected the address of the neighbor router"
        ));
    }
    Ok(a)
}

pub(crate) fn parse_neighbor(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    global: &GlobalDraft,
) -> NeighborDraft {
    t.check_keys(ctx, NEIGHBOR_KEYS);
    let mut ok = true;

    let address = match t.str(
        ctx,
        "address",
        "an IP address as a string, e.g. \"192.0.2.254\"",
    ) {
        Some((s, span)) => match parse_ip("address", s).and_then(|a| peer_address(s, a)) {
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
    let max_prefix = parse_max_prefix(ctx, t, families.as_deref(), &mut ok);
    // RFC 4724 §3: the Restart Time field is 12 bits.
    let graceful_restart = match t.int(
        ctx,
        "graceful-restart",
        0,
        4095,
        "a restart time of 0 to 4095 seconds (RFC 4724), e.g. graceful-restart = 120",
    ) {
        Some((n, _)) => u16::try_from(n).ok(),
        None => {
            ok &= t.get("graceful-restart").is_none();
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
            max_prefix,
            graceful_restart,
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

/// `max-prefix` (an integer for every family of the neighbor, or a table of
/// family = integer) and its options; `ok` is cleared when any of it was invalid.
/// `families` is None when the neighbor's families were invalid (reported): a
/// family of the table is then not checked against them.
fn parse_max_prefix(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    families: Option<&[Family]>,
    ok: &mut bool,
) -> Option<MaxPrefix> {
    let expected = "a number of prefixes from 1 to 4294967295, or a table of family = number, e.g. { \"ipv4 unicast\" = 1000 }";
    let Some(v) = t.get("max-prefix") else {
        for key in MAX_PREFIX_OPTIONS {
            if let Some(o) = t.get(key) {
                ctx.error(
                    &o.span(),
                    format!("{key} has no effect without max-prefix, expected max-prefix = N in this [[neighbor]] too"),
                );
                *ok = false;
            }
        }
        return None;
    };
    let mut limits: Vec<(Family, u32)> = Vec::new();
    let mut valid = true;
    match v.get_ref() {
        DeValue::Integer(_) => {
            match int_value(ctx, "max-prefix", v, 1, u32::MAX.into(), expected) {
                Some(n) => {
                    let n = u32::try_from(n).unwrap_or(u32::MAX);
                    let fams = families.unwrap_or(&[]);
                    limits = fams.iter().map(|f| (*f, n)).collect();
                }
                None => valid = false,
            }
        }
        DeValue::Table(table) => {
            if table.is_empty() {
                ctx.error(
                    &v.span(),
                    format!("max-prefix is an empty table, expected {expected}"),
                );
                valid = false;
            }
            for (k, item) in table.iter() {
                let name = k.get_ref().as_ref();
                let family = match parse_family(name) {
                    Ok(f) => f,
                    Err(m) => {
                        ctx.error(&k.span(), format!("in max-prefix: {m}"));
                        valid = false;
                        continue;
                    }
                };
                if families.is_some_and(|fs| !fs.contains(&family)) {
                    ctx.error(
                        &k.span(),
                        format!("max-prefix for \"{family}\", a family this neighbor does not negotiate, expected one of its families (see families)"),
                    );
                    valid = false;
                    continue;
                }
                let key = format!("max-prefix \"{family}\"");
                match int_value(
                    ctx,
                    &key,
                    item,
                    1,
                    u32::MAX.into(),
                    "a number of prefixes from 1 to 4294967295",
                ) {
                    Some(n) => limits.push((family, u32::try_from(n).unwrap_or(u32::MAX))),
                    None => valid = false,
                }
            }
        }
        other => {
            ctx.error(
                &v.span(),
                format!(
                    "wrong type for max-prefix: found {}, expected {expected}",
                    type_name(other)
                ),
            );
            valid = false;
        }
    }
    let warning_only = match t.bool(ctx, "max-prefix-warning-only") {
        Some(b) => b,
        None => {
            valid &= t.get("max-prefix-warning-only").is_none();
            false
        }
    };
    let restart_after = match t.int(
        ctx,
        "max-prefix-restart-after",
        1,
        u32::MAX.into(),
        "a number of seconds from 1 to 4294967295",
    ) {
        Some((n, span)) => {
            if warning_only {
                ctx.error(
                    &span,
                    "max-prefix-restart-after has no effect with max-prefix-warning-only = true (the session is kept), expected one of the two",
                );
                valid = false;
            }
            u32::try_from(n).ok()
        }
        None => {
            valid &= t.get("max-prefix-restart-after").is_none();
            None
        }
    };
    let warning_threshold = match t.int(
        ctx,
        "max-prefix-warning-threshold",
        1,
        100,
        "a percentage of the limit from 1 to 100",
    ) {
        Some((n, _)) => u8::try_from(n).ok(),
        None => {
            valid &= t.get("max-prefix-warning-threshold").is_none();
            None
        }
    };
    *ok &= valid;
    // One order whatever the file's: the order carries no meaning.
    limits.sort_unstable();
    valid.then_some(MaxPrefix {
        limits,
        warning_only,
        restart_after,
        warning_threshold,
    })
}

/// `families`: None when invalid (reported); default the family of the address.
fn parse_families(
    ctx: &mut Ctx<'_>,
    t: &Table<'_, '_>,
    address: Option<IpAddr>,
) -> Option<Vec<Family>> {
    let expected = super::values::FAMILY_NAMES;
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
                    format!("family \"{f}\" is listed twice, expected each family once"),
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
pub(crate) fn check_duplicate_neighbors(ctx: &mut Ctx<'_>, neighbors: &[NeighborDraft]) {
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
