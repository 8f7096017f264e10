//! Flow rules as ExaBGP writes and reads them.
//!
//! A match expression (`destination-port >=1024&<=65535`, `port [ =80 =443 ]`,
//! `protocol [ tcp udp ]`, `tcp-flags [ syn ack ]`, `fragment [ not-a-fragment ]`,
//! `destination 2001:db8::/64/0`) parses with [`FlowRule::parse`] / `FromStr`,
//! and [`FlowRule`]'s `Display` writes one back that parses to the same rule.
//! [`Component::json_name`] / [`Component::json_values`] give the key and the
//! strings ExaBGP 5.0 puts in its JSON (`"destination-port": [ "=80" ]`, an AND
//! chain as one string `">=1024&<=65535"`, an OR as separate strings).
//!
//! ExaBGP's conventions kept here: a numeric value without operator means `=`; a
//! bitmask value without operator is "any of these bits" (m bit clear), `=` is
//! "all of them", `!` negates; several bits are joined with `+` (`=syn+ack`);
//! protocols and ICMP types print by name when they have one, ICMP codes as
//! numbers; lt|gt|eq all set prints `true`, none `false` (the value is not
//! printed, and parses back as 0). `not-a-fragment` (older ExaBGP, BIRD) is
//! read as `!is-fragment`, which is what it means, and printed that way.
//! Differences: ExaBGP's text line names IPv4 prefixes `destination-ipv4`;
//! `Display` writes the keyword the parser takes (`destination`), and the parser
//! takes both.
//!
//! All the name tables are in this file.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::component::{BitmaskMatch, Component, FlowPrefix, NumericMatch};
use super::FlowRule;

/// IP protocol names (ExaBGP's list, IANA protocol numbers).
pub const PROTOCOL_NAMES: [(&str, u64); 13] = [
    ("icmp", 1),
    ("igmp", 2),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ospf", 89),
    ("ipip", 94),
    ("pim", 103),
    ("sctp", 132),
];

/// ICMP type names (ExaBGP's list).
pub const ICMP_TYPE_NAMES: [(&str, u64); 16] = [
    ("echo-reply", 0),
    ("unreachable", 3),
    ("redirect", 5),
    ("echo-request", 8),
    ("router-advertisement", 9),
    ("router-solicit", 10),
    ("time-exceeded", 11),
    ("parameter-problem", 12),
    ("timestamp", 13),
    ("timestamp-reply", 14),
    ("photuris", 40),
    ("experimental-mobility", 41),
    ("extended-echo-request", 42),
    ("extended-echo-reply", 43),
    ("experimental-one", 253),
    ("experimental-two", 254),
];

/// ICMP code names, accepted on input only: they repeat across types, so codes
/// print as numbers (as ExaBGP does).
pub const ICMP_CODE_NAMES: [(&str, u64); 24] = [
    ("network-unreachable", 0),
    ("host-unreachable", 1),
    ("protocol-unreachable", 2),
    ("port-unreachable", 3),
    ("fragmentation-needed", 4),
    ("source-route-failed", 5),
    ("destination-network-unknown", 6),
    ("destination-host-unknown", 7),
    ("source-host-isolated", 8),
    ("destination-network-prohibited", 9),
    ("destination-host-prohibited", 10),
    ("network-unreachable-for-tos", 11),
    ("host-unreachable-for-tos", 12),
    ("communication-prohibited-by-filtering", 13),
    ("host-precedence-violation", 14),
    ("precedence-cutoff-in-effect", 15),
    ("redirect-for-network", 0),
    ("redirect-for-host", 1),
    ("redirect-for-tos-and-net", 2),
    ("redirect-for-tos-and-host", 3),
    ("ttl-eq-zero-during-transit", 0),
    ("ttl-eq-zero-during-reassembly", 1),
    ("required-option-missing", 1),
    ("ip-header-bad", 2),
];

/// TCP flag bits (RFC 8955 §4.2.2.9: the TCP header's flags octet; ExaBGP adds
/// NS as 0x100), in the order they print.
pub const TCP_FLAG_NAMES: [(&str, u64); 9] = [
    ("fin", 0x01),
    ("syn", 0x02),
    ("rst", 0x04),
    ("push", 0x08),
    ("ack", 0x10),
    ("urg", 0x20),
    ("ece", 0x40),
    ("cwr", 0x80),
    ("ns", 0x100),
];

/// Fragment bits (RFC 8955 §4.2.2.12), in the order they print.
pub const FRAGMENT_NAMES: [(&str, u64); 4] = [
    ("dont-fragment", 0x01),
    ("is-fragment", 0x02),
    ("first-fragment", 0x04),
    ("last-fragment", 0x08),
];

/// A name table.
type Names = &'static [(&'static str, u64)];

/// Extra input-only spellings ExaBGP accepts.
const TCP_FLAG_ALIASES: [(&str, u64); 1] = [("urgent", 0x20)];

/// A match expression that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid flow match '{input}': {reason}")]
pub struct ParseFlowError {
    /// The word or expression at fault.
    pub input: String,
    /// What was wrong and what would have been accepted.
    pub reason: String,
}

fn perr(input: &str, reason: impl Into<String>) -> ParseFlowError {
    ParseFlowError {
        input: input.to_string(),
        reason: reason.into(),
    }
}

fn name_of(table: &[(&'static str, u64)], v: u64) -> Option<&'static str> {
    table.iter().find(|(_, x)| *x == v).map(|(n, _)| *n)
}

fn lookup(table: &[(&str, u64)], s: &str) -> Option<u64> {
    table.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
}

/// A decimal or `0x` hexadecimal number.
fn number(s: &str) -> Option<u64> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()
    } else if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        s.parse().ok()
    } else {
        None
    }
}

/// Bits by name, leftovers as a number (`syn+ack`, `is-fragment`, `0` for none).
fn bits_text(table: &[(&'static str, u64)], value: u64) -> String {
    let mut parts = Vec::new();
    let mut left = value;
    for (name, bit) in table {
        if left & bit != 0 {
            parts.push((*name).to_string());
            left &= !bit;
        }
    }
    if left != 0 || parts.is_empty() {
        parts.push(left.to_string());
    }
    parts.join("+")
}

const NUMERIC_OPS: [&str; 8] = ["false", "=", ">", ">=", "<", "<=", "!=", "true"];
const BITMASK_OPS: [&str; 4] = ["", "=", "!", "!="];

impl Component {
    /// The keyword the match syntax uses (`destination`, `protocol` / `next-header`,
    /// `dscp` / `traffic-class` ...).
    pub fn keyword(&self, ipv6: bool) -> &'static str {
        match (self, ipv6) {
            (Component::Destination(_), _) => "destination",
            (Component::Source(_), _) => "source",
            (Component::Protocol(_), false) => "protocol",
            (Component::Protocol(_), true) => "next-header",
            (Component::Dscp(_), false) => "dscp",
            (Component::Dscp(_), true) => "traffic-class",
            _ => self.json_name(ipv6),
        }
    }

    /// The key ExaBGP 5.0 uses in its JSON.
    pub fn json_name(&self, ipv6: bool) -> &'static str {
        match (self, ipv6) {
            (Component::Destination(_), false) => "destination-ipv4",
            (Component::Destination(_), true) => "destination-ipv6",
            (Component::Source(_), false) => "source-ipv4",
            (Component::Source(_), true) => "source-ipv6",
            (Component::Protocol(_), false) => "protocol",
            (Component::Protocol(_), true) => "next-header",
            (Component::Port(_), _) => "port",
            (Component::DestinationPort(_), _) => "destination-port",
            (Component::SourcePort(_), _) => "source-port",
            (Component::IcmpType(_), _) => "icmp-type",
            (Component::IcmpCode(_), _) => "icmp-code",
            (Component::TcpFlags(_), _) => "tcp-flags",
            (Component::PacketLength(_), _) => "packet-length",
            (Component::Dscp(_), false) => "dscp",
            (Component::Dscp(_), true) => "traffic-class",
            (Component::Fragment(_), _) => "fragment",
            (Component::FlowLabel(_), _) => "flow-label",
        }
    }

    /// The strings of ExaBGP's JSON array: one per OR-ed term, an AND chain
    /// joined into one (`[">=1024&<=65535", "=8080"]`); a prefix is one string.
    pub fn json_values(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |and: bool, s: String| match out.last_mut() {
            Some(last) if and => last.push_str(&s),
            _ => out.push(s),
        };
        match self {
            Component::Destination(p) | Component::Source(p) => push(false, prefix_text(p)),
            Component::TcpFlags(l) | Component::Fragment(l) => {
                let table: &[(&str, u64)] = if matches!(self, Component::TcpFlags(_)) {
                    &TCP_FLAG_NAMES
                } else {
                    &FRAGMENT_NAMES
                };
                for (i, m) in l.iter().enumerate() {
                    let and = m.and && i > 0;
                    let s = format!(
                        "{}{}{}",
                        if and { "&" } else { "" },
                        BITMASK_OPS[usize::from(m.op_bits())],
                        bits_text(table, m.value)
                    );
                    push(and, s);
                }
            }
            _ => {
                let list = self.numeric_list().unwrap_or_default();
                for (i, m) in list.iter().enumerate() {
                    let and = m.and && i > 0;
                    let op = m.op_bits();
                    let value = if op == 0 || op == 7 {
                        String::new()
                    } else {
                        self.numeric_value_text(m.value)
                    };
                    let s = format!(
                        "{}{}{}",
                        if and { "&" } else { "" },
                        NUMERIC_OPS[usize::from(op)],
                        value
                    );
                    push(and, s);
                }
            }
        }
        out
    }

    fn numeric_value_text(&self, v: u64) -> String {
        let name = match self {
            Component::Protocol(_) => name_of(&PROTOCOL_NAMES, v),
            Component::IcmpType(_) => name_of(&ICMP_TYPE_NAMES, v),
            _ => None,
        };
        name.map_or_else(|| v.to_string(), str::to_string)
    }
}

/// `10.0.0.0/24`; IPv6 always with the offset, `2001:db8::/32/0` (ExaBGP's form).
fn prefix_text(p: &FlowPrefix) -> String {
    if p.is_ipv6() {
        format!("{}/{}/{}", p.addr(), p.len(), p.offset())
    } else {
        format!("{}/{}", p.addr(), p.len())
    }
}

impl fmt::Display for FlowRule {
    /// `destination 10.0.0.0/24 protocol =tcp destination-port [ =80 =443 ]`:
    /// the components in type order, as [`FlowRule::parse`] reads them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sorted: Vec<&Component> = self.components.iter().collect();
        sorted.sort_by_key(|c| c.code());
        for (i, c) in sorted.into_iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let values = c.json_values();
            if values.len() == 1 {
                write!(f, "{} {}", c.keyword(self.ipv6), values[0])?;
            } else {
                write!(f, "{} [ {} ]", c.keyword(self.ipv6), values.join(" "))?;
            }
        }
        Ok(())
    }
}

impl FromStr for FlowRule {
    type Err = ParseFlowError;

    /// [`FlowRule::parse`] with the family taken from the text.
    fn from_str(s: &str) -> Result<FlowRule, ParseFlowError> {
        FlowRule::parse(s, None)
    }
}

/// Which keyword is which type code, and whether it says IPv6 by itself.
fn keyword_code(word: &str) -> Option<(u8, Option<bool>)> {
    Some(match word {
        "destination" => (1, None),
        "destination-ipv4" => (1, Some(false)),
        "destination-ipv6" => (1, Some(true)),
        "source" => (2, None),
        "source-ipv4" => (2, Some(false)),
        "source-ipv6" => (2, Some(true)),
        "protocol" => (3, None),
        "next-header" => (3, Some(true)),
        "port" => (4, None),
        "destination-port" => (5, None),
        "source-port" => (6, None),
        "icmp-type" => (7, None),
        "icmp-code" => (8, None),
        "tcp-flags" => (9, None),
        "packet-length" => (10, None),
        "dscp" => (11, None),
        "traffic-class" => (11, Some(true)),
        "fragment" => (12, None),
        "flow-label" => (13, Some(true)),
        _ => return None,
    })
}

const KEYWORDS: &str = "destination, source, protocol, next-header, port, destination-port, \
source-port, icmp-type, icmp-code, tcp-flags, packet-length, dscp, traffic-class, fragment, \
flow-label";

impl FlowRule {
    /// Parses a match expression: `KEYWORD VALUE` or `KEYWORD [ VALUE ... ]`
    /// pairs. `ipv6` fixes the family; with None it is IPv6 when an IPv6 prefix or
    /// an IPv6-only keyword (next-header, traffic-class, flow-label) appears, else
    /// IPv4. A keyword given twice is an error (one component per type).
    pub fn parse(s: &str, ipv6: Option<bool>) -> Result<FlowRule, ParseFlowError> {
        let spaced = s.replace('[', " [ ").replace(']', " ] ");
        let mut tokens = spaced.split_whitespace();
        // (code, keyword, values) in input order; built once the family is known.
        let mut raw: Vec<(u8, &str, Vec<&str>)> = Vec::new();
        let mut family = ipv6;
        let mut says = |v: bool, word: &str| -> Result<(), ParseFlowError> {
            match family {
                Some(f) if f != v => Err(perr(word, "mixes IPv4 and IPv6")),
                _ => {
                    family = Some(v);
                    Ok(())
                }
            }
        };
        while let Some(word) = tokens.next() {
            let (code, v6) = keyword_code(word).ok_or_else(|| {
                perr(word, format!("unknown keyword, expected one of {KEYWORDS}"))
            })?;
            if let Some(v) = v6 {
                says(v, word)?;
            }
            let first = tokens
                .next()
                .ok_or_else(|| perr(word, "keyword without a value"))?;
            let values = if first == "[" {
                let mut list = Vec::new();
                loop {
                    match tokens.next() {
                        Some("]") => break,
                        Some("[") => return Err(perr(word, "nested '['")),
                        Some(v) => list.push(v),
                        None => return Err(perr(word, "'[' without ']'")),
                    }
                }
                if list.is_empty() {
                    return Err(perr(word, "empty [ ]"));
                }
                list
            } else if first == "]" {
                return Err(perr(word, "']' without '['"));
            } else {
                vec![first]
            };
            if code <= 2 {
                if values.len() != 1 {
                    return Err(perr(word, "takes one prefix"));
                }
                says(values[0].contains(':'), values[0])?;
            }
            if raw.iter().any(|(c, _, _)| *c == code) {
                return Err(perr(word, "given twice (one component of each type)"));
            }
            raw.push((code, word, values));
        }
        if raw.is_empty() {
            return Err(perr(s, "no match given"));
        }
        let ipv6 = family.unwrap_or(false);
        let mut components = Vec::new();
        for (code, word, values) in raw {
            components.push(parse_component(code, word, &values, ipv6)?);
        }
        Ok(FlowRule { ipv6, components }.sorted())
    }
}

fn parse_component(
    code: u8,
    word: &str,
    values: &[&str],
    ipv6: bool,
) -> Result<Component, ParseFlowError> {
    match code {
        1 => return Ok(Component::Destination(parse_prefix(values[0], ipv6)?)),
        2 => return Ok(Component::Source(parse_prefix(values[0], ipv6)?)),
        _ => {}
    }
    if code == 9 || code == 12 {
        let mut list = Vec::new();
        for v in values {
            list.extend(parse_bitmask_expr(code, v)?);
        }
        return Component::bitmask(code, list).ok_or_else(|| perr(word, "not a bitmask match"));
    }
    let mut list = Vec::new();
    for v in values {
        list.extend(parse_numeric_expr(code, v)?);
    }
    Component::numeric(code, list).ok_or_else(|| perr(word, "not a numeric match"))
}

/// `10.0.0.0/24`, `2001:db8::/64` or `2001:db8::/64/8` (offset 8).
fn parse_prefix(s: &str, ipv6: bool) -> Result<FlowPrefix, ParseFlowError> {
    let expected = "ADDRESS/LENGTH, or IPV6/LENGTH/OFFSET, with no bits set past LENGTH";
    let mut parts = s.split('/');
    let addr: IpAddr = parts
        .next()
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| perr(s, expected))?;
    let len: u8 = parts
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| perr(s, expected))?;
    let offset: u8 = match parts.next() {
        Some(o) if ipv6 => o.parse().map_err(|_| perr(s, expected))?,
        Some(_) => return Err(perr(s, "an IPv4 prefix has no offset")),
        None => 0,
    };
    if parts.next().is_some() || addr.is_ipv6() != ipv6 {
        return Err(perr(s, expected));
    }
    let p = FlowPrefix::new(addr, len, offset)
        .ok_or_else(|| perr(s, "length too long, or offset not below length"))?;
    if p.addr() != addr {
        return Err(perr(s, expected));
    }
    Ok(p)
}

/// The largest value each numeric type takes as text.
fn numeric_max(code: u8) -> u64 {
    match code {
        4..=6 | 10 => 0xffff,
        11 => 63,
        13 => 0xf_ffff,
        _ => 0xff,
    }
}

/// `>=1024&<=65535`: terms joined by `&`, the first OR-ed with what precedes.
fn parse_numeric_expr(code: u8, s: &str) -> Result<Vec<NumericMatch>, ParseFlowError> {
    let mut out = Vec::new();
    for (i, term) in s.split('&').enumerate() {
        if term.is_empty() {
            return Err(perr(s, "empty term around '&'"));
        }
        let (bits, rest) = if term == "true" || term == "false" {
            (if term == "true" { 7 } else { 0 }, "")
        } else {
            let ops = [
                (">=", 3),
                ("<=", 5),
                ("!=", 6),
                (">", 2),
                ("<", 4),
                ("=", 1),
            ];
            ops.iter()
                .find_map(|(p, b)| term.strip_prefix(p).map(|r| (*b, r)))
                .unwrap_or((1, term))
        };
        let value = if bits == 0 || bits == 7 {
            0
        } else {
            let named = match code {
                3 => lookup(&PROTOCOL_NAMES, rest),
                7 => lookup(&ICMP_TYPE_NAMES, rest),
                8 => lookup(&ICMP_CODE_NAMES, rest),
                _ => None,
            };
            let v = named.or_else(|| number(rest)).ok_or_else(|| {
                perr(
                    term,
                    "expected [OP]VALUE, OP one of = > < >= <= != (or true, false)",
                )
            })?;
            if v > numeric_max(code) {
                return Err(perr(term, format!("value over {}", numeric_max(code))));
            }
            v
        };
        out.push(NumericMatch::from_op(bits, value));
        if i > 0 {
            if let Some(m) = out.last_mut() {
                m.and = true;
            }
        }
    }
    Ok(out)
}

/// `=syn+ack&!rst`, `!is-fragment`, `not-a-fragment`.
fn parse_bitmask_expr(code: u8, s: &str) -> Result<Vec<BitmaskMatch>, ParseFlowError> {
    let (table, aliases, max): (Names, Names, u64) = if code == 9 {
        (&TCP_FLAG_NAMES, &TCP_FLAG_ALIASES, 0xffff)
    } else {
        (&FRAGMENT_NAMES, &[], 0xff)
    };
    let mut out = Vec::new();
    for (i, term) in s.split('&').enumerate() {
        if term.is_empty() {
            return Err(perr(s, "empty term around '&'"));
        }
        let mut m = if code == 12 && term == "not-a-fragment" {
            BitmaskMatch {
                and: false,
                not: true,
                matches: false,
                value: 0x02,
            }
        } else {
            let ops = [("!=", 3), ("!", 2), ("=", 1)];
            let (bits, rest) = ops
                .iter()
                .find_map(|(p, b)| term.strip_prefix(p).map(|r| (*b, r)))
                .unwrap_or((0, term));
            let mut value = 0u64;
            for part in rest.split('+') {
                let v = lookup(table, part)
                    .or_else(|| lookup(aliases, part))
                    .or_else(|| number(part))
                    .ok_or_else(|| {
                        perr(
                            term,
                            format!(
                                "expected [OP]NAME+NAME..., OP one of = ! != and NAME one of {}",
                                table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ")
                            ),
                        )
                    })?;
                value |= v;
            }
            if value > max {
                return Err(perr(term, format!("value over {max}")));
            }
            BitmaskMatch::from_op(bits, value)
        };
        m.and = i > 0;
        out.push(m);
    }
    Ok(out)
}

/// A route distinguisher (RFC 4364 §4.2) as ExaBGP writes it (qualifier/rd.py
/// `_str`): type 0 `ASN2:NN4`, type 1 `A.B.C.D:NN2`, type 2 `ASN4:NN2`, any
/// other type the 8 octets in hex (`0x` then upper case).
pub fn rd_text(rd: &[u8; 8]) -> String {
    let [t0, t1, a, b, c, d, e, f] = *rd;
    match u16::from_be_bytes([t0, t1]) {
        0 => format!(
            "{}:{}",
            u16::from_be_bytes([a, b]),
            u32::from_be_bytes([c, d, e, f])
        ),
        1 => format!("{a}.{b}.{c}.{d}:{}", u16::from_be_bytes([e, f])),
        2 => format!(
            "{}:{}",
            u32::from_be_bytes([a, b, c, d]),
            u16::from_be_bytes([e, f])
        ),
        _ => {
            let hex: String = rd.iter().map(|x| format!("{x:02X}")).collect();
            format!("0x{hex}")
        }
    }
}

/// The route distinguisher `ASN:NN` or `A.B.C.D:NN`, typed as ExaBGP types it
/// (RouteDistinguisher.fromElements): an address is type 1 (NN below 65536); an
/// ASN below 65536 with NN below 2^32 type 0; else an ASN below 2^32 with NN
/// below 65536 type 2. [`rd_text`] writes it back.
pub fn parse_rd(s: &str) -> Result<[u8; 8], ParseFlowError> {
    let bad = || {
        perr(
            s,
            "not a route distinguisher, expected ASN:NN or A.B.C.D:NN (e.g. 65000:1)",
        )
    };
    let (admin, number) = s.rsplit_once(':').ok_or_else(bad)?;
    let number: u64 = number.parse().map_err(|_| bad())?;
    let mut rd = [0u8; 8];
    if let Ok(ip) = admin.parse::<std::net::Ipv4Addr>() {
        let nn = u16::try_from(number).map_err(|_| bad())?;
        rd[..2].copy_from_slice(&1u16.to_be_bytes());
        rd[2..6].copy_from_slice(&ip.octets());
        rd[6..].copy_from_slice(&nn.to_be_bytes());
        return Ok(rd);
    }
    let asn: u64 = admin.parse().map_err(|_| bad())?;
    if let (Ok(asn), Ok(nn)) = (u16::try_from(asn), u32::try_from(number)) {
        rd[2..4].copy_from_slice(&asn.to_be_bytes());
        rd[4..].copy_from_slice(&nn.to_be_bytes());
    } else if let (Ok(asn), Ok(nn)) = (u32::try_from(asn), u16::try_from(number)) {
        rd[..2].copy_from_slice(&2u16.to_be_bytes());
        rd[2..6].copy_from_slice(&asn.to_be_bytes());
        rd[6..].copy_from_slice(&nn.to_be_bytes());
    } else {
        return Err(bad());
    }
    Ok(rd)
}

#[cfg(test)]
mod rd_tests {
    use super::*;

    /// Each type both ways, and what no type holds.
    #[test]
    fn route_distinguishers() {
        for (text, bytes) in [
            ("65000:1", [0, 0, 0xfd, 0xe8, 0, 0, 0, 1]),
            ("192.0.2.1:7", [0, 1, 192, 0, 2, 1, 0, 7]),
            ("4200000000:7", [0, 2, 0xfa, 0x56, 0xea, 0, 0, 7]),
        ] {
            assert_eq!(parse_rd(text).unwrap(), bytes, "{text}");
            assert_eq!(rd_text(&bytes), text);
        }
        assert_eq!(rd_text(&[0, 9, 1, 2, 3, 4, 5, 6]), "0x0009010203040506");
        for bad in [
            "65000",
            "x:1",
            "4200000000:70000",
            "192.0.2.1:70000",
            ":1",
            "1:-1",
        ] {
            assert!(parse_rd(bad).is_err(), "{bad}");
        }
    }
}
