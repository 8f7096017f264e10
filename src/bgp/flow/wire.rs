//! The flow NLRI on the wire (RFC 8955 §4.1, §4.2, §8; RFC 8956 §3.1).
//!
//! ```text
//! +-------------------------------+
//! |    length (0xnn or 0xfnnn)    |   1 octet below 240, else 2 octets 0xf000 | len
//! +-------------------------------+
//! |  route distinguisher (8)      |   SAFI 134 only
//! +-------------------------------+
//! |    NLRI value   (variable)    |   components, strictly increasing type
//! +-------------------------------+
//!
//! IPv4 prefix component:  type | length | prefix (ceil(length/8) octets)
//! IPv6 prefix component:  type | length | offset | pattern (ceil((length-offset)/8))
//! numeric/bitmask:        type | op value | op value | ... (last op has the e bit)
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::component::{kind_of, mask128, BitmaskMatch, Component, FlowPrefix, Kind};
use super::component::{NumericMatch, AND_BIT, END_BIT};
use super::{afi_name, FlowDecodeError, FlowEncodeError, FlowNlri, FlowRule};
use crate::bgp::family::Afi;

/// The longest NLRI value the 2-octet length can announce (RFC 8955 §4.1).
pub const FLOW_NLRI_MAX_LEN: usize = 0x0fff;

/// Decodes one flow NLRI from the start of `data` (the NLRI field of
/// MP_(UN)REACH_NLRI for AFI `afi`, SAFI 133 or, with `vpn`, 134). Returns it and
/// the octets used.
pub fn decode_flow_nlri(
    data: &[u8],
    afi: Afi,
    vpn: bool,
) -> Result<(FlowNlri, usize), FlowDecodeError> {
    let ipv6 = match afi {
        Afi::Ipv4 => false,
        Afi::Ipv6 => true,
        Afi::Other(_) => return Err(FlowDecodeError::UnsupportedAfi(afi)),
    };
    let first = *data.first().ok_or(FlowDecodeError::TruncatedLength)?;
    let (length, head) = if first & 0xf0 == 0xf0 {
        let second = *data.get(1).ok_or(FlowDecodeError::TruncatedLength)?;
        ((usize::from(first & 0x0f) << 8) | usize::from(second), 2)
    } else {
        (usize::from(first), 1)
    };
    let available = data.len() - head;
    let mut value = data
        .get(head..head + length)
        .ok_or(FlowDecodeError::LengthOverrun { length, available })?;
    let rd = if vpn {
        let (rd, rest) = value
            .split_first_chunk::<8>()
            .ok_or(FlowDecodeError::ShortRouteDistinguisher { length })?;
        value = rest;
        Some(*rd)
    } else {
        None
    };
    let components = decode_components(value, ipv6)?;
    Ok((
        FlowNlri {
            rd,
            rule: FlowRule { ipv6, components },
        },
        head + length,
    ))
}

/// Decodes every flow NLRI of an NLRI field, stopping at the first error.
pub fn decode_flow_nlris(
    mut data: &[u8],
    afi: Afi,
    vpn: bool,
) -> Result<Vec<FlowNlri>, FlowDecodeError> {
    let mut out = Vec::new();
    // Each NLRI takes at least one octet, so this ends.
    while !data.is_empty() {
        let (nlri, used) = decode_flow_nlri(data, afi, vpn)?;
        out.push(nlri);
        data = &data[used..];
    }
    Ok(out)
}

/// Octets the flow NLRI at the start of `data` takes (length field included), or
/// the error when its length cannot be read or runs past the end of `data`.
fn nlri_span(data: &[u8]) -> Result<usize, FlowDecodeError> {
    let first = *data.first().ok_or(FlowDecodeError::TruncatedLength)?;
    let (length, head) = if first & 0xf0 == 0xf0 {
        let second = *data.get(1).ok_or(FlowDecodeError::TruncatedLength)?;
        ((usize::from(first & 0x0f) << 8) | usize::from(second), 2)
    } else {
        (usize::from(first), 1)
    };
    let available = data.len() - head;
    if length > available {
        return Err(FlowDecodeError::LengthOverrun { length, available });
    }
    Ok(head + length)
}

/// Decodes the NLRI field of an MP_(UN)REACH_NLRI of a flow family as a session
/// does: an NLRI whose content is malformed but whose length is readable is
/// skipped (the ones after it are still found) and the first such error is
/// returned beside the rules that decoded; `Err` when the field itself cannot be
/// walked (a length runs past its end). The module header of `flow` says what the
/// caller does with each.
pub fn decode_flow_field(
    mut data: &[u8],
    afi: Afi,
    vpn: bool,
) -> Result<(Vec<FlowNlri>, Option<FlowDecodeError>), FlowDecodeError> {
    if let Afi::Other(_) = afi {
        return Err(FlowDecodeError::UnsupportedAfi(afi));
    }
    let mut out = Vec::new();
    let mut first_error = None;
    // Each NLRI takes at least one octet, so this ends.
    while !data.is_empty() {
        let span = nlri_span(data)?;
        let (one, rest) = data.split_at(span);
        match decode_flow_nlri(one, afi, vpn) {
            Ok((nlri, _)) => out.push(nlri),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        data = rest;
    }
    Ok((out, first_error))
}

/// Takes `n` octets off the front of `data`.
fn take<'a>(data: &mut &'a [u8], n: usize, code: u8) -> Result<&'a [u8], FlowDecodeError> {
    if data.len() < n {
        return Err(FlowDecodeError::ComponentOverrun { code });
    }
    let (head, rest) = data.split_at(n);
    *data = rest;
    Ok(head)
}

fn decode_components(mut data: &[u8], ipv6: bool) -> Result<Vec<Component>, FlowDecodeError> {
    if data.is_empty() {
        return Err(FlowDecodeError::Empty);
    }
    let mut out = Vec::new();
    let mut previous: Option<u8> = None;
    while let Some((&code, rest)) = data.split_first() {
        data = rest;
        if let Some(previous) = previous {
            if code <= previous {
                return Err(FlowDecodeError::OutOfOrder {
                    previous,
                    found: code,
                });
            }
        }
        previous = Some(code);
        let kind = kind_of(code, ipv6).ok_or(FlowDecodeError::UnknownComponent {
            code,
            afi: afi_name(ipv6),
        })?;
        let component = match kind {
            Kind::Prefix => {
                let prefix = decode_prefix(&mut data, code, ipv6)?;
                if code == 1 {
                    Component::Destination(prefix)
                } else {
                    Component::Source(prefix)
                }
            }
            Kind::Numeric(max) => {
                let list = decode_ops(&mut data, code, max)?
                    .into_iter()
                    .map(|(op, v)| NumericMatch::from_op(op, v))
                    .collect();
                Component::numeric(code, list).ok_or(FlowDecodeError::UnknownComponent {
                    code,
                    afi: afi_name(ipv6),
                })?
            }
            Kind::Bitmask(max) => {
                let list = decode_ops(&mut data, code, max)?
                    .into_iter()
                    .map(|(op, v)| BitmaskMatch::from_op(op, v))
                    .collect();
                Component::bitmask(code, list).ok_or(FlowDecodeError::UnknownComponent {
                    code,
                    afi: afi_name(ipv6),
                })?
            }
        };
        out.push(component);
    }
    Ok(out)
}

fn decode_prefix(data: &mut &[u8], code: u8, ipv6: bool) -> Result<FlowPrefix, FlowDecodeError> {
    let len = take(data, 1, code)?[0];
    let max = if ipv6 { 128 } else { 32 };
    if len > max {
        return Err(FlowDecodeError::PrefixTooLong { code, len, max });
    }
    if !ipv6 {
        let bytes = take(data, usize::from(len).div_ceil(8), code)?;
        let mut octets = [0u8; 4];
        octets[..bytes.len()].copy_from_slice(bytes);
        return FlowPrefix::new(IpAddr::V4(Ipv4Addr::from(octets)), len, 0)
            .ok_or(FlowDecodeError::PrefixTooLong { code, len, max });
    }
    let offset = take(data, 1, code)?[0];
    if offset >= len && !(len == 0 && offset == 0) {
        return Err(FlowDecodeError::BadOffset { code, offset, len });
    }
    // RFC 8956 §3.1: the pattern holds bits offset..len, left-aligned, padded
    // with bits that "MUST be ignored on receipt".
    let bits = u32::from(len - offset);
    let n = bits.div_ceil(8) as usize;
    let pattern = take(data, n, code)?;
    let mut raw: u128 = 0;
    for &b in pattern {
        raw = (raw << 8) | u128::from(b);
    }
    let addr = if bits == 0 {
        0
    } else {
        let value = raw >> (n as u32 * 8 - bits);
        value << (128 - u32::from(len))
    };
    FlowPrefix::new(IpAddr::V6(Ipv6Addr::from(addr)), len, offset)
        .ok_or(FlowDecodeError::BadOffset { code, offset, len })
}

/// Reads operator/value pairs up to and including the one with the end bit.
fn decode_ops(data: &mut &[u8], code: u8, max: usize) -> Result<Vec<(u8, u64)>, FlowDecodeError> {
    let mut out = Vec::new();
    // Each pair takes at least two octets of a finite slice, so this ends.
    loop {
        let op = take(data, 1, code)?[0];
        let length = 1usize << ((op >> 4) & 0x03);
        if length > max {
            return Err(FlowDecodeError::BadOperatorLength {
                code,
                op,
                length,
                max,
            });
        }
        let value = take(data, length, code)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        // The a bit means nothing on the first operator: dropped, so every
        // decoded rule has one text form.
        let op = if out.is_empty() { op & !AND_BIT } else { op };
        out.push((op, value));
        if op & END_BIT != 0 {
            return Ok(out);
        }
    }
}

/// Appends the flow NLRI (length, rd, components in type order) to `out`. On
/// error `out` is left as it was.
pub fn encode_flow_nlri(nlri: &FlowNlri, out: &mut Vec<u8>) -> Result<(), FlowEncodeError> {
    let rule = &nlri.rule;
    if rule.components.is_empty() {
        return Err(FlowEncodeError::Empty);
    }
    let mut sorted: Vec<&Component> = rule.components.iter().collect();
    sorted.sort_by_key(|c| c.code());
    for pair in sorted.windows(2) {
        if pair[0].code() == pair[1].code() {
            return Err(FlowEncodeError::DuplicateComponent {
                code: pair[0].code(),
            });
        }
    }
    let mut body = Vec::new();
    if let Some(rd) = &nlri.rd {
        body.extend_from_slice(rd);
    }
    for c in sorted {
        encode_component(c, rule.ipv6, &mut body)?;
    }
    let length = body.len();
    if length > FLOW_NLRI_MAX_LEN {
        return Err(FlowEncodeError::TooLong { length });
    }
    if length < 240 {
        out.push(length as u8);
    } else {
        out.extend_from_slice(&(0xf000 | length as u16).to_be_bytes());
    }
    out.extend_from_slice(&body);
    Ok(())
}

fn encode_component(c: &Component, ipv6: bool, out: &mut Vec<u8>) -> Result<(), FlowEncodeError> {
    let code = c.code();
    let kind = kind_of(code, ipv6).ok_or(FlowEncodeError::WrongFamily {
        code,
        afi: afi_name(ipv6),
    })?;
    out.push(code);
    match (c, kind) {
        (Component::Destination(p) | Component::Source(p), _) => {
            if p.is_ipv6() != ipv6 {
                return Err(FlowEncodeError::WrongFamily {
                    code,
                    afi: afi_name(ipv6),
                });
            }
            encode_prefix(p, out);
        }
        (_, Kind::Numeric(max)) => {
            let list = c.numeric_list().unwrap_or_default();
            let ops = list.iter().map(|m| (m.and, m.op_bits(), m.value));
            encode_ops(ops, list.len(), code, max, out)?;
        }
        (_, Kind::Bitmask(max)) => {
            let list = c.bitmask_list().unwrap_or_default();
            let ops = list.iter().map(|m| (m.and, m.op_bits(), m.value));
            encode_ops(ops, list.len(), code, max, out)?;
        }
        (_, Kind::Prefix) => {}
    }
    Ok(())
}

fn encode_prefix(p: &FlowPrefix, out: &mut Vec<u8>) {
    let len = p.len();
    out.push(len);
    match p.addr() {
        IpAddr::V4(a) => {
            let n = usize::from(len).div_ceil(8);
            out.extend_from_slice(&a.octets()[..n]);
        }
        IpAddr::V6(a) => {
            let offset = p.offset();
            out.push(offset);
            let bits = u32::from(len - offset);
            if bits == 0 {
                return;
            }
            let n = bits.div_ceil(8);
            let value = (u128::from(a) >> (128 - u32::from(len))) & !mask128(128 - bits as u8);
            let pattern = value << (n * 8 - bits);
            out.extend_from_slice(&pattern.to_be_bytes()[(16 - n as usize)..]);
        }
    }
}

/// Writes `(and, op bits, value)` triples with the shortest value length.
fn encode_ops(
    ops: impl Iterator<Item = (bool, u8, u64)>,
    count: usize,
    code: u8,
    max: usize,
    out: &mut Vec<u8>,
) -> Result<(), FlowEncodeError> {
    if count == 0 {
        return Err(FlowEncodeError::EmptyComponent { code });
    }
    for (i, (and, bits, value)) in ops.enumerate() {
        let (len_code, length) = match value {
            0..=0xff => (0u8, 1usize),
            0x100..=0xffff => (1, 2),
            0x1_0000..=0xffff_ffff => (2, 4),
            _ => (3, 8),
        };
        if length > max {
            return Err(FlowEncodeError::ValueTooLarge { code, value, max });
        }
        let mut op = bits | (len_code << 4);
        if and && i > 0 {
            op |= AND_BIT;
        }
        if i + 1 == count {
            op |= END_BIT;
        }
        out.push(op);
        out.extend_from_slice(&value.to_be_bytes()[8 - length..]);
    }
    Ok(())
}
