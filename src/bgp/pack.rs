//! UPDATE packing: many prefixes sharing one attribute set go out in as few
//! UPDATE messages as fit the negotiated maximum length.
//!
//! The attribute block is encoded once per call and copied into every message;
//! only the NLRI (and for MP families the MP_REACH_NLRI around it) differ.
//! IPv4 unicast with an IPv4 next hop uses the classic NLRI field and NEXT_HOP;
//! IPv6 unicast (and IPv4 with an IPv6 next hop, RFC 8950) uses MP_REACH_NLRI /
//! MP_UNREACH_NLRI.

use std::net::IpAddr;

use super::attr_encode::{next_hops_len, put_attr, put_high, put_low, put_mp_reach_head};
use super::error::EncodeError;
use super::flow::{encode_flow_nlri, FlowNlri};
use super::iana::*;
use super::message::encode_message;
use super::message::finish_header;
use super::nlri::{encoded_len, put_prefix};
use super::types::{CodecOptions, Family, FlowReach, Message, PathAttributes, Prefix, Update};
use super::wire::{patch_u16, put_u16};

fn check_prefixes(family: Family, prefixes: &[Prefix]) -> Result<(), EncodeError> {
    if !family.is_supported() {
        return Err(EncodeError::UnsupportedFamily(family));
    }
    match prefixes.iter().find(|p| p.family() != family) {
        Some(p) => Err(EncodeError::FamilyMismatch { prefix: *p, family }),
        None => Ok(()),
    }
}

/// Starts a message: marker, room for length and type.
fn start_message(capacity: usize) -> Vec<u8> {
    let mut m = Vec::with_capacity(capacity);
    m.extend_from_slice(&[0xFF; 16]);
    m.extend_from_slice(&[0, 0, MSG_UPDATE]);
    m
}

/// How many of `prefixes` fit in `room` octets (at least the first must fit).
fn fill(prefixes: &[Prefix], room: usize, max: usize, fixed: usize) -> Result<usize, EncodeError> {
    let mut used = 0;
    let mut n = 0;
    for p in prefixes {
        let l = encoded_len(p);
        if used + l > room {
            break;
        }
        used += l;
        n += 1;
    }
    if n == 0 {
        let len = fixed + prefixes.first().map_or(0, encoded_len);
        return Err(EncodeError::TooLong { len, max });
    }
    Ok(n)
}

/// Whole UPDATE messages announcing `prefixes` (all of `family`) with `attrs` and
/// `next_hops` (one address; for IPv6 optionally a global and a link-local one).
/// `attrs.next_hop`, `attrs.mp_reach` and `attrs.mp_unreach` are ignored: the
/// next hop comes from `next_hops`. ORIGIN and AS_PATH must be present (an empty
/// AS_PATH is fine for iBGP). Messages are appended to `out`; on error `out` is
/// left as it was.
pub fn pack_announce(
    attrs: &PathAttributes,
    family: Family,
    next_hops: &[IpAddr],
    prefixes: &[Prefix],
    opts: &CodecOptions,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), EncodeError> {
    let before = out.len();
    let r = announce(attrs, family, next_hops, prefixes, opts, out);
    if r.is_err() {
        out.truncate(before);
    }
    r
}

fn announce(
    attrs: &PathAttributes,
    family: Family,
    next_hops: &[IpAddr],
    prefixes: &[Prefix],
    opts: &CodecOptions,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), EncodeError> {
    check_prefixes(family, prefixes)?;
    if attrs.origin.is_none() {
        return Err(EncodeError::MissingMandatory("ORIGIN"));
    }
    if attrs.as_path.is_none() {
        return Err(EncodeError::MissingMandatory("AS_PATH"));
    }
    if prefixes.is_empty() {
        return Ok(());
    }
    let max = opts.max_message_len();
    match (family, next_hops) {
        (Family::IPV4_UNICAST, [IpAddr::V4(nh)]) => {
            let mut block = Vec::with_capacity(128);
            let i = put_low(&mut block, attrs, Some(*nh), opts)?;
            put_high(&mut block, attrs, i, opts)?;
            let fixed = HEADER_LEN + 4 + block.len();
            let alen =
                u16::try_from(block.len()).map_err(|_| EncodeError::TooLong { len: fixed, max })?;
            let mut rest = prefixes;
            while !rest.is_empty() {
                let n = fill(rest, max.saturating_sub(fixed), max, fixed)?;
                let (now, later) = rest.split_at(n);
                let mut m = start_message(max.min(fixed + now.len() * 5));
                put_u16(&mut m, 0);
                put_u16(&mut m, alen);
                m.extend_from_slice(&block);
                for p in now {
                    put_prefix(&mut m, p);
                }
                finish_header(&mut m, 0, MSG_UPDATE, opts)?;
                out.push(m);
                rest = later;
            }
            Ok(())
        }
        (_, [IpAddr::V4(_)]) => Err(EncodeError::NextHop("an IPv6 route needs an IPv6 next hop")),
        (_, [IpAddr::V6(_)] | [IpAddr::V6(_), IpAddr::V6(_)]) => {
            let mut low = Vec::with_capacity(128);
            let i = put_low(&mut low, attrs, None, opts)?;
            let mut high = Vec::with_capacity(64);
            put_high(&mut high, attrs, i, opts)?;
            let head = 5 + next_hops_len(next_hops);
            // MP_REACH_NLRI header counted at 4 octets (extended length); when the
            // value turns out short, put_attr uses 3 and the message is one shorter.
            let fixed = HEADER_LEN + 4 + low.len() + 4 + head + high.len();
            let mut rest = prefixes;
            while !rest.is_empty() {
                let n = fill(rest, max.saturating_sub(fixed), max, fixed)?;
                let (now, later) = rest.split_at(n);
                let mut m = start_message(max.min(fixed + now.len() * 17));
                put_u16(&mut m, 0);
                put_u16(&mut m, 0);
                m.extend_from_slice(&low);
                let mut res = Ok(());
                put_attr(&mut m, FLAG_OPTIONAL, ATTR_MP_REACH, |o| {
                    res = put_mp_reach_head(o, family, next_hops);
                    for p in now {
                        put_prefix(o, p);
                    }
                })?;
                res?;
                m.extend_from_slice(&high);
                let alen = m.len() - HEADER_LEN - 4;
                let alen =
                    u16::try_from(alen).map_err(|_| EncodeError::TooLong { len: alen, max })?;
                patch_u16(&mut m, HEADER_LEN + 2, alen);
                finish_header(&mut m, 0, MSG_UPDATE, opts)?;
                out.push(m);
                rest = later;
            }
            Ok(())
        }
        _ => Err(EncodeError::NextHop(
            "expected one next hop, or for IPv6 a global and a link-local address",
        )),
    }
}

/// Whole UPDATE messages withdrawing `prefixes` (all of `family`): the classic
/// withdrawn field for IPv4 unicast, MP_UNREACH_NLRI for IPv6 unicast. On error
/// `out` is left as it was.
pub fn pack_withdraw(
    family: Family,
    prefixes: &[Prefix],
    opts: &CodecOptions,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), EncodeError> {
    let before = out.len();
    let r = withdraw(family, prefixes, opts, out);
    if r.is_err() {
        out.truncate(before);
    }
    r
}

fn withdraw(
    family: Family,
    prefixes: &[Prefix],
    opts: &CodecOptions,
    out: &mut Vec<Vec<u8>>,
) -> Result<(), EncodeError> {
    check_prefixes(family, prefixes)?;
    let max = opts.max_message_len();
    let classic = family == Family::IPV4_UNICAST;
    // IPv6: withdrawn len, attr len, MP_UNREACH header (4) + AFI/SAFI (3).
    let fixed = HEADER_LEN + 4 + if classic { 0 } else { 7 };
    let mut rest = prefixes;
    while !rest.is_empty() {
        let n = fill(rest, max.saturating_sub(fixed), max, fixed)?;
        let (now, later) = rest.split_at(n);
        let mut m = start_message(max.min(fixed + now.len() * 17));
        if classic {
            put_u16(&mut m, 0);
            for p in now {
                put_prefix(&mut m, p);
            }
            let wlen = (m.len() - HEADER_LEN - 2) as u16;
            patch_u16(&mut m, HEADER_LEN, wlen);
            put_u16(&mut m, 0);
        } else {
            put_u16(&mut m, 0);
            put_u16(&mut m, 0);
            put_attr(&mut m, FLAG_OPTIONAL, ATTR_MP_UNREACH, |o| {
                put_u16(o, family.afi.code());
                o.push(family.safi.code());
                for p in now {
                    put_prefix(o, p);
                }
            })?;
            let alen = (m.len() - HEADER_LEN - 4) as u16;
            patch_u16(&mut m, HEADER_LEN + 2, alen);
        }
        finish_header(&mut m, 0, MSG_UPDATE, opts)?;
        out.push(m);
        rest = later;
    }
    Ok(())
}

/// Whole UPDATE messages announcing the flow `rules` (all of the flow `family`)
/// with `attrs` and `next_hops` (empty: next hop length 0, RFC 8955 §4), as many
/// rules to a message as fit the negotiated maximum: one UPDATE per rule made a
/// 100k-rule burst 100k messages for the peer to parse. Messages are appended
/// to `out`; a rule that cannot be encoded, or does not fit a message alone, is
/// left out and returned with the reason (by its index in `rules`), the others go.
pub fn pack_flow_announce(
    attrs: &PathAttributes,
    family: Family,
    next_hops: &[IpAddr],
    rules: &[FlowNlri],
    opts: &CodecOptions,
    out: &mut Vec<Vec<u8>>,
) -> Vec<(usize, EncodeError)> {
    let max = opts.max_message_len();
    // Each rule's octets (length field included); usize::MAX when it does not
    // encode (the message for it alone reports why).
    let mut scratch = Vec::new();
    let sizes: Vec<usize> = rules
        .iter()
        .map(|r| {
            scratch.clear();
            encode_flow_nlri(r, &mut scratch).map_or(usize::MAX, |()| scratch.len())
        })
        .collect();
    let message = |chunk: &[FlowNlri]| -> Result<Vec<u8>, EncodeError> {
        let attributes = PathAttributes {
            next_hop: None,
            mp_reach: None,
            mp_unreach: None,
            flow_unreach: None,
            flow_reach: Some(FlowReach {
                family,
                next_hops: next_hops.to_vec(),
                nlri: chunk.to_vec(),
            }),
            ..attrs.clone()
        };
        let mut bytes = Vec::new();
        let u = Update {
            attributes,
            ..Update::default()
        };
        encode_message(&Message::Update(u), opts, &mut bytes)?;
        Ok(bytes)
    };
    let mut skipped = Vec::new();
    // The message's octets besides its rules, from a trial with the first rule.
    let mut overhead: Option<usize> = None;
    let mut start = 0;
    while start < rules.len() {
        if overhead.is_none() {
            match message(&rules[start..start + 1]) {
                Ok(m) => overhead = Some(m.len().saturating_sub(sizes[start])),
                Err(e) => {
                    skipped.push((start, e));
                    start += 1;
                    continue;
                }
            }
        }
        let mut end = start + 1;
        if let Some(o) = overhead {
            // One octet spare: the MP_REACH_NLRI length may need its extended form.
            let budget = max.saturating_sub(o + 1);
            let mut used = sizes[start];
            while end < rules.len() && used.saturating_add(sizes[end]) <= budget {
                used += sizes[end];
                end += 1;
            }
        }
        loop {
            match message(&rules[start..end]) {
                Ok(m) => {
                    out.push(m);
                    start = end;
                    break;
                }
                Err(EncodeError::TooLong { .. }) if end - start > 1 => {
                    end = start + (end - start) / 2;
                }
                Err(e) => {
                    skipped.push((start, e));
                    start += 1;
                    break;
                }
            }
        }
    }
    skipped
}

/// The End-of-RIB marker (RFC 4724 §2): an empty UPDATE for IPv4 unicast, an
/// UPDATE holding only an empty MP_UNREACH_NLRI for any other family.
pub fn encode_end_of_rib(family: Family, _opts: &CodecOptions) -> Vec<u8> {
    let mut m = start_message(32);
    put_u16(&mut m, 0);
    if family == Family::IPV4_UNICAST {
        put_u16(&mut m, 0);
    } else {
        put_u16(&mut m, 6);
        m.extend_from_slice(&[FLAG_OPTIONAL, ATTR_MP_UNREACH, 3]);
        put_u16(&mut m, family.afi.code());
        m.push(family.safi.code());
    }
    let len = m.len() as u16;
    patch_u16(&mut m, 16, len);
    m
}
