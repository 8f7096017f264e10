//! UPDATE message body (RFC 4271 §4.3) and RFC 7606 treat-as-withdraw.
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```

use super::attr_decode;
use super::attr_encode;
use super::error::{DecodeError, EncodeError};
use super::nlri::{parse_prefixes, put_prefix};
use super::types::{Afi, CodecOptions, Family, FlowUnreach, MpUnreach, PathAttributes};
use super::types::{Prefix, Update};
use super::wire::{patch_u16, put_u16, Reader};

/// `families`: the negotiated ones (see [`super::decode_message_negotiated`]), or
/// None for every family the codec parses.
pub(crate) fn decode(
    body: &[u8],
    opts: &CodecOptions,
    families: Option<&[Family]>,
) -> Result<Update, DecodeError> {
    let mut r = Reader::new(body);
    let overrun = |reason| DecodeError::MalformedAttributeList { reason };
    let wlen = r.u16().ok_or(overrun("withdrawn routes length missing"))?;
    let withdrawn_bytes = r
        .take(usize::from(wlen))
        .ok_or(overrun("withdrawn routes length overruns the message"))?;
    let alen = r
        .u16()
        .ok_or(overrun("total path attribute length missing"))?;
    let attr_bytes = r
        .take(usize::from(alen))
        .ok_or(overrun("total path attribute length overruns the message"))?;
    let nlri_bytes = r.rest();

    let mut u = Update::default();
    let bad_net =
        |e: super::nlri::NlriError| DecodeError::InvalidNetworkField { reason: e.reason() };
    parse_prefixes(withdrawn_bytes, Afi::Ipv4, &mut u.withdrawn).map_err(bad_net)?;
    let decoded = attr_decode::decode(attr_bytes, opts, families)?;
    u.attributes = decoded.attrs;
    parse_prefixes(nlri_bytes, Afi::Ipv4, &mut u.nlri).map_err(bad_net)?;

    let reason = decoded.withdraw_reason.or_else(|| missing_mandatory(&u));
    if let Some(reason) = reason {
        treat_as_withdraw(&mut u, reason);
    }
    Ok(u)
}

/// RFC 7606 §3 d: a well-known mandatory attribute missing from an UPDATE that
/// announces something. NEXT_HOP is only mandatory with classic NLRI (RFC 4760).
fn missing_mandatory(u: &Update) -> Option<String> {
    let a = &u.attributes;
    let mp_nlri = a.mp_reach.as_ref().is_some_and(|m| !m.nlri.is_empty())
        || a.flow_reach.as_ref().is_some_and(|f| !f.nlri.is_empty());
    if u.nlri.is_empty() && !mp_nlri {
        return None;
    }
    let missing = if a.origin.is_none() {
        "ORIGIN"
    } else if a.as_path.is_none() {
        "AS_PATH"
    } else if !u.nlri.is_empty() && a.next_hop.is_none() {
        "NEXT_HOP"
    } else {
        return None;
    };
    Some(format!(
        "missing well-known attribute {missing} (RFC 7606 §3 d)"
    ))
}

/// RFC 7606 §2: every prefix the UPDATE announced is withdrawn instead. IPv4
/// unicast prefixes go to the classic withdrawn field when the MP_UNREACH_NLRI
/// slot holds another family. The other attributes are dropped: they describe
/// routes that no longer exist.
fn treat_as_withdraw(u: &mut Update, reason: String) {
    let a = std::mem::take(&mut u.attributes);
    u.withdrawn.append(&mut u.nlri);
    let mut unreach = a.mp_unreach;
    if let Some(reach) = a.mp_reach.filter(|r| !r.nlri.is_empty()) {
        match &mut unreach {
            None => {
                unreach = Some(MpUnreach {
                    family: reach.family,
                    withdrawn: reach.nlri,
                })
            }
            Some(un) if un.family == reach.family => un.withdrawn.extend(reach.nlri),
            Some(un) if un.withdrawn.is_empty() => {
                *un = MpUnreach {
                    family: reach.family,
                    withdrawn: reach.nlri,
                };
            }
            Some(_) if reach.family == Family::IPV4_UNICAST => u.withdrawn.extend(reach.nlri),
            Some(un) => {
                // Both families are parsed ones and differ: the unreach one is IPv4.
                u.withdrawn.append(&mut un.withdrawn);
                *un = MpUnreach {
                    family: reach.family,
                    withdrawn: reach.nlri,
                };
            }
        }
    }
    // Flow rules (RFC 8955): the announced ones join the withdrawn ones.
    let mut flow_unreach = a.flow_unreach;
    if let Some(reach) = a.flow_reach.filter(|r| !r.nlri.is_empty()) {
        match &mut flow_unreach {
            Some(un) if un.family == reach.family => un.withdrawn.extend(reach.nlri),
            // Another flow family in MP_UNREACH: one attribute each, so the
            // announced family takes the slot only when the other is empty.
            Some(un) if un.withdrawn.is_empty() => {
                *un = FlowUnreach {
                    family: reach.family,
                    withdrawn: reach.nlri,
                }
            }
            Some(_) => {}
            None => {
                flow_unreach = Some(FlowUnreach {
                    family: reach.family,
                    withdrawn: reach.nlri,
                })
            }
        }
    }
    // An empty MP_UNREACH_NLRI beside withdrawn flow rules says nothing more (it
    // is no End-of-RIB in an UPDATE that withdraws): one MP_UNREACH_NLRI remains.
    if flow_unreach.is_some() && unreach.as_ref().is_some_and(|m| m.withdrawn.is_empty()) {
        unreach = None;
    }
    u.attributes = PathAttributes {
        mp_unreach: unreach,
        flow_unreach,
        unnegotiated: a.unnegotiated,
        ..PathAttributes::default()
    };
    u.treat_as_withdraw = Some(reason);
}

fn ipv4_only(prefixes: &[Prefix]) -> Result<(), EncodeError> {
    match prefixes.iter().find(|p| p.family() != Family::IPV4_UNICAST) {
        Some(p) => Err(EncodeError::FamilyMismatch {
            prefix: *p,
            family: Family::IPV4_UNICAST,
        }),
        None => Ok(()),
    }
}

/// Appends the UPDATE body. `treat_as_withdraw` is not encoded (it is a decoder
/// verdict, not a wire field).
pub(crate) fn encode(
    u: &Update,
    opts: &CodecOptions,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    ipv4_only(&u.withdrawn)?;
    ipv4_only(&u.nlri)?;
    let wstart = out.len();
    put_u16(out, 0);
    for p in &u.withdrawn {
        put_prefix(out, p);
    }
    let wlen = out.len() - wstart - 2;
    let astart = out.len();
    put_u16(out, 0);
    attr_encode::put_all(out, &u.attributes, opts)?;
    let alen = out.len() - astart - 2;
    for p in &u.nlri {
        put_prefix(out, p);
    }
    let too_long = |what, len| EncodeError::FieldTooLong {
        what,
        len,
        max: 65535,
    };
    patch_u16(
        out,
        wstart,
        u16::try_from(wlen).map_err(|_| too_long("withdrawn routes", wlen))?,
    );
    patch_u16(
        out,
        astart,
        u16::try_from(alen).map_err(|_| too_long("path attributes", alen))?,
    );
    Ok(())
}
