//! Traffic filtering actions (RFC 8955 §7) as extended communities, in ExaBGP's
//! words.
//!
//! | action                | type   | value octets 2..8                  | text                          |
//! |-----------------------|--------|------------------------------------|-------------------------------|
//! | traffic-rate-bytes    | 0x8006 | AS (2), rate bytes/s (IEEE float)  | `rate-limit N`, 0: `discard`  |
//! | traffic-rate-packets  | 0x800c | AS (2), rate packets/s (float)     | `rate-limit-packets N`        |
//! | traffic-action        | 0x8007 | 5 zero octets, bits: S=0x02 T=0x01 | `action sample-terminal`      |
//! | redirect 2-octet AS   | 0x8008 | AS (2), value (4)                  | `redirect 65000:100`          |
//! | redirect IPv4         | 0x8108 | IPv4 (4), value (2)                | `redirect 192.0.2.1:100`      |
//! | redirect 4-octet AS   | 0x8208 | AS (4), value (2)                  | `redirect 4200000000:100`     |
//! | traffic-marking       | 0x8009 | 5 zero octets, DSCP (6 low bits)   | `mark 46`                     |
//! | redirect to next hop  | 0x0800 | 5 zero octets, C(opy)=0x01         | `redirect-to-nexthop`         |
//! | redirect to IPv4      | 0x010c | IPv4 (4), flags (2), C=0x0001      | `redirect-to-nexthop-ietf IP` |
//!
//! 0x0800 is draft-simpson-idr-flowspec-redirect: "redirect to the next hop of
//! this UPDATE". It is what ExaBGP sends for `redirect-to-nexthop` and also for
//! `redirect 192.0.2.1` (an address without `:NN`), where it sets the UPDATE's
//! next hop to that address; that second form needs the next hop, so it is the
//! config/API step's job, not this type's. 0x010c is the IPv4-address-specific
//! "Flow-spec Redirect to IPv4" of draft-ietf-idr-flowspec-redirect-ip, carrying
//! the address itself (ExaBGP: `redirect-to-nexthop-ietf`). With the copy bit
//! the traffic is copied rather than redirected (`copy-to-nexthop`,
//! `copy-to-nexthop-ietf IP`).
//!
//! The rate's AS number is not in the text: ExaBGP always sends 0 ("what Juniper
//! and Arbor did"), and so does the parser; a decoded non-zero AS shows in the
//! value but not in the text. Rates print as integers when they are integers.
//! `redirect N:M` is the 2-octet-AS form when N fits 16 bits, else the
//! 4-octet-AS one (as in ExaBGP), so a 4-octet-AS redirect to a small AS prints
//! the same as the 2-octet one.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::bgp::family::ExtCommunity;

/// One traffic filtering action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FlowAction {
    /// traffic-rate-bytes, 0x8006: bytes per second; 0 discards.
    RateBytes { asn: u16, rate: f32 },
    /// traffic-rate-packets, 0x800c (RFC 8955 §7.1).
    RatePackets { asn: u16, rate: f32 },
    /// traffic-action, 0x8007 (RFC 8955 §7.3).
    Action { sample: bool, terminal: bool },
    /// redirect, 2-octet AS route target, 0x8008.
    RedirectAs2 { asn: u16, value: u32 },
    /// redirect, IPv4 route target, 0x8108.
    RedirectIpv4 { ip: Ipv4Addr, value: u16 },
    /// redirect, 4-octet AS route target, 0x8208.
    RedirectAs4 { asn: u32, value: u16 },
    /// traffic-marking, 0x8009: the DSCP to set.
    Mark { dscp: u8 },
    /// redirect/copy to the UPDATE's next hop, 0x0800 (draft-simpson).
    RedirectToNexthop { copy: bool },
    /// redirect/copy to this IPv4 address, 0x010c (draft-ietf-idr-flowspec-redirect-ip).
    RedirectToIp { ip: Ipv4Addr, copy: bool },
}

impl FlowAction {
    /// `discard`: traffic-rate-bytes 0 with AS 0, as ExaBGP sends it.
    pub const DISCARD: FlowAction = FlowAction::RateBytes { asn: 0, rate: 0.0 };

    /// The action an extended community carries; None when it is not one.
    pub fn from_ext_community(c: &ExtCommunity) -> Option<FlowAction> {
        let b = c.0;
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Some(match (b[0], b[1]) {
            (0x80, 0x06) => FlowAction::RateBytes {
                asn: u16_at(2),
                rate: f32::from_bits(u32_at(4)),
            },
            (0x80, 0x0c) => FlowAction::RatePackets {
                asn: u16_at(2),
                rate: f32::from_bits(u32_at(4)),
            },
            (0x80, 0x07) => FlowAction::Action {
                sample: b[7] & 0x02 != 0,
                terminal: b[7] & 0x01 != 0,
            },
            (0x80, 0x08) => FlowAction::RedirectAs2 {
                asn: u16_at(2),
                value: u32_at(4),
            },
            (0x81, 0x08) => FlowAction::RedirectIpv4 {
                ip: Ipv4Addr::from(u32_at(2)),
                value: u16_at(6),
            },
            (0x82, 0x08) => FlowAction::RedirectAs4 {
                asn: u32_at(2),
                value: u16_at(6),
            },
            (0x80, 0x09) => FlowAction::Mark { dscp: b[7] & 0x3f },
            (0x08, 0x00) => FlowAction::RedirectToNexthop {
                copy: b[7] & 0x01 != 0,
            },
            (0x01, 0x0c) => FlowAction::RedirectToIp {
                ip: Ipv4Addr::from(u32_at(2)),
                copy: b[7] & 0x01 != 0,
            },
            _ => return None,
        })
    }

    /// The extended community for this action.
    pub fn to_ext_community(&self) -> ExtCommunity {
        let mut b = [0u8; 8];
        let mut put = |ty: [u8; 2], rest: &[u8]| {
            b[..2].copy_from_slice(&ty);
            b[8 - rest.len()..].copy_from_slice(rest);
        };
        match *self {
            FlowAction::RateBytes { asn, rate } => {
                put([0x80, 0x06], &rate_bytes(asn, rate));
            }
            FlowAction::RatePackets { asn, rate } => {
                put([0x80, 0x0c], &rate_bytes(asn, rate));
            }
            FlowAction::Action { sample, terminal } => {
                put([0x80, 0x07], &[u8::from(sample) << 1 | u8::from(terminal)]);
            }
            FlowAction::RedirectAs2 { asn, value } => {
                let mut r = [0u8; 6];
                r[..2].copy_from_slice(&asn.to_be_bytes());
                r[2..].copy_from_slice(&value.to_be_bytes());
                put([0x80, 0x08], &r);
            }
            FlowAction::RedirectIpv4 { ip, value } => {
                let mut r = [0u8; 6];
                r[..4].copy_from_slice(&ip.octets());
                r[4..].copy_from_slice(&value.to_be_bytes());
                put([0x81, 0x08], &r);
            }
            FlowAction::RedirectAs4 { asn, value } => {
                let mut r = [0u8; 6];
                r[..4].copy_from_slice(&asn.to_be_bytes());
                r[4..].copy_from_slice(&value.to_be_bytes());
                put([0x82, 0x08], &r);
            }
            FlowAction::Mark { dscp } => put([0x80, 0x09], &[dscp & 0x3f]),
            FlowAction::RedirectToNexthop { copy } => put([0x08, 0x00], &[u8::from(copy)]),
            FlowAction::RedirectToIp { ip, copy } => {
                let mut r = [0u8; 6];
                r[..4].copy_from_slice(&ip.octets());
                r[5] = u8::from(copy);
                put([0x01, 0x0c], &r);
            }
        }
        ExtCommunity(b)
    }
}

fn rate_bytes(asn: u16, rate: f32) -> [u8; 6] {
    let mut r = [0u8; 6];
    r[..2].copy_from_slice(&asn.to_be_bytes());
    r[2..].copy_from_slice(&rate.to_bits().to_be_bytes());
    r
}

impl From<FlowAction> for ExtCommunity {
    fn from(a: FlowAction) -> ExtCommunity {
        a.to_ext_community()
    }
}

/// A rate as ExaBGP prints it: an integer when it is one.
fn rate_text(rate: f32) -> String {
    if rate.is_finite() && rate.fract() == 0.0 && rate.abs() < 1e15 {
        format!("{}", rate as i64)
    } else {
        format!("{rate}")
    }
}

impl fmt::Display for FlowAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FlowAction::RateBytes { rate, .. } => {
                if rate == 0.0 {
                    f.write_str("discard")
                } else {
                    write!(f, "rate-limit {}", rate_text(rate))
                }
            }
            FlowAction::RatePackets { rate, .. } => {
                write!(f, "rate-limit-packets {}", rate_text(rate))
            }
            FlowAction::Action { sample, terminal } => f.write_str(match (sample, terminal) {
                (true, true) => "action sample-terminal",
                (true, false) => "action sample",
                (false, true) => "action terminal",
                (false, false) => "action none",
            }),
            FlowAction::RedirectAs2 { asn, value } => write!(f, "redirect {asn}:{value}"),
            FlowAction::RedirectIpv4 { ip, value } => write!(f, "redirect {ip}:{value}"),
            FlowAction::RedirectAs4 { asn, value } => write!(f, "redirect {asn}:{value}"),
            FlowAction::Mark { dscp } => write!(f, "mark {dscp}"),
            FlowAction::RedirectToNexthop { copy: false } => f.write_str("redirect-to-nexthop"),
            FlowAction::RedirectToNexthop { copy: true } => f.write_str("copy-to-nexthop"),
            FlowAction::RedirectToIp { ip, copy: false } => {
                write!(f, "redirect-to-nexthop-ietf {ip}")
            }
            FlowAction::RedirectToIp { ip, copy: true } => write!(f, "copy-to-nexthop-ietf {ip}"),
        }
    }
}

impl FlowAction {
    /// The string ExaBGP 5.0 gives this extended community in its JSON
    /// (`"string": "rate-limit:0"`), as its traffic community classes print
    /// them: `rate-limit:N` (the rate as an integer, 0 for discard),
    /// `action sample-terminal`, `redirect:ASN:NN`, `mark N`,
    /// `redirect-to-nexthop`, `redirect-to-nexthop-ietf IP`. Forms ExaBGP has no
    /// class for (packets rate, IPv4 redirect target) follow the same pattern.
    pub fn exabgp_string(&self) -> String {
        match *self {
            FlowAction::RateBytes { rate, .. } => format!("rate-limit:{}", rate as i64),
            FlowAction::RatePackets { rate, .. } => format!("rate-limit-packets:{}", rate as i64),
            FlowAction::Action { sample, terminal } => {
                let words: Vec<&str> = [(sample, "sample"), (terminal, "terminal")]
                    .iter()
                    .filter(|(on, _)| *on)
                    .map(|(_, w)| *w)
                    .collect();
                format!("action {}", words.join("-"))
            }
            FlowAction::RedirectAs2 { asn, value } => format!("redirect:{asn}:{value}"),
            FlowAction::RedirectAs4 { asn, value } => format!("redirect:{asn}:{value}"),
            FlowAction::RedirectIpv4 { ip, value } => format!("redirect:{ip}:{value}"),
            FlowAction::Mark { dscp } => format!("mark {dscp}"),
            FlowAction::RedirectToNexthop { copy } => if copy {
                "copy-to-nexthop"
            } else {
                "redirect-to-nexthop"
            }
            .to_string(),
            FlowAction::RedirectToIp { ip, copy: false } => {
                format!("redirect-to-nexthop-ietf {ip}")
            }
            FlowAction::RedirectToIp { ip, copy: true } => {
                format!("copy-to-nexthop-ietf {ip} (with copy)")
            }
        }
    }
}

/// An action that did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid flow action '{input}': {reason}")]
pub struct ParseFlowActionError {
    pub input: String,
    pub reason: &'static str,
}

const ACTIONS: &str = "expected discard, rate-limit N, rate-limit-packets N, redirect ASN:NN, \
redirect IPV4:NN, mark DSCP, action sample|terminal|sample-terminal, redirect-to-nexthop, \
copy-to-nexthop, redirect-to-nexthop-ietf IPV4 or copy-to-nexthop-ietf IPV4";

impl FromStr for FlowAction {
    type Err = ParseFlowActionError;

    fn from_str(s: &str) -> Result<FlowAction, ParseFlowActionError> {
        let bad = |reason| ParseFlowActionError {
            input: s.to_string(),
            reason,
        };
        let words: Vec<&str> = s.split_whitespace().collect();
        let rate = |w: &str| -> Result<f32, ParseFlowActionError> {
            match w.parse::<f32>() {
                Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
                _ => Err(bad("the rate is a number of at least 0")),
            }
        };
        let ipv4 = |w: &str| {
            w.parse::<Ipv4Addr>()
                .map_err(|_| bad("expected an IPv4 address"))
        };
        match words.as_slice() {
            ["discard"] => Ok(FlowAction::DISCARD),
            ["rate-limit", r] => Ok(FlowAction::RateBytes {
                asn: 0,
                rate: rate(r)?,
            }),
            ["rate-limit-packets", r] => Ok(FlowAction::RatePackets {
                asn: 0,
                rate: rate(r)?,
            }),
            ["action", a] => {
                let (sample, terminal) = match *a {
                    "sample" => (true, false),
                    "terminal" => (false, true),
                    "sample-terminal" | "terminal-sample" => (true, true),
                    "none" => (false, false),
                    _ => return Err(bad("action takes sample, terminal or sample-terminal")),
                };
                Ok(FlowAction::Action { sample, terminal })
            }
            ["mark", d] => match d.parse::<u8>() {
                Ok(dscp) if dscp <= 63 => Ok(FlowAction::Mark { dscp }),
                _ => Err(bad("mark takes a DSCP value 0-63")),
            },
            ["redirect-to-nexthop"] => Ok(FlowAction::RedirectToNexthop { copy: false }),
            ["copy-to-nexthop"] => Ok(FlowAction::RedirectToNexthop { copy: true }),
            ["redirect-to-nexthop-ietf", ip] => Ok(FlowAction::RedirectToIp {
                ip: ipv4(ip)?,
                copy: false,
            }),
            ["copy-to-nexthop-ietf", ip] => Ok(FlowAction::RedirectToIp {
                ip: ipv4(ip)?,
                copy: true,
            }),
            ["redirect", target] => {
                let (left, right) = target
                    .rsplit_once(':')
                    .ok_or(bad("redirect takes ASN:NN or IPV4:NN here (an address alone sets the next hop: config/API)"))?;
                if let Ok(ip) = left.parse::<Ipv4Addr>() {
                    let value = right
                        .parse::<u16>()
                        .map_err(|_| bad("redirect IPV4:NN takes NN 0-65535"))?;
                    return Ok(FlowAction::RedirectIpv4 { ip, value });
                }
                let asn: u32 = left
                    .parse()
                    .map_err(|_| bad("redirect ASN:NN takes an AS number 0-4294967295"))?;
                if let Ok(asn) = u16::try_from(asn) {
                    let value = right.parse::<u32>().map_err(|_| {
                        bad("redirect ASN:NN with a 2-octet AS takes NN 0-4294967295")
                    })?;
                    Ok(FlowAction::RedirectAs2 { asn, value })
                } else {
                    let value = right
                        .parse::<u16>()
                        .map_err(|_| bad("redirect ASN:NN with a 4-octet AS takes NN 0-65535"))?;
                    Ok(FlowAction::RedirectAs4 { asn, value })
                }
            }
            _ => Err(bad(ACTIONS)),
        }
    }
}
