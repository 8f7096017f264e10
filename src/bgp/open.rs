//! OPEN message body (RFC 4271 §4.2) with capabilities (RFC 5492) and the
//! extended optional parameters length (RFC 9072, accepted and sent when needed).
//!
//! ```text
//! +-----------+----------+-----------+------------------+----------------+----------+
//! | Version 1 | My AS 2  | Hold Time | BGP Identifier 4 | Opt Parm Len 1 | Opt Parm |
//! +-----------+----------+-----------+------------------+----------------+----------+
//! Optional parameter:   Type (1) | Length (1; 2 in the RFC 9072 form) | Value
//! Capability (type 2):  Code (1) | Length (1) | Value
//! ```

use std::net::Ipv4Addr;

use super::error::{DecodeError, EncodeError};
use super::iana::*;
use super::types::{Capability, Family, GracefulRestart, Open};
use super::wire::{put_u16, Reader};

pub(crate) fn decode(body: &[u8]) -> Result<Open, DecodeError> {
    let mut r = Reader::new(body);
    let short = DecodeError::MalformedOpen {
        reason: "message too short",
    };
    let version = r.u8().ok_or(short.clone())?;
    if version != 4 {
        return Err(DecodeError::UnsupportedVersion { version });
    }
    let (Some(as2), Some(hold_time), Some(router_id), Some(opt_len)) =
        (r.u16(), r.u16(), r.ipv4(), r.u8())
    else {
        return Err(short);
    };

    let mut capabilities = Vec::new();
    let extended = opt_len == 255 && r.clone().u8() == Some(PARAM_EXTENDED);
    let params = if extended {
        r.u8();
        let len = r.u16().ok_or(DecodeError::MalformedOpen {
            reason: "extended length missing",
        })?;
        r.take(usize::from(len))
    } else {
        r.take(usize::from(opt_len))
    }
    .ok_or(DecodeError::MalformedOpen {
        reason: "optional parameters overrun the message",
    })?;
    if !r.is_empty() {
        return Err(DecodeError::MalformedOpen {
            reason: "bytes after the optional parameters",
        });
    }
    let mut p = Reader::new(params);
    while !p.is_empty() {
        let bad = DecodeError::MalformedOpen {
            reason: "optional parameter overruns its field",
        };
        let t = p.u8().ok_or(bad.clone())?;
        let len = if extended {
            p.u16()
        } else {
            p.u8().map(u16::from)
        }
        .ok_or(bad.clone())?;
        let value = p.take(usize::from(len)).ok_or(bad)?;
        if t != PARAM_CAPABILITIES {
            return Err(DecodeError::UnsupportedOptionalParameter { param_type: t });
        }
        parse_capabilities(value, &mut capabilities)?;
    }

    let my_as = capabilities
        .iter()
        .find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        })
        .unwrap_or(u32::from(as2));
    if my_as == 0 || as2 == 0 {
        return Err(DecodeError::BadPeerAs { asn: my_as });
    }
    if hold_time == 1 || hold_time == 2 {
        return Err(DecodeError::UnacceptableHoldTime { hold_time });
    }
    if router_id == Ipv4Addr::UNSPECIFIED {
        return Err(DecodeError::BadBgpIdentifier { id: router_id });
    }
    Ok(Open {
        version,
        my_as,
        hold_time,
        router_id,
        capabilities,
    })
}

/// Capabilities of known code but unexpected length are kept as `Unknown`, so
/// they re-encode byte for byte and the session can ignore them.
fn parse_capabilities(mut buf: &[u8], out: &mut Vec<Capability>) -> Result<(), DecodeError> {
    while let [code, len, rest @ ..] = buf {
        let len = usize::from(*len);
        if len > rest.len() {
            break;
        }
        let (value, tail) = rest.split_at(len);
        buf = tail;
        out.push(match (*code, value) {
            (CAP_MULTIPROTOCOL, [a1, a2, _, safi]) => {
                Capability::Multiprotocol(Family::from_codes(u16::from_be_bytes([*a1, *a2]), *safi))
            }
            (CAP_ROUTE_REFRESH, []) => Capability::RouteRefresh,
            (CAP_EXTENDED_MESSAGE, []) => Capability::ExtendedMessage,
            (CAP_FOUR_OCTET_AS, [a, b, c, d]) => {
                Capability::FourOctetAs(u32::from_be_bytes([*a, *b, *c, *d]))
            }
            // A length other than 2 + 4n is kept as Unknown, like the others.
            (CAP_GRACEFUL_RESTART, v) => match GracefulRestart::from_value(v) {
                Some(g) => Capability::GracefulRestart(g),
                None => Capability::Unknown {
                    code: *code,
                    value: v.to_vec(),
                },
            },
            _ => Capability::Unknown {
                code: *code,
                value: value.to_vec(),
            },
        });
    }
    if buf.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::MalformedOpen {
            reason: "capability overruns its parameter",
        })
    }
}

fn put_capability(out: &mut Vec<u8>, c: &Capability) -> Result<(), EncodeError> {
    match c {
        Capability::Multiprotocol(f) => {
            out.extend_from_slice(&[CAP_MULTIPROTOCOL, 4]);
            put_u16(out, f.afi.code());
            out.extend_from_slice(&[0, f.safi.code()]);
        }
        Capability::RouteRefresh => out.extend_from_slice(&[CAP_ROUTE_REFRESH, 0]),
        Capability::ExtendedMessage => out.extend_from_slice(&[CAP_EXTENDED_MESSAGE, 0]),
        Capability::FourOctetAs(asn) => {
            out.extend_from_slice(&[CAP_FOUR_OCTET_AS, 4]);
            out.extend_from_slice(&asn.to_be_bytes());
        }
        Capability::GracefulRestart(g) => put_raw(out, CAP_GRACEFUL_RESTART, &g.value())?,
        Capability::Unknown { code, value } => put_raw(out, *code, value)?,
    }
    Ok(())
}

/// Code, length, value; a value over 255 octets cannot be sent.
fn put_raw(out: &mut Vec<u8>, code: u8, value: &[u8]) -> Result<(), EncodeError> {
    let len = u8::try_from(value.len()).map_err(|_| EncodeError::FieldTooLong {
        what: "capability value",
        len: value.len(),
        max: 255,
    })?;
    out.extend_from_slice(&[code, len]);
    out.extend_from_slice(value);
    Ok(())
}

/// Appends the OPEN body. All capabilities go in one optional parameter; when they
/// need more than 253 octets the RFC 9072 extended form is used.
pub(crate) fn encode(o: &Open, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let cap4 = o.capabilities.iter().find_map(|c| match c {
        Capability::FourOctetAs(asn) => Some(*asn),
        _ => None,
    });
    match cap4 {
        Some(a) if a != o.my_as => {
            return Err(EncodeError::Open(
                "the 4-octet AS capability must carry my_as",
            ))
        }
        None if o.my_as > 0xFFFF => {
            return Err(EncodeError::Open(
                "an AS above 65535 needs the 4-octet AS capability",
            ))
        }
        _ => {}
    }
    out.push(o.version);
    put_u16(out, u16::try_from(o.my_as).unwrap_or(AS_TRANS as u16));
    put_u16(out, o.hold_time);
    out.extend_from_slice(&o.router_id.octets());
    let mut caps = Vec::with_capacity(8 * o.capabilities.len());
    for c in &o.capabilities {
        put_capability(&mut caps, c)?;
    }
    if caps.is_empty() {
        out.push(0);
    } else if caps.len() <= 253 {
        out.extend_from_slice(&[caps.len() as u8 + 2, PARAM_CAPABILITIES, caps.len() as u8]);
        out.extend_from_slice(&caps);
    } else {
        let total = caps.len() + 3;
        let len = u16::try_from(total).map_err(|_| EncodeError::FieldTooLong {
            what: "optional parameters",
            len: total,
            max: 65535,
        })?;
        out.extend_from_slice(&[255, PARAM_EXTENDED]);
        put_u16(out, len);
        out.push(PARAM_CAPABILITIES);
        put_u16(out, caps.len() as u16);
        out.extend_from_slice(&caps);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4724 §3: R bit, restart time 120 (0x078), IPv4 unicast with F set and
    /// IPv6 unicast without.
    #[test]
    fn graceful_restart_capability_bytes() {
        let value = [0x80, 0x78, 0, 1, 1, 0x80, 0, 2, 1, 0];
        let mut caps = Vec::new();
        let mut raw = vec![CAP_GRACEFUL_RESTART, value.len() as u8];
        raw.extend_from_slice(&value);
        parse_capabilities(&raw, &mut caps).unwrap();
        let g = GracefulRestart {
            flags: GracefulRestart::RESTART_STATE,
            restart_time: 120,
            families: vec![
                (Family::IPV4_UNICAST, GracefulRestart::FORWARDING_STATE),
                (Family::IPV6_UNICAST, 0),
            ],
        };
        assert_eq!(caps, vec![Capability::GracefulRestart(g.clone())]);
        assert!(g.restart_state());
        assert!(g.forwarding_preserved(Family::IPV4_UNICAST));
        assert!(!g.forwarding_preserved(Family::IPV6_UNICAST));
        let mut out = Vec::new();
        put_capability(&mut out, &caps[0]).unwrap();
        assert_eq!(out, raw);
        // No family: "supports the procedures of the Receiving Speaker" only.
        assert_eq!(
            GracefulRestart::from_value(&[0x00, 0x00]),
            Some(GracefulRestart {
                flags: 0,
                restart_time: 0,
                families: vec![]
            })
        );
        // 12-bit time, reserved flag bits kept for a byte-exact re-encode.
        let max = GracefulRestart::from_value(&[0x7F, 0xFF]).unwrap();
        assert_eq!((max.flags, max.restart_time), (0x7, 4095));
        assert_eq!(max.value(), vec![0x7F, 0xFF]);
    }

    /// A length other than 2 + 4n stays Unknown (re-encoded as received).
    #[test]
    fn malformed_graceful_restart_is_kept_raw() {
        for value in [&[][..], &[0x00][..], &[0, 120, 0, 1, 1][..]] {
            let mut raw = vec![CAP_GRACEFUL_RESTART, value.len() as u8];
            raw.extend_from_slice(value);
            let mut caps = Vec::new();
            parse_capabilities(&raw, &mut caps).unwrap();
            assert_eq!(
                caps,
                vec![Capability::Unknown {
                    code: CAP_GRACEFUL_RESTART,
                    value: value.to_vec()
                }]
            );
        }
    }
}
