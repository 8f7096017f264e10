//! Text forms of BGP values as the config writes them: communities, origins,
//! families, prefixes, aggregators. Each parser returns a message saying what was
//! wrong and what was expected, ready to be placed after `FILE:LINE:COL: `.
//!
//! The codec branch is to provide `FromStr`/`Display` for these types; until it is
//! merged these functions are the config's own implementation of the same forms.

use std::net::{IpAddr, Ipv4Addr};

use crate::bgp::{Aggregator, Community, ExtCommunity, Family, LargeCommunity, Origin, Prefix};

/// Well-known community names (RFC 1997, 7611, 7999, 8326, 9494...), as ExaBGP spells them.
pub(crate) const COMMUNITY_NAMES: &[(&str, Community)] = &[
    ("no-export", Community::NO_EXPORT),
    ("no-advertise", Community::NO_ADVERTISE),
    ("no-export-subconfed", Community::NO_EXPORT_SUBCONFED),
    ("no-peer", Community::NO_PEER),
    ("blackhole", Community::BLACKHOLE),
    ("graceful-shutdown", Community::GRACEFUL_SHUTDOWN),
    ("accept-own", Community::ACCEPT_OWN),
    ("llgr-stale", Community::LLGR_STALE),
    ("no-llgr", Community::NO_LLGR),
];

/// "65000:1", a well-known name, or the 32-bit value as one number.
pub(crate) fn parse_community(s: &str) -> Result<Community, String> {
    let err = || {
        format!(
            "invalid community \"{s}\", expected ASN:VALUE with both 0-65535 (e.g. \"65000:1\") or one of: {}",
            COMMUNITY_NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        )
    };
    let lower = s.to_ascii_lowercase();
    if let Some((_, c)) = COMMUNITY_NAMES.iter().find(|(n, _)| *n == lower) {
        return Ok(*c);
    }
    if lower == "nopeer" {
        return Ok(Community::NO_PEER);
    }
    match s.split_once(':') {
        Some((a, v)) => {
            let a: u16 = a.parse().map_err(|_| err())?;
            let v: u16 = v.parse().map_err(|_| err())?;
            Ok(Community::new(a, v))
        }
        None => s.parse::<u32>().map(Community).map_err(|_| err()),
    }
}

pub(crate) fn format_community(c: Community) -> String {
    match COMMUNITY_NAMES.iter().find(|(_, k)| *k == c) {
        Some((n, _)) => (*n).to_string(),
        None => format!("{}:{}", c.0 >> 16, c.0 & 0xffff),
    }
}

/// "65000:1:2".
pub(crate) fn parse_large_community(s: &str) -> Result<LargeCommunity, String> {
    let err = || {
        format!(
            "invalid large community \"{s}\", expected GLOBAL:LOCAL1:LOCAL2 with each 0-4294967295 (e.g. \"65000:1:2\")"
        )
    };
    let parts: Vec<&str> = s.split(':').collect();
    let [g, l1, l2] = parts.as_slice() else {
        return Err(err());
    };
    Ok(LargeCommunity {
        global: g.parse().map_err(|_| err())?,
        local1: l1.parse().map_err(|_| err())?,
        local2: l2.parse().map_err(|_| err())?,
    })
}

pub(crate) fn format_large_community(c: &LargeCommunity) -> String {
    format!("{}:{}:{}", c.global, c.local1, c.local2)
}

/// "target:65000:1", "origin:65000:1", "target:192.0.2.1:5", "target:4200000000:1",
/// or the raw 8 octets as "0x" and 16 hex digits.
pub(crate) fn parse_ext_community(s: &str) -> Result<ExtCommunity, String> {
    let err = || {
        format!(
            "invalid extended community \"{s}\", expected target:ASN:VALUE, origin:ASN:VALUE, \
             target:IPV4:VALUE, origin:IPV4:VALUE (e.g. \"target:65000:1\") or 0x and 16 hex digits"
        )
    };
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.len() != 16 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(err());
        }
        let n = u64::from_str_radix(hex, 16).map_err(|_| err())?;
        return Ok(ExtCommunity(n.to_be_bytes()));
    }
    let mut parts = s.splitn(3, ':');
    let (Some(kind), Some(admin), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(err());
    };
    let subtype: u8 = match kind.to_ascii_lowercase().as_str() {
        "target" => 0x02,
        "origin" => 0x03,
        _ => return Err(err()),
    };
    let mut b = [0u8; 8];
    b[1] = subtype;
    if let Ok(ip) = admin.parse::<Ipv4Addr>() {
        let v: u16 = value.parse().map_err(|_| err())?;
        b[0] = 0x01;
        b[2..6].copy_from_slice(&ip.octets());
        b[6..8].copy_from_slice(&v.to_be_bytes());
        return Ok(ExtCommunity(b));
    }
    let asn: u32 = admin.parse().map_err(|_| err())?;
    if let Ok(asn16) = u16::try_from(asn) {
        let v: u32 = value.parse().map_err(|_| err())?;
        b[0] = 0x00;
        b[2..4].copy_from_slice(&asn16.to_be_bytes());
        b[4..8].copy_from_slice(&v.to_be_bytes());
    } else {
        let v: u16 = value.parse().map_err(|_| err())?;
        b[0] = 0x02;
        b[2..6].copy_from_slice(&asn.to_be_bytes());
        b[6..8].copy_from_slice(&v.to_be_bytes());
    }
    Ok(ExtCommunity(b))
}

pub(crate) fn format_ext_community(c: &ExtCommunity) -> String {
    let b = c.0;
    let kind = match b[1] {
        0x02 => "target",
        0x03 => "origin",
        _ => "",
    };
    let be16 = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    match (b[0], kind) {
        (_, "") => format!("0x{:016x}", u64::from_be_bytes(b)),
        (0x00, k) => format!("{k}:{}:{}", be16(2), be32(4)),
        (0x01, k) => format!("{k}:{}:{}", Ipv4Addr::from(be32(2)), be16(6)),
        // Only a 4-octet AS that does not fit 2 octets re-parses to type 0x02.
        (0x02, k) if be32(2) > 0xffff => format!("{k}:{}:{}", be32(2), be16(6)),
        _ => format!("0x{:016x}", u64::from_be_bytes(b)),
    }
}

pub(crate) fn parse_origin(s: &str) -> Result<Origin, String> {
    match s.to_ascii_lowercase().as_str() {
        "igp" => Ok(Origin::Igp),
        "egp" => Ok(Origin::Egp),
        "incomplete" => Ok(Origin::Incomplete),
        _ => Err(format!(
            "invalid origin \"{s}\", expected \"igp\", \"egp\" or \"incomplete\""
        )),
    }
}

pub(crate) fn format_origin(o: Origin) -> &'static str {
    match o {
        Origin::Igp => "igp",
        Origin::Egp => "egp",
        Origin::Incomplete => "incomplete",
    }
}

pub(crate) fn parse_family(s: &str) -> Result<Family, String> {
    let words: Vec<String> = s.split_whitespace().map(str::to_ascii_lowercase).collect();
    match words
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["ipv4", "unicast"] => Ok(Family::IPV4_UNICAST),
        ["ipv6", "unicast"] => Ok(Family::IPV6_UNICAST),
        _ => Err(format!(
            "unsupported family \"{s}\", expected \"ipv4 unicast\" or \"ipv6 unicast\""
        )),
    }
}

pub(crate) fn format_family(f: Family) -> String {
    use crate::bgp::{Afi, Safi};
    let afi = match f.afi {
        Afi::Ipv4 => "ipv4".to_string(),
        Afi::Ipv6 => "ipv6".to_string(),
        Afi::Other(n) => format!("afi-{n}"),
    };
    let safi = match f.safi {
        Safi::Unicast => "unicast".to_string(),
        Safi::Other(n) => format!("safi-{n}"),
    };
    format!("{afi} {safi}")
}

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

/// "65000:192.0.2.1": the aggregator's AS and address.
pub(crate) fn parse_aggregator(s: &str) -> Result<Aggregator, String> {
    let err =
        || format!("invalid aggregator \"{s}\", expected ASN:IPV4 such as \"65000:192.0.2.1\"");
    let (asn, ip) = s.split_once(':').ok_or_else(err)?;
    let asn: u32 = asn.parse().map_err(|_| err())?;
    let address: Ipv4Addr = ip.parse().map_err(|_| err())?;
    Ok(Aggregator { asn, address })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ext_community_round_trip() {
        for s in [
            "target:65000:1",
            "origin:65000:4294967295",
            "target:192.0.2.1:5",
            "target:4200000000:7",
            "0x0105030405060708",
            "0x4302030405060708",
        ] {
            let c = parse_ext_community(s).unwrap();
            assert_eq!(format_ext_community(&c), s);
        }
        assert_eq!(
            parse_ext_community("target:65000:1").unwrap().0,
            [0, 2, 0xfd, 0xe8, 0, 0, 0, 1]
        );
        assert_eq!(
            parse_ext_community("target:192.0.2.1:5").unwrap().0,
            [1, 2, 192, 0, 2, 1, 0, 5]
        );
        assert!(parse_ext_community("target:4200000000:70000").is_err());
        assert!(parse_ext_community("route:1:1").is_err());
    }

    #[test]
    fn communities() {
        assert_eq!(
            parse_community("65000:1").unwrap(),
            Community::new(65000, 1)
        );
        assert_eq!(parse_community("NO-EXPORT").unwrap(), Community::NO_EXPORT);
        assert_eq!(parse_community("nopeer").unwrap(), Community::NO_PEER);
        assert!(parse_community("65536:1").is_err());
        assert_eq!(format_community(Community::BLACKHOLE), "blackhole");
        assert_eq!(format_community(Community::new(1, 2)), "1:2");
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
