//! Text forms of BGP values as the config writes them: communities, origins,
//! families, prefixes, aggregators. Each parser returns a message saying what was
//! wrong and what was expected, ready to be placed after `FILE:LINE:COL: `.
//!
//! Communities, aggregators, origins and families use the codec's `FromStr` (one
//! grammar for the config, the API and the events); this module words their errors
//! for the config.

use std::net::{IpAddr, Ipv4Addr};

use crate::bgp::{
    Aggregator, Community, ExtCommunity, Family, LargeCommunity, Origin, ParseTextError, Prefix,
};

/// What an AS number is, for messages.
pub(crate) const AS_RANGE: &str = "an AS number from 1 to 4294967295";

/// The codec's parse error, in the config's words: `invalid WHAT "INPUT", expected ...`.
fn text_error(e: ParseTextError) -> String {
    format!(
        "invalid {} \"{}\", expected {}",
        e.what, e.input, e.expected
    )
}

/// "65000:1", a well-known name, or the 32-bit value as one number.
pub(crate) fn parse_community(s: &str) -> Result<Community, String> {
    s.parse().map_err(text_error)
}

/// "65000:1:2".
pub(crate) fn parse_large_community(s: &str) -> Result<LargeCommunity, String> {
    s.parse().map_err(text_error)
}

/// "target:65000:1", "origin:65000:1", "target:192.0.2.1:5", "target:4200000000:1",
/// or the raw 8 octets as "0x" and 16 hex digits.
pub(crate) fn parse_ext_community(s: &str) -> Result<ExtCommunity, String> {
    s.parse().map_err(text_error)
}

pub(crate) fn parse_origin(s: &str) -> Result<Origin, String> {
    s.parse().map_err(text_error)
}

/// The families a neighbor may negotiate here: IPv4 and IPv6 unicast and flow.
pub(crate) fn parse_family(s: &str) -> Result<Family, String> {
    match s.parse::<Family>() {
        Ok(f) if FAMILIES.contains(&f) => Ok(f),
        _ => Err(format!(
            "unsupported family \"{s}\", expected {FAMILY_NAMES}"
        )),
    }
}

const FAMILIES: [Family; 6] = [
    Family::IPV4_UNICAST,
    Family::IPV6_UNICAST,
    Family::IPV4_FLOW,
    Family::IPV6_FLOW,
    Family::IPV4_FLOW_VPN,
    Family::IPV6_FLOW_VPN,
];

/// The families `parse_family` takes, for messages.
pub(crate) const FAMILY_NAMES: &str =
    "\"ipv4 unicast\", \"ipv6 unicast\", \"ipv4 flow\", \"ipv6 flow\", \"ipv4 flow-vpn\" or \"ipv6 flow-vpn\"";

pub(crate) fn family_of(a: IpAddr) -> Family {
    match a {
        IpAddr::V4(_) => Family::IPV4_UNICAST,
        IpAddr::V6(_) => Family::IPV6_UNICAST,
    }
}

pub(crate) fn ip_version(a: IpAddr) -> &'static str {
    match a {
        IpAddr::V4(_) => "IPv4",
        IpAddr::V6(_) => "IPv6",
    }
}

/// An IP address, with the usual message.
pub(crate) fn parse_ip(key: &str, s: &str) -> Result<IpAddr, String> {
    s.parse().map_err(|_| {
        format!("invalid IP address \"{s}\" for {key}, expected an IPv4 or IPv6 address such as 192.0.2.1 or 2001:db8::1")
    })
}

/// An IPv4 address (router-id, originator-id, cluster-list), with the usual message.
pub(crate) fn parse_ipv4(key: &str, s: &str) -> Result<Ipv4Addr, String> {
    s.parse().map_err(|_| {
        format!(
            "invalid IPv4 address \"{s}\" for {key}, expected an IPv4 address such as 192.0.2.1"
        )
    })
}

/// "ADDRESS/LENGTH" (or a bare address: a host route) with no host bits set.
pub(crate) fn parse_prefix(s: &str) -> Result<Prefix, String> {
    let (a, l) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let Ok(addr) = a.parse::<IpAddr>() else {
        return Err(format!(
            "invalid prefix \"{s}\", expected ADDRESS/LENGTH such as 203.0.113.0/24 or 2001:db8::/32"
        ));
    };
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let len = match l {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max => n,
            _ => {
                return Err(format!(
                "invalid prefix \"{s}\": length \"{l}\" is not valid for {}, expected 0 to {max}",
                ip_version(addr)
            ))
            }
        },
    };
    match Prefix::new(addr, len) {
        Some(p) if p.addr() == addr => Ok(p),
        Some(p) => Err(format!(
            "invalid prefix \"{s}\": host bits are set, expected \"{p}\""
        )),
        None => Err(format!("invalid prefix \"{s}\", expected ADDRESS/LENGTH")),
    }
}

/// "65000:192.0.2.1": the aggregator's AS and address (the codec's `FromStr`, as
/// the API). AS 0 is refused, as by the API: RFC 7607 forbids originating it.
pub(crate) fn parse_aggregator(s: &str) -> Result<Aggregator, String> {
    let a: Aggregator = s.parse().map_err(text_error)?;
    if a.asn == 0 {
        return Err(format!("aggregator AS 0 is reserved, expected {AS_RANGE}"));
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communities() {
        assert_eq!(
            parse_community("65000:1").unwrap(),
            Community::new(65000, 1)
        );
        assert_eq!(parse_community("NO-EXPORT").unwrap(), Community::NO_EXPORT);
        assert!(parse_community("65536:1").is_err());
        assert_eq!(
            parse_family("ipv4 mpls-vpn").unwrap_err(),
            "unsupported family \"ipv4 mpls-vpn\", expected \"ipv4 unicast\", \"ipv6 unicast\", \"ipv4 flow\", \"ipv6 flow\", \"ipv4 flow-vpn\" or \"ipv6 flow-vpn\""
        );
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            parse_prefix("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(parse_prefix("10.0.0.1").unwrap().to_string(), "10.0.0.1/32");
        assert_eq!(
            parse_prefix("10.0.0.1/8").unwrap_err(),
            "invalid prefix \"10.0.0.1/8\": host bits are set, expected \"10.0.0.0/8\""
        );
        assert!(parse_prefix("10.0.0.0/33").is_err());
        assert!(parse_prefix("2001:db8::/129").is_err());
    }
}
