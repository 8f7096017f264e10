//! Text forms of the small BGP values (communities, aggregator, origin, family): what the config
//! file, the text API and the JSON events write. Every `Display` output parses back
//! with `FromStr` to the same value.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use super::types::{
    Afi, Aggregator, Community, ExtCommunity, Family, LargeCommunity, Origin, Safi,
};

/// A value that did not parse; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} '{input}': expected {expected}")]
pub struct ParseTextError {
    /// What was being parsed ("community", "family", ...).
    pub what: &'static str,
    /// The text as given.
    pub input: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

fn err(what: &'static str, input: &str, expected: &'static str) -> ParseTextError {
    ParseTextError {
        what,
        input: input.to_string(),
        expected,
    }
}

/// Parses a decimal number or a `0x` hexadecimal one.
fn number<T: TryFrom<u64>>(s: &str) -> Option<T> {
    let v = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()?
    } else {
        if s.starts_with('+') {
            return None;
        }
        s.parse::<u64>().ok()?
    };
    T::try_from(v).ok()
}

// ---------------------------------------------------------------- Community

const COMMUNITY_NAMES: [(&str, Community); 9] = [
    ("graceful-shutdown", Community::GRACEFUL_SHUTDOWN),
    ("accept-own", Community::ACCEPT_OWN),
    ("llgr-stale", Community::LLGR_STALE),
    ("no-llgr", Community::NO_LLGR),
    ("blackhole", Community::BLACKHOLE),
    ("no-export", Community::NO_EXPORT),
    ("no-advertise", Community::NO_ADVERTISE),
    ("no-export-subconfed", Community::NO_EXPORT_SUBCONFED),
    ("no-peer", Community::NO_PEER),
];

const COMMUNITY_EXPECTED: &str = "ASN:VALUE with two numbers 0-65535 (e.g. 65000:1), a 32-bit \
number, or one of no-export, no-advertise, no-export-subconfed, no-peer, blackhole, \
graceful-shutdown, accept-own, llgr-stale, no-llgr";

impl Community {
    /// The well-known name (RFC 1997, 3765, 7611, 7999, 8326, LLGR), if it has one.
    pub fn name(self) -> Option<&'static str> {
        COMMUNITY_NAMES
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(n, _)| *n)
    }
}

impl FromStr for Community {
    type Err = ParseTextError;
    /// "65000:1", "no-export" (names are case-insensitive, `_` may stand for `-`),
    /// or the 32-bit value in decimal or 0x-hex.
    fn from_str(s: &str) -> Result<Community, ParseTextError> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase().replace('_', "-");
        if let Some((_, c)) = COMMUNITY_NAMES.iter().find(|(n, _)| *n == lower) {
            return Ok(*c);
        }
        let e = || err("community", s, COMMUNITY_EXPECTED);
        match t.split_once(':') {
            Some((a, v)) => Ok(Community::new(
                number(a).ok_or_else(e)?,
                number(v).ok_or_else(e)?,
            )),
            None => number(t).map(Community).ok_or_else(e),
        }
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}:{}", self.0 >> 16, self.0 & 0xFFFF),
        }
    }
}

// ---------------------------------------------------------------- LargeCommunity

impl FromStr for LargeCommunity {
    type Err = ParseTextError;
    /// "GLOBAL:LOCAL1:LOCAL2", three numbers 0-4294967295 (RFC 8092).
    fn from_str(s: &str) -> Result<LargeCommunity, ParseTextError> {
        let e = || {
            err(
                "large community",
                s,
                "GLOBAL:LOCAL1:LOCAL2 with three numbers 0-4294967295 (e.g. 65000:1:2)",
            )
        };
        let mut it = s.trim().split(':');
        let mut next = || it.next().and_then(number::<u32>).ok_or_else(e);
        let c = LargeCommunity {
            global: next()?,
            local1: next()?,
            local2: next()?,
        };
        if it.next().is_some() {
            return Err(e());
        }
        Ok(c)
    }
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

// ---------------------------------------------------------------- ExtCommunity

/// Extended community types (RFC 4360, RFC 5668) and subtypes we name.
const EXT_TWO_OCTET_AS: u8 = 0x00;
const EXT_IPV4: u8 = 0x01;
const EXT_FOUR_OCTET_AS: u8 = 0x02;
const EXT_SUB_TARGET: u8 = 0x02;
const EXT_SUB_ORIGIN: u8 = 0x03;

const EXT_EXPECTED: &str = "target:ASN:N, target:IP:N, origin:ASN:N or origin:IP:N \
(e.g. target:65000:1, target:192.0.2.1:5, target:4200000000:1; an ASN ending in L \
forces the 4-octet form), or 0x followed by 16 hex digits";

impl ExtCommunity {
    /// Route target (RFC 4360 §4): two-octet AS form when `asn` fits 16 bits,
    /// else the four-octet AS form of RFC 5668 (then `value` must fit 16 bits).
    pub fn route_target(asn: u32, value: u32) -> Option<ExtCommunity> {
        Self::as_specific(EXT_SUB_TARGET, asn, value, false)
    }

    /// Route origin / site of origin (RFC 4360 §5), forms as for `route_target`.
    pub fn route_origin(asn: u32, value: u32) -> Option<ExtCommunity> {
        Self::as_specific(EXT_SUB_ORIGIN, asn, value, false)
    }

    fn as_specific(sub: u8, asn: u32, value: u32, force4: bool) -> Option<ExtCommunity> {
        let mut b = [0u8; 8];
        b[1] = sub;
        if asn <= 0xFFFF && !force4 {
            b[0] = EXT_TWO_OCTET_AS;
            b[2..4].copy_from_slice(&(asn as u16).to_be_bytes());
            b[4..8].copy_from_slice(&value.to_be_bytes());
        } else {
            b[0] = EXT_FOUR_OCTET_AS;
            b[2..6].copy_from_slice(&asn.to_be_bytes());
            b[6..8].copy_from_slice(&u16::try_from(value).ok()?.to_be_bytes());
        }
        Some(ExtCommunity(b))
    }

    fn ipv4_specific(sub: u8, ip: Ipv4Addr, value: u16) -> ExtCommunity {
        let mut b = [0u8; 8];
        b[0] = EXT_IPV4;
        b[1] = sub;
        b[2..6].copy_from_slice(&ip.octets());
        b[6..8].copy_from_slice(&value.to_be_bytes());
        ExtCommunity(b)
    }
}

impl FromStr for ExtCommunity {
    type Err = ParseTextError;
    fn from_str(s: &str) -> Result<ExtCommunity, ParseTextError> {
        let e = || err("extended community", s, EXT_EXPECTED);
        let t = s.trim();
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            if hex.len() != 16 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(e());
            }
            return u64::from_str_radix(hex, 16)
                .map(|v| ExtCommunity(v.to_be_bytes()))
                .map_err(|_| e());
        }
        let mut parts = t.splitn(3, ':');
        let (kind, admin, value) = match (parts.next(), parts.next(), parts.next()) {
            (Some(k), Some(a), Some(v)) => (k, a, v),
            _ => return Err(e()),
        };
        let sub = match kind.to_ascii_lowercase().as_str() {
            "target" | "rt" => EXT_SUB_TARGET,
            "origin" | "soo" => EXT_SUB_ORIGIN,
            _ => return Err(e()),
        };
        if admin.contains('.') {
            let ip: Ipv4Addr = admin.parse().map_err(|_| e())?;
            return Ok(ExtCommunity::ipv4_specific(
                sub,
                ip,
                number(value).ok_or_else(e)?,
            ));
        }
        let (admin, force4) = match admin.strip_suffix(['L', 'l']) {
            Some(a) => (a, true),
            None => (admin, false),
        };
        let asn: u32 = number(admin).ok_or_else(e)?;
        let value: u32 = number(value).ok_or_else(e)?;
        ExtCommunity::as_specific(sub, asn, value, force4).ok_or_else(e)
    }
}

impl fmt::Display for ExtCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        let kind = match b[1] {
            EXT_SUB_TARGET => "target",
            EXT_SUB_ORIGIN => "origin",
            _ => "",
        };
        match b[0] {
            EXT_TWO_OCTET_AS if !kind.is_empty() => {
                let asn = u16::from_be_bytes([b[2], b[3]]);
                let v = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
                write!(f, "{kind}:{asn}:{v}")
            }
            EXT_IPV4 if !kind.is_empty() => {
                let ip = Ipv4Addr::new(b[2], b[3], b[4], b[5]);
                write!(f, "{kind}:{ip}:{}", u16::from_be_bytes([b[6], b[7]]))
            }
            EXT_FOUR_OCTET_AS if !kind.is_empty() => {
                let asn = u32::from_be_bytes([b[2], b[3], b[4], b[5]]);
                let v = u16::from_be_bytes([b[6], b[7]]);
                // A small ASN in the 4-octet form keeps its form through the "L" mark.
                let mark = if asn <= 0xFFFF { "L" } else { "" };
                write!(f, "{kind}:{asn}{mark}:{v}")
            }
            _ => write!(f, "0x{:016x}", u64::from_be_bytes(*b)),
        }
    }
}

// ---------------------------------------------------------------- Origin

impl FromStr for Origin {
    type Err = ParseTextError;
    fn from_str(s: &str) -> Result<Origin, ParseTextError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "igp" => Ok(Origin::Igp),
            "egp" => Ok(Origin::Egp),
            "incomplete" => Ok(Origin::Incomplete),
            _ => Err(err("origin", s, "igp, egp or incomplete")),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Igp => "igp",
            Origin::Egp => "egp",
            Origin::Incomplete => "incomplete",
        })
    }
}

// ---------------------------------------------------------------- Aggregator

impl FromStr for Aggregator {
    type Err = ParseTextError;
    /// "ASN:IPV4" (ExaBGP's form), the AS in decimal 0-4294967295: every AGGREGATOR
    /// a peer can send prints and parses back. AS 0 parses; refusing to originate it
    /// (RFC 7607) is the config's and the API's rule, where routes are made.
    fn from_str(s: &str) -> Result<Aggregator, ParseTextError> {
        let e = || err("aggregator", s, "ASN:IPV4 such as \"65000:192.0.2.1\"");
        let (asn, address) = s.split_once(':').ok_or_else(e)?;
        if asn.is_empty() || !asn.bytes().all(|b| b.is_ascii_digit()) {
            return Err(e());
        }
        Ok(Aggregator {
            asn: asn.parse().map_err(|_| e())?,
            address: address.parse().map_err(|_| e())?,
        })
    }
}

impl fmt::Display for Aggregator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.asn, self.address)
    }
}

// ---------------------------------------------------------------- Family

const AFI_NAMES: [(&str, u16); 3] = [("ipv4", 1), ("ipv6", 2), ("l2vpn", 25)];
const SAFI_NAMES: [(&str, u8); 7] = [
    ("unicast", 1),
    ("multicast", 2),
    ("nlri-mpls", 4),
    ("evpn", 70),
    ("mpls-vpn", 128),
    ("flow", 133),
    ("flow-vpn", 134),
];

const FAMILY_EXPECTED: &str =
    "AFI SAFI, e.g. \"ipv4 unicast\" or \"ipv6 unicast\" (AFI: ipv4, ipv6, l2vpn or afi-N; \
SAFI: unicast, multicast, nlri-mpls, evpn, mpls-vpn, flow, flow-vpn or safi-N)";

impl fmt::Display for Afi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code();
        match AFI_NAMES.iter().find(|(_, c)| *c == code) {
            Some((n, _)) => f.write_str(n),
            None => write!(f, "afi-{code}"),
        }
    }
}

impl fmt::Display for Safi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code();
        match SAFI_NAMES.iter().find(|(_, c)| *c == code) {
            Some((n, _)) => f.write_str(n),
            None => write!(f, "safi-{code}"),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.afi, self.safi)
    }
}

impl FromStr for Family {
    type Err = ParseTextError;
    /// "ipv4 unicast", case-insensitive, any whitespace between the two words.
    fn from_str(s: &str) -> Result<Family, ParseTextError> {
        let e = || err("family", s, FAMILY_EXPECTED);
        let lower = s.to_ascii_lowercase();
        let mut words = lower.split_whitespace();
        let (a, sa) = match (words.next(), words.next(), words.next()) {
            (Some(a), Some(sa), None) => (a, sa),
            _ => return Err(e()),
        };
        let afi = match AFI_NAMES.iter().find(|(n, _)| *n == a) {
            Some((_, c)) => *c,
            None => a
                .strip_prefix("afi-")
                .and_then(number::<u16>)
                .ok_or_else(e)?,
        };
        let safi = match SAFI_NAMES.iter().find(|(n, _)| *n == sa) {
            Some((_, c)) => *c,
            None => sa
                .strip_prefix("safi-")
                .and_then(number::<u8>)
                .ok_or_else(e)?,
        };
        Ok(Family::from_codes(afi, safi))
    }
}
