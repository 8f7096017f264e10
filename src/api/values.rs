//! Text forms of attribute values in ExaBGP's syntax: communities, extended and
//! large communities, origin, aggregator. Parsing for the command language and
//! printing for the JSON/text encoders, so both speak the same words.

use std::net::Ipv4Addr;

use crate::bgp::{Aggregator, Community, ExtCommunity, LargeCommunity, Origin};

/// Well-known communities (RFC 1997, 7999, 8326, 7611, ...), by ExaBGP's names.
const WELL_KNOWN: [(&str, Community); 9] = [
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

/// "65000:1", a well-known name, or a 32-bit number.
pub fn parse_community(s: &str) -> Result<Community, String> {
    let lower = s.to_ascii_lowercase();
    if let Some((_, c)) = WELL_KNOWN.iter().find(|(n, _)| *n == lower) {
        return Ok(*c);
    }
    let bad = || {
        format!("invalid community '{s}': expected ASN:VALUE (each 0-65535), a 32-bit number or a name such as no-export")
    };
    match s.split_once(':') {
        Some((a, v)) => {
            let a: u16 = a.parse().map_err(|_| bad())?;
            let v: u16 = v.parse().map_err(|_| bad())?;
            Ok(Community::new(a, v))
        }
        None => s.parse::<u32>().map(Community).map_err(|_| bad()),
    }
}

/// ExaBGP's text for a community: a well-known name or "ASN:VALUE".
pub fn community_text(c: Community) -> String {
    match WELL_KNOWN.iter().find(|(_, w)| *w == c) {
        Some((n, _)) => (*n).to_string(),
        None => format!("{}:{}", c.0 >> 16, c.0 & 0xFFFF),
    }
}

/// "65000:1:2".
pub fn parse_large_community(s: &str) -> Result<LargeCommunity, String> {
    let bad = || {
        format!("invalid large-community '{s}': expected GLOBAL:LOCAL1:LOCAL2, each 0-4294967295")
    };
    let mut it = s.split(':');
    let mut next = || {
        it.next()
            .ok_or_else(bad)
            .and_then(|p| p.parse::<u32>().map_err(|_| bad()))
    };
    let lc = LargeCommunity {
        global: next()?,
        local1: next()?,
        local2: next()?,
    };
    if s.split(':').count() != 3 {
        return Err(bad());
    }
    Ok(lc)
}

pub fn large_community_text(c: &LargeCommunity) -> String {
    format!("{}:{}:{}", c.global, c.local1, c.local2)
}

/// "target:65000:1", "origin:192.0.2.1:5", "target:4200000000:7", or 16 hex digits
/// "0x0002FDE800000001".
pub fn parse_ext_community(s: &str) -> Result<ExtCommunity, String> {
    let bad = || {
        format!(
            "invalid extended-community '{s}': expected target:ASN:N, target:IPV4:N, origin:ASN:N, origin:IPV4:N or 0x followed by 16 hex digits"
        )
    };
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        if hex.len() != 16 {
            return Err(bad());
        }
        let v = u64::from_str_radix(hex, 16).map_err(|_| bad())?;
        return Ok(ExtCommunity(v.to_be_bytes()));
    }
    let mut parts = s.splitn(3, ':');
    let kind = parts.next().unwrap_or_default().to_ascii_lowercase();
    let admin = parts.next().ok_or_else(bad)?;
    let local = parts.next().ok_or_else(bad)?;
    let subtype = match kind.as_str() {
        "target" => 0x02,
        "origin" => 0x03,
        _ => return Err(bad()),
    };
    let mut b = [0u8; 8];
    b[1] = subtype;
    if let Ok(ip) = admin.parse::<Ipv4Addr>() {
        let n: u16 = local.parse().map_err(|_| bad())?;
        b[0] = 0x01;
        b[2..6].copy_from_slice(&ip.octets());
        b[6..8].copy_from_slice(&n.to_be_bytes());
    } else {
        let asn: u32 = admin.parse().map_err(|_| bad())?;
        if let Ok(asn16) = u16::try_from(asn) {
            let n: u32 = local.parse().map_err(|_| bad())?;
            b[0] = 0x00;
            b[2..4].copy_from_slice(&asn16.to_be_bytes());
            b[4..8].copy_from_slice(&n.to_be_bytes());
        } else {
            let n: u16 = local.parse().map_err(|_| bad())?;
            b[0] = 0x02;
            b[2..6].copy_from_slice(&asn.to_be_bytes());
            b[6..8].copy_from_slice(&n.to_be_bytes());
        }
    }
    Ok(ExtCommunity(b))
}

/// ExaBGP's text for the route-target / route-origin communities; None for kinds we
/// do not name (ExaBGP then prints an empty string in JSON and hex in text).
pub fn ext_community_name(c: &ExtCommunity) -> Option<String> {
    let b = c.0;
    let kind = match b[1] {
        0x02 => "target",
        0x03 => "origin",
        _ => return None,
    };
    // The transitive bit (0x40) does not change the meaning of the value.
    match b[0] & !0x40 {
        0x00 => Some(format!(
            "{kind}:{}:{}",
            u16::from_be_bytes([b[2], b[3]]),
            u32::from_be_bytes([b[4], b[5], b[6], b[7]])
        )),
        0x01 => Some(format!(
            "{kind}:{}:{}",
            Ipv4Addr::new(b[2], b[3], b[4], b[5]),
            u16::from_be_bytes([b[6], b[7]])
        )),
        0x02 => Some(format!(
            "{kind}:{}:{}",
            u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
            u16::from_be_bytes([b[6], b[7]])
        )),
        _ => None,
    }
}

/// The 64-bit value of an extended community (ExaBGP's JSON "value").
pub fn ext_community_value(c: &ExtCommunity) -> u64 {
    u64::from_be_bytes(c.0)
}

/// Text form: the name, else 0x + 16 hex digits.
pub fn ext_community_text(c: &ExtCommunity) -> String {
    ext_community_name(c).unwrap_or_else(|| format!("0x{:016X}", ext_community_value(c)))
}

pub fn parse_origin(s: &str) -> Result<Origin, String> {
    match s.to_ascii_lowercase().as_str() {
        "igp" => Ok(Origin::Igp),
        "egp" => Ok(Origin::Egp),
        "incomplete" => Ok(Origin::Incomplete),
        _ => Err(format!(
            "invalid origin '{s}': expected igp, egp or incomplete"
        )),
    }
}

pub fn origin_text(o: Origin) -> &'static str {
    match o {
        Origin::Igp => "igp",
        Origin::Egp => "egp",
        Origin::Incomplete => "incomplete",
    }
}

/// "65000:192.0.2.1".
pub fn parse_aggregator(s: &str) -> Result<Aggregator, String> {
    let bad = || format!("invalid aggregator '{s}': expected ASN:IPV4, e.g. 65000:192.0.2.1");
    let (a, ip) = s.split_once(':').ok_or_else(bad)?;
    Ok(Aggregator {
        asn: a.parse().map_err(|_| bad())?,
        address: ip.parse().map_err(|_| bad())?,
    })
}

pub fn aggregator_text(a: &Aggregator) -> String {
    format!("{}:{}", a.asn, a.address)
}

/// "ipv4 unicast", "ipv6 unicast", else the numbers.
pub fn family_text(f: crate::bgp::Family) -> String {
    format!("{} {}", afi_text(f.afi), safi_text(f.safi))
}

pub fn afi_text(a: crate::bgp::Afi) -> String {
    match a {
        crate::bgp::Afi::Ipv4 => "ipv4".into(),
        crate::bgp::Afi::Ipv6 => "ipv6".into(),
        crate::bgp::Afi::Other(n) => n.to_string(),
    }
}

pub fn safi_text(s: crate::bgp::Safi) -> String {
    match s {
        crate::bgp::Safi::Unicast => "unicast".into(),
        crate::bgp::Safi::Other(n) => n.to_string(),
    }
}

/// Bytes as upper-case hex, as ExaBGP prints NOTIFICATION data.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
