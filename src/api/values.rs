//! Text forms of attribute values for the command language and the encoders.
//! The words themselves (communities, origin, family) are the codec's `FromStr` /
//! `Display` (bgp/text.rs); this adds what only the API needs: ExaBGP's JSON
//! pieces, the aggregator form, and error text for the `error:` answers.

use crate::bgp::{Aggregator, Community, ExtCommunity, Family, LargeCommunity, Origin};

pub fn parse_community(s: &str) -> Result<Community, String> {
    s.parse()
        .map_err(|e: crate::bgp::ParseTextError| e.to_string())
}

pub fn parse_large_community(s: &str) -> Result<LargeCommunity, String> {
    s.parse()
        .map_err(|e: crate::bgp::ParseTextError| e.to_string())
}

pub fn parse_ext_community(s: &str) -> Result<ExtCommunity, String> {
    s.parse()
        .map_err(|e: crate::bgp::ParseTextError| e.to_string())
}

pub fn parse_origin(s: &str) -> Result<Origin, String> {
    s.parse()
        .map_err(|e: crate::bgp::ParseTextError| e.to_string())
}

/// ExaBGP's JSON "string" of an extended community: its name (route target /
/// origin), or "" for kinds without one, as ExaBGP prints.
pub fn ext_community_name(c: &ExtCommunity) -> Option<String> {
    // FlowSpec traffic actions (RFC 8955 §7) in ExaBGP's words.
    if let Some(a) = crate::bgp::FlowAction::from_ext_community(c) {
        return Some(a.exabgp_string());
    }
    let s = c.to_string();
    (!s.starts_with("0x")).then_some(s)
}

/// The 64-bit value of an extended community (ExaBGP's JSON "value").
pub fn ext_community_value(c: &ExtCommunity) -> u64 {
    u64::from_be_bytes(c.0)
}

/// "65000:192.0.2.1" (the codec's `FromStr`, as the config). AS 0 is refused, as
/// by the config: RFC 7607 forbids originating it.
pub fn parse_aggregator(s: &str) -> Result<Aggregator, String> {
    let a: Aggregator = s
        .parse()
        .map_err(|e: crate::bgp::ParseTextError| e.to_string())?;
    if a.asn == 0 {
        return Err(format!(
            "invalid aggregator '{s}': AS 0 is reserved (RFC 7607), expected an AS number from 1 to 4294967295"
        ));
    }
    Ok(a)
}

pub fn aggregator_text(a: &Aggregator) -> String {
    a.to_string()
}

/// "ipv4 unicast".
pub fn family_text(f: Family) -> String {
    f.to_string()
}

/// Bytes as upper-case hex, as ExaBGP prints NOTIFICATION data.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
