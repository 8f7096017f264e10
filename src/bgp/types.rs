//! The data model of BGP messages: what the codec decodes into and encodes from.
//!
//! These types are the contract between the codec (`bgp/`), the RIB, the session,
//! the config and the API. They hold *logical* values: an AS path is always a list
//! of 4-octet AS numbers; the AS4_PATH / AS_TRANS dance toward 2-octet peers is the
//! codec's business and never shows up here.

use std::net::{IpAddr, Ipv4Addr};

pub use super::family::{Afi, ExtCommunity, Family, Safi};

/// An IP prefix. Invariant: bits beyond `len` are zero and `len` fits the family
/// (<= 32 for IPv4, <= 128 for IPv6); constructors enforce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

// `len` is the prefix length in bits, not a container size: there is no `is_empty`.
#[allow(clippy::len_without_is_empty)]
impl Prefix {
    /// A prefix from an address and length; host bits are cleared.
    /// None when `len` is too long for the family.
    pub fn new(addr: IpAddr, len: u8) -> Option<Prefix> {
        match addr {
            IpAddr::V4(a) => {
                if len > 32 {
                    return None;
                }
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                Some(Prefix {
                    addr: IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask)),
                    len,
                })
            }
            IpAddr::V6(a) => {
                if len > 128 {
                    return None;
                }
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                Some(Prefix {
                    addr: IpAddr::V6(std::net::Ipv6Addr::from(u128::from(a) & mask)),
                    len,
                })
            }
        }
    }

    /// Like `new`, but refuses an address with host bits set (what a config wants).
    pub fn new_exact(addr: IpAddr, len: u8) -> Option<Prefix> {
        let p = Prefix::new(addr, len)?;
        (p.addr == addr).then_some(p)
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn len(&self) -> u8 {
        self.len
    }

    pub fn family(&self) -> Family {
        match self.addr {
            IpAddr::V4(_) => Family::IPV4_UNICAST,
            IpAddr::V6(_) => Family::IPV6_UNICAST,
        }
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Error from parsing "addr/len".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid prefix '{0}': expected ADDRESS/LENGTH with no host bits set, e.g. 203.0.113.0/24 or 2001:db8::/32")]
pub struct PrefixParseError(pub String);

impl std::str::FromStr for Prefix {
    type Err = PrefixParseError;
    /// Parses "203.0.113.0/24" or "2001:db8::/32"; a bare address is a host route.
    fn from_str(s: &str) -> Result<Prefix, PrefixParseError> {
        let err = || PrefixParseError(s.to_string());
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| err())?;
        let len = match l {
            Some(l) => l.parse::<u8>().map_err(|_| err())?,
            None => match addr {
                IpAddr::V4(_) => 32,
                IpAddr::V6(_) => 128,
            },
        };
        Prefix::new_exact(addr, len).ok_or_else(err)
    }
}

/// ORIGIN attribute (type 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    Igp,
    Egp,
    Incomplete,
}

/// One AS_PATH segment, with 4-octet AS numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AsSegment {
    Sequence(Vec<u32>),
    Set(Vec<u32>),
    /// RFC 5065 confederation segments, kept so a received path re-encodes unchanged.
    ConfedSequence(Vec<u32>),
    ConfedSet(Vec<u32>),
}

/// AS_PATH attribute (type 2), logical (4-octet) form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    /// A path made of one AS_SEQUENCE (empty path when `asns` is empty).
    pub fn sequence(asns: Vec<u32>) -> AsPath {
        if asns.is_empty() {
            AsPath::default()
        } else {
            AsPath {
                segments: vec![AsSegment::Sequence(asns)],
            }
        }
    }
}

/// A standard community (RFC 1997), as the 32-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    pub const ACCEPT_OWN: Community = Community(0xFFFF_0001);
    pub const LLGR_STALE: Community = Community(0xFFFF_0006);
    pub const NO_LLGR: Community = Community(0xFFFF_0007);
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    pub const NO_PEER: Community = Community(0xFFFF_FF04);

    pub fn new(asn: u16, value: u16) -> Community {
        Community((u32::from(asn) << 16) | u32::from(value))
    }
}

/// A large community (RFC 8092).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    pub global: u32,
    pub local1: u32,
    pub local2: u32,
}

/// AGGREGATOR attribute (type 7), logical (4-octet AS) form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// An attribute this codec does not model, kept byte for byte so that optional
/// transitive attributes pass through (with the Partial bit set when re-sent).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Vec<u8>,
}

/// MP_REACH_NLRI (type 14).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReach {
    pub family: Family,
    /// One next hop, or for IPv6 a global and a link-local one.
    pub next_hops: Vec<IpAddr>,
    pub nlri: Vec<Prefix>,
}

/// MP_UNREACH_NLRI (type 15).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreach {
    pub family: Family,
    pub withdrawn: Vec<Prefix>,
}

/// MP_REACH_NLRI (type 14) of a flow family, SAFI 133 or 134 (RFC 8955 §4, §8).
/// The actions travel as extended communities in the same UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowReach {
    /// AFI 1 or 2, SAFI 133 or 134; the NLRI carry a route distinguisher with 134.
    pub family: Family,
    /// Empty: RFC 8955 §4 says the next hop length "MUST be set to 0 upon
    /// transmission". A received next hop (4, 16 or 32 octets, sent by speakers of
    /// draft-simpson redirect-to-nexthop) is kept for display; others are ignored.
    pub next_hops: Vec<IpAddr>,
    pub nlri: Vec<super::flow::FlowNlri>,
}

/// MP_UNREACH_NLRI (type 15) of a flow family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowUnreach {
    pub family: Family,
    pub withdrawn: Vec<super::flow::FlowNlri>,
}

/// The path attributes of an UPDATE, logical form. `Default` is "no attributes".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    pub origin: Option<Origin>,
    pub as_path: Option<AsPath>,
    /// NEXT_HOP (type 3): IPv4 only; IPv6 next hops travel in `mp_reach`.
    pub next_hop: Option<Ipv4Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    pub aggregator: Option<Aggregator>,
    pub communities: Vec<Community>,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list: Vec<Ipv4Addr>,
    pub ext_communities: Vec<ExtCommunity>,
    pub large_communities: Vec<LargeCommunity>,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    /// MP_REACH_NLRI of a flow family (instead of `mp_reach`: an UPDATE carries one
    /// MP_REACH_NLRI; the encoder refuses both).
    pub flow_reach: Option<FlowReach>,
    /// MP_UNREACH_NLRI of a flow family with rules (an empty one, End-of-RIB, stays
    /// in `mp_unreach`); the encoder refuses it beside `mp_unreach`.
    pub flow_unreach: Option<FlowUnreach>,
    /// Attributes not modelled above, in the order received.
    pub unknown: Vec<RawAttribute>,
    /// The families of the MP_REACH_NLRI / MP_UNREACH_NLRI attributes (with
    /// routes) that the decoder skipped unparsed because the session did not
    /// negotiate them (RFC 4760 §8, see [`super::decode_message_negotiated`]).
    /// Never encoded; the session counts and clears it.
    pub unnegotiated: Vec<Family>,
}

/// Capabilities advertised in OPEN (RFC 5492).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    /// RFC 4760, code 1.
    Multiprotocol(Family),
    /// RFC 2918, code 2.
    RouteRefresh,
    /// RFC 8654, code 6.
    ExtendedMessage,
    /// RFC 6793, code 65.
    FourOctetAs(u32),
    /// RFC 4724 §3, code 64.
    GracefulRestart(GracefulRestart),
    /// Anything else (add-path, enhanced refresh, ...), kept raw.
    Unknown { code: u8, value: Vec<u8> },
}

/// The Graceful Restart capability (RFC 4724 §3):
///
/// ```text
/// +--------------------------------------------------+
/// | Restart Flags (4 bits) | Restart Time (12 bits)  |
/// +--------------------------------------------------+
/// | AFI (2) | SAFI (1) | Flags for Address Family (1) |   repeated
/// +--------------------------------------------------+
/// ```
///
/// Flags are kept as received (reserved bits included) so the capability
/// re-encodes byte for byte; the accessors read the bits RFC 4724 defines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GracefulRestart {
    /// The 4 Restart Flags bits (R is 0b1000).
    pub flags: u8,
    /// Seconds the sender asks its peer to keep its routes (12 bits).
    pub restart_time: u16,
    /// The families for which the sender can preserve its forwarding state, each
    /// with its flags octet (F is 0x80).
    pub families: Vec<(Family, u8)>,
}

impl GracefulRestart {
    /// Restart State (R) bit: "the BGP speaker has restarted" (RFC 4724 §3).
    pub const RESTART_STATE: u8 = 0b1000;
    /// Forwarding State (F) bit of a family's flags (RFC 4724 §3).
    pub const FORWARDING_STATE: u8 = 0x80;

    pub fn restart_state(&self) -> bool {
        self.flags & Self::RESTART_STATE != 0
    }

    /// Whether `family` is listed with its F bit set.
    pub fn forwarding_preserved(&self, family: Family) -> bool {
        self.families
            .iter()
            .any(|(f, flags)| *f == family && flags & Self::FORWARDING_STATE != 0)
    }

    /// The capability's value octets.
    pub fn value(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(2 + 4 * self.families.len());
        let head = (u16::from(self.flags & 0x0F) << 12) | (self.restart_time & 0x0FFF);
        v.extend_from_slice(&head.to_be_bytes());
        for (f, flags) in &self.families {
            v.extend_from_slice(&f.afi.code().to_be_bytes());
            v.push(f.safi.code());
            v.push(*flags);
        }
        v
    }

    /// Parses a capability value; None when its length is not 2 + 4n.
    pub fn from_value(value: &[u8]) -> Option<GracefulRestart> {
        let [a, b, rest @ ..] = value else {
            return None;
        };
        if rest.len() % 4 != 0 {
            return None;
        }
        let families = rest
            .chunks_exact(4)
            .map(|c| {
                (
                    Family::from_codes(u16::from_be_bytes([c[0], c[1]]), c[2]),
                    c[3],
                )
            })
            .collect();
        Some(GracefulRestart {
            flags: a >> 4,
            restart_time: u16::from_be_bytes([a & 0x0F, *b]),
            families,
        })
    }
}

/// OPEN message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub version: u8,
    /// The speaker's AS: from the 4-octet AS capability when present, else the 2-octet
    /// field. When encoding, a value above 65535 puts AS_TRANS (23456) in the field.
    pub my_as: u32,
    pub hold_time: u16,
    pub router_id: Ipv4Addr,
    pub capabilities: Vec<Capability>,
}

/// UPDATE message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// IPv4 withdrawn routes (the classic field).
    pub withdrawn: Vec<Prefix>,
    pub attributes: PathAttributes,
    /// IPv4 NLRI (the classic field).
    pub nlri: Vec<Prefix>,
    /// Set by the decoder when RFC 7606 says "treat-as-withdraw": every prefix the
    /// message announced has been moved to the withdrawn lists (classic and MP) and
    /// the reason is given here. Never set on messages we build.
    pub treat_as_withdraw: Option<String>,
}

impl Update {
    /// An End-of-RIB marker (RFC 4724) for the family?
    pub fn end_of_rib(&self) -> Option<Family> {
        let a = &self.attributes;
        if self.treat_as_withdraw.is_some() {
            return None;
        }
        if self.withdrawn.is_empty() && self.nlri.is_empty() && *a == PathAttributes::default() {
            return Some(Family::IPV4_UNICAST);
        }
        if self.withdrawn.is_empty() && self.nlri.is_empty() {
            if let Some(u) = &a.mp_unreach {
                let only = PathAttributes {
                    mp_unreach: Some(u.clone()),
                    ..Default::default()
                };
                if u.withdrawn.is_empty() && *a == only {
                    return Some(u.family);
                }
            }
        }
        None
    }
}

/// NOTIFICATION message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

/// ROUTE-REFRESH message (RFC 2918).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRefresh {
    pub family: Family,
    /// RFC 7313 message subtype (0 = normal request).
    pub subtype: u8,
}

/// Any BGP message.
// UPDATE is the message that matters in volume; boxing it would cost an allocation
// per message to save stack space on the rare OPEN/KEEPALIVE.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

/// What the codec needs to know about the session, fixed after OPEN negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecOptions {
    /// Both sides advertised the 4-octet AS capability (RFC 6793).
    pub four_octet_as: bool,
    /// Both sides advertised the extended message capability (RFC 8654): 65535 bytes.
    pub extended_message: bool,
}

impl CodecOptions {
    /// Before OPEN negotiation: 2-octet AS paths, 4096-byte messages.
    pub const INITIAL: CodecOptions = CodecOptions {
        four_octet_as: false,
        extended_message: false,
    };

    /// Largest message allowed on the wire.
    pub fn max_message_len(&self) -> usize {
        if self.extended_message {
            65535
        } else {
            4096
        }
    }
}
