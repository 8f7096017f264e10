//! Encoding path attributes, in ascending type order (RFC 4271 §5 "SHOULD").
//!
//! The block is written in two halves around MP_REACH_NLRI / MP_UNREACH_NLRI
//! (types 14 and 15) so that UPDATE packing can encode both halves once per batch
//! and splice a fresh MP_REACH_NLRI between them for every message.
//!
//! Unknown (optional transitive) attributes are re-sent with the Partial bit set,
//! as RFC 4271 §5 requires of a speaker passing on an attribute it does not know.

use std::net::{IpAddr, Ipv4Addr};

use super::as_path;
use super::error::EncodeError;
use super::flow::{encode_flow_nlri, FlowNlri};
use super::iana::*;
use super::nlri::put_prefix;
use super::types::{CodecOptions, Family, FlowReach, FlowUnreach, MpReach, MpUnreach, Origin};
use super::types::{PathAttributes, RawAttribute};
use super::wire::put_u16;

/// Writes one attribute: header, then the value `f` appends. The Extended Length
/// bit is set only when the value needs it.
pub(crate) fn put_attr(
    out: &mut Vec<u8>,
    flags: u8,
    type_code: u8,
    f: impl FnOnce(&mut Vec<u8>),
) -> Result<(), EncodeError> {
    let start = out.len();
    out.extend_from_slice(&[flags | FLAG_EXTENDED_LENGTH, type_code, 0, 0]);
    f(out);
    let len = out.len() - start - 4;
    if len <= 255 {
        out[start] = flags & !FLAG_EXTENDED_LENGTH;
        out[start + 2] = len as u8;
        out.remove(start + 3);
    } else {
        let l = u16::try_from(len).map_err(|_| EncodeError::FieldTooLong {
            what: "path attribute",
            len,
            max: 65535,
        })?;
        out[start + 2..start + 4].copy_from_slice(&l.to_be_bytes());
    }
    Ok(())
}

fn put_unknown(out: &mut Vec<u8>, u: &RawAttribute) -> Result<(), EncodeError> {
    if is_modelled_attribute(u.type_code) {
        return Err(EncodeError::ModelledTypeCode(u.type_code));
    }
    let mut flags = u.flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE | FLAG_PARTIAL);
    if flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE) == FLAG_OPTIONAL | FLAG_TRANSITIVE {
        flags |= FLAG_PARTIAL;
    }
    put_attr(out, flags, u.type_code, |o| o.extend_from_slice(&u.value))
}

/// Writes unknown attributes from `*next` on whose type code is below `below`.
fn flush_unknown(
    out: &mut Vec<u8>,
    unknown: &[RawAttribute],
    next: &mut usize,
    below: u16,
) -> Result<(), EncodeError> {
    while let Some(u) = unknown.get(*next) {
        if u16::from(u.type_code) >= below {
            break;
        }
        put_unknown(out, u)?;
        *next += 1;
    }
    Ok(())
}

/// Toward an OLD speaker, does AGGREGATOR go as AS_TRANS plus AS4_AGGREGATOR?
/// For a 4-octet AS, and also whenever AS4_PATH is sent: a NEW speaker further
/// on ignores AS4_PATH behind an AGGREGATOR that is not AS_TRANS (RFC 6793
/// §4.2.3), so a 2-octet aggregator would make it drop our path.
fn as4_aggregator(a: &PathAttributes) -> bool {
    a.aggregator.is_some_and(|g| g.asn > 0xFFFF)
        || (a.aggregator.is_some() && a.as_path.as_ref().is_some_and(as_path::needs_as4))
}

const WK: u8 = FLAG_TRANSITIVE;
const OPT: u8 = FLAG_OPTIONAL;
const OPT_T: u8 = FLAG_OPTIONAL | FLAG_TRANSITIVE;

/// Attributes with a type code below 14. `next_hop` replaces `attrs.next_hop`
/// (UPDATE packing passes the per-neighbor next hop; `encode` passes the field).
/// Returns how many `unknown` entries were written, for `put_high`.
pub(crate) fn put_low(
    out: &mut Vec<u8>,
    a: &PathAttributes,
    next_hop: Option<Ipv4Addr>,
    opts: &CodecOptions,
) -> Result<usize, EncodeError> {
    let four = opts.four_octet_as;
    let u = &a.unknown;
    let mut i = 0;
    if let Some(o) = a.origin {
        let v = match o {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        };
        put_attr(out, WK, ATTR_ORIGIN, |o| o.push(v))?;
    }
    if let Some(p) = &a.as_path {
        put_attr(out, WK, ATTR_AS_PATH, |o| as_path::put(o, p, four))?;
    }
    if let Some(nh) = next_hop {
        put_attr(out, WK, ATTR_NEXT_HOP, |o| {
            o.extend_from_slice(&nh.octets())
        })?;
    }
    if let Some(m) = a.med {
        put_attr(out, OPT, ATTR_MED, |o| {
            o.extend_from_slice(&m.to_be_bytes())
        })?;
    }
    if let Some(l) = a.local_pref {
        put_attr(out, WK, ATTR_LOCAL_PREF, |o| {
            o.extend_from_slice(&l.to_be_bytes())
        })?;
    }
    if a.atomic_aggregate {
        put_attr(out, WK, ATTR_ATOMIC_AGGREGATE, |_| {})?;
    }
    if let Some(g) = a.aggregator {
        let trans = as4_aggregator(a);
        put_attr(out, OPT_T, ATTR_AGGREGATOR, |o| {
            if four {
                o.extend_from_slice(&g.asn.to_be_bytes());
            } else {
                let two = if trans { AS_TRANS as u16 } else { g.asn as u16 };
                o.extend_from_slice(&two.to_be_bytes());
            }
            o.extend_from_slice(&g.address.octets());
        })?;
    }
    flush_unknown(out, u, &mut i, u16::from(ATTR_COMMUNITIES))?;
    if !a.communities.is_empty() {
        put_attr(out, OPT_T, ATTR_COMMUNITIES, |o| {
            for c in &a.communities {
                o.extend_from_slice(&c.0.to_be_bytes());
            }
        })?;
    }
    if let Some(id) = a.originator_id {
        put_attr(out, OPT, ATTR_ORIGINATOR_ID, |o| {
            o.extend_from_slice(&id.octets())
        })?;
    }
    if !a.cluster_list.is_empty() {
        put_attr(out, OPT, ATTR_CLUSTER_LIST, |o| {
            for c in &a.cluster_list {
                o.extend_from_slice(&c.octets());
            }
        })?;
    }
    flush_unknown(out, u, &mut i, u16::from(ATTR_MP_REACH))?;
    Ok(i)
}

/// Attributes with a type code above 15, starting at unknown entry `i`.
pub(crate) fn put_high(
    out: &mut Vec<u8>,
    a: &PathAttributes,
    mut i: usize,
    opts: &CodecOptions,
) -> Result<(), EncodeError> {
    let u = &a.unknown;
    // Unknown 14/15 cannot exist (modelled), so nothing sits between the halves.
    if !a.ext_communities.is_empty() {
        put_attr(out, OPT_T, ATTR_EXT_COMMUNITIES, |o| {
            for c in &a.ext_communities {
                o.extend_from_slice(&c.0);
            }
        })?;
    }
    if !opts.four_octet_as {
        // RFC 6793 §4.2.2: toward an OLD speaker, carry what AS_TRANS hides.
        if let Some(p) = a.as_path.as_ref().filter(|p| as_path::needs_as4(p)) {
            put_attr(out, OPT_T, ATTR_AS4_PATH, |o| as_path::put_as4(o, p))?;
        }
        if let Some(g) = a.aggregator.filter(|_| as4_aggregator(a)) {
            put_attr(out, OPT_T, ATTR_AS4_AGGREGATOR, |o| {
                o.extend_from_slice(&g.asn.to_be_bytes());
                o.extend_from_slice(&g.address.octets());
            })?;
        }
    }
    flush_unknown(out, u, &mut i, u16::from(ATTR_LARGE_COMMUNITIES))?;
    if !a.large_communities.is_empty() {
        put_attr(out, OPT_T, ATTR_LARGE_COMMUNITIES, |o| {
            for c in &a.large_communities {
                o.extend_from_slice(&c.global.to_be_bytes());
                o.extend_from_slice(&c.local1.to_be_bytes());
                o.extend_from_slice(&c.local2.to_be_bytes());
            }
        })?;
    }
    flush_unknown(out, u, &mut i, 256)?;
    Ok(())
}

/// Appends the next hop field of MP_REACH_NLRI (without its length octet).
fn put_next_hops(out: &mut Vec<u8>, hops: &[IpAddr]) -> Result<(), EncodeError> {
    match hops {
        [IpAddr::V4(a)] => out.extend_from_slice(&a.octets()),
        [IpAddr::V6(a)] => out.extend_from_slice(&a.octets()),
        [IpAddr::V6(a), IpAddr::V6(b)] => {
            out.extend_from_slice(&a.octets());
            out.extend_from_slice(&b.octets());
        }
        _ => return Err(EncodeError::NextHop(
            "MP_REACH_NLRI takes one IPv4 or IPv6 next hop, or an IPv6 global and link-local pair",
        )),
    }
    Ok(())
}

/// Length of the MP_REACH_NLRI next hop field for these next hops.
pub(crate) fn next_hops_len(hops: &[IpAddr]) -> usize {
    hops.iter().map(|h| if h.is_ipv4() { 4 } else { 16 }).sum()
}

/// Writes the fixed part of MP_REACH_NLRI: AFI, SAFI, next hop, reserved.
pub(crate) fn put_mp_reach_head(
    out: &mut Vec<u8>,
    family: super::types::Family,
    hops: &[IpAddr],
) -> Result<(), EncodeError> {
    put_u16(out, family.afi.code());
    out.push(family.safi.code());
    out.push(next_hops_len(hops) as u8);
    put_next_hops(out, hops)?;
    out.push(0);
    Ok(())
}

fn check_family(
    family: super::types::Family,
    prefixes: &[super::types::Prefix],
) -> Result<(), EncodeError> {
    if let Some(p) = prefixes.iter().find(|p| p.family().afi != family.afi) {
        return Err(EncodeError::FamilyMismatch { prefix: *p, family });
    }
    if !prefixes.is_empty() && !family.is_supported() {
        return Err(EncodeError::UnsupportedFamily(family));
    }
    Ok(())
}

pub(crate) fn put_mp_reach(out: &mut Vec<u8>, m: &MpReach) -> Result<(), EncodeError> {
    check_family(m.family, &m.nlri)?;
    let mut res = Ok(());
    put_attr(out, OPT, ATTR_MP_REACH, |o| {
        res = put_mp_reach_head(o, m.family, &m.next_hops);
        for p in &m.nlri {
            put_prefix(o, p);
        }
    })?;
    res
}

pub(crate) fn put_mp_unreach(out: &mut Vec<u8>, m: &MpUnreach) -> Result<(), EncodeError> {
    check_family(m.family, &m.withdrawn)?;
    put_attr(out, OPT, ATTR_MP_UNREACH, |o| {
        put_u16(o, m.family.afi.code());
        o.push(m.family.safi.code());
        for p in &m.withdrawn {
            put_prefix(o, p);
        }
    })
}

/// The flow NLRI of `family` (RFC 8955 §4.1): a route distinguisher exactly when
/// the SAFI is 134, the AFI matching the rule's.
fn put_flow_nlris(out: &mut Vec<u8>, family: Family, nlri: &[FlowNlri]) -> Result<(), EncodeError> {
    if !family.is_flow() {
        return Err(EncodeError::FlowFamily(family));
    }
    for n in nlri {
        if n.rd.is_some() != family.is_flow_vpn() || n.rule.afi() != family.afi {
            return Err(EncodeError::FlowFamily(family));
        }
        encode_flow_nlri(n, out)?;
    }
    Ok(())
}

/// MP_REACH_NLRI of a flow family: next hop length 0 unless a next hop is given
/// (RFC 8955 §4: "MUST be set to 0 upon transmission"; the redirect-to-nexthop
/// action of draft-simpson-idr-flowspec-redirect needs one).
pub(crate) fn put_flow_reach(out: &mut Vec<u8>, f: &FlowReach) -> Result<(), EncodeError> {
    let mut res = Ok(());
    put_attr(out, OPT, ATTR_MP_REACH, |o| {
        put_u16(o, f.family.afi.code());
        o.push(f.family.safi.code());
        if f.next_hops.is_empty() {
            o.push(0);
        } else {
            o.push(next_hops_len(&f.next_hops) as u8);
            res = put_next_hops(o, &f.next_hops);
        }
        o.push(0);
        if res.is_ok() {
            res = put_flow_nlris(o, f.family, &f.nlri);
        }
    })?;
    res
}

pub(crate) fn put_flow_unreach(out: &mut Vec<u8>, f: &FlowUnreach) -> Result<(), EncodeError> {
    let mut res = Ok(());
    put_attr(out, OPT, ATTR_MP_UNREACH, |o| {
        put_u16(o, f.family.afi.code());
        o.push(f.family.safi.code());
        res = put_flow_nlris(o, f.family, &f.withdrawn);
    })?;
    res
}

/// The whole attribute block of `a`, as `encode_message` writes it.
pub(crate) fn put_all(
    out: &mut Vec<u8>,
    a: &PathAttributes,
    opts: &CodecOptions,
) -> Result<(), EncodeError> {
    let i = put_low(out, a, a.next_hop, opts)?;
    if a.mp_reach.is_some() && a.flow_reach.is_some() {
        return Err(EncodeError::TwoMpAttributes("MP_REACH_NLRI"));
    }
    if a.mp_unreach.is_some() && a.flow_unreach.is_some() {
        return Err(EncodeError::TwoMpAttributes("MP_UNREACH_NLRI"));
    }
    if let Some(m) = &a.mp_reach {
        put_mp_reach(out, m)?;
    }
    if let Some(f) = &a.flow_reach {
        put_flow_reach(out, f)?;
    }
    if let Some(m) = &a.mp_unreach {
        put_mp_unreach(out, m)?;
    }
    if let Some(f) = &a.flow_unreach {
        put_flow_unreach(out, f)?;
    }
    put_high(out, a, i, opts)
}
