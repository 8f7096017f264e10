//! The pieces of a flow rule: the component types of RFC 8955 §4.2.2 / RFC 8956 §3,
//! the numeric and bitmask operators (RFC 8955 §4.2.1), and the prefix with the
//! IPv6 offset (RFC 8956 §3.1).
//!
//! Operator byte layout (RFC 8955 §4.2.1.1 numeric, §4.2.1.2 bitmask):
//!
//! ```text
//!   0   1   2   3   4   5   6   7          0   1   2   3   4   5   6   7
//! +---+---+---+---+---+---+---+---+      +---+---+---+---+---+---+---+---+
//! | e | a |  len  | 0 |lt |gt |eq |      | e | a |  len  | 0 | 0 |not| m |
//! +---+---+---+---+---+---+---+---+      +---+---+---+---+---+---+---+---+
//! ```
//!
//! `e` (end of list) is not stored: the position in the list says it. `len` is not
//! stored either: the encoder writes the shortest of 1/2/4/8 octets that holds the
//! value (and refuses a value longer than the component allows); the decoder accepts
//! any length up to the component's maximum. The reserved bits "MUST be set to 0 on
//! NLRI encoding and MUST be ignored during decoding" (RFC 8955 §4.2.1), so they
//! are dropped on decode.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One numeric comparison (RFC 8955 §4.2.1.1): `value` compared with lt/gt/eq;
/// `and` joins it to the previous comparison with AND instead of OR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NumericMatch {
    /// AND with the previous comparison (the `a` bit); meaningless on the first,
    /// which the decoder and the encoder both leave at false.
    pub and: bool,
    pub lt: bool,
    pub gt: bool,
    pub eq: bool,
    pub value: u64,
}

impl NumericMatch {
    /// `= value`, OR-ed with what comes before.
    pub fn eq(value: u64) -> NumericMatch {
        NumericMatch {
            and: false,
            lt: false,
            gt: false,
            eq: true,
            value,
        }
    }

    /// The lt/gt/eq bits as on the wire.
    pub fn op_bits(&self) -> u8 {
        u8::from(self.lt) << 2 | u8::from(self.gt) << 1 | u8::from(self.eq)
    }

    pub(crate) fn from_op(op: u8, value: u64) -> NumericMatch {
        NumericMatch {
            and: op & AND_BIT != 0,
            lt: op & 0x04 != 0,
            gt: op & 0x02 != 0,
            eq: op & 0x01 != 0,
            value,
        }
    }
}

/// One bitmask test (RFC 8955 §4.2.1.2): with `matches`, all bits of `value` must
/// be set in the packet ("=syn"), else at least one ("syn"); `not` negates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BitmaskMatch {
    /// AND with the previous test (the `a` bit); false on the first.
    pub and: bool,
    pub not: bool,
    pub matches: bool,
    pub value: u64,
}

impl BitmaskMatch {
    /// The not/m bits as on the wire.
    pub fn op_bits(&self) -> u8 {
        u8::from(self.not) << 1 | u8::from(self.matches)
    }

    pub(crate) fn from_op(op: u8, value: u64) -> BitmaskMatch {
        BitmaskMatch {
            and: op & AND_BIT != 0,
            not: op & 0x02 != 0,
            matches: op & 0x01 != 0,
            value,
        }
    }
}

pub(crate) const END_BIT: u8 = 0x80;
pub(crate) const AND_BIT: u8 = 0x40;

/// A destination or source prefix of a flow rule. IPv4 (RFC 8955 §4.2.2.1) has no
/// offset; IPv6 (RFC 8956 §3.1) matches bits `offset..len` of the address only.
/// Invariant (enforced by [`FlowPrefix::new`]): `len` fits the family, `offset` is
/// 0 for IPv4, `offset < len` unless both are 0 ("If length = 0 and offset = 0,
/// this component matches every address; otherwise, length MUST be strictly
/// greater than offset", RFC 8956 §3.1), and every bit outside `offset..len` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowPrefix {
    addr: IpAddr,
    len: u8,
    offset: u8,
}

// `len` is the prefix length in bits, not a container size.
#[allow(clippy::len_without_is_empty)]
impl FlowPrefix {
    /// A prefix; bits outside `offset..len` are cleared. None when the lengths
    /// break the invariant above.
    pub fn new(addr: IpAddr, len: u8, offset: u8) -> Option<FlowPrefix> {
        match addr {
            IpAddr::V4(a) => {
                if len > 32 || offset != 0 {
                    return None;
                }
                let v = u32::from(a) & mask32(len);
                Some(FlowPrefix {
                    addr: IpAddr::V4(Ipv4Addr::from(v)),
                    len,
                    offset,
                })
            }
            IpAddr::V6(a) => {
                if len > 128 || (offset >= len && !(len == 0 && offset == 0)) {
                    return None;
                }
                let v = u128::from(a) & mask128(len) & !mask128(offset);
                Some(FlowPrefix {
                    addr: IpAddr::V6(Ipv6Addr::from(v)),
                    len,
                    offset,
                })
            }
        }
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn len(&self) -> u8 {
        self.len
    }

    pub fn offset(&self) -> u8 {
        self.offset
    }

    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }
}

/// The `len` leading bits set.
pub(crate) fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// The `len` leading bits set.
pub(crate) fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

/// One component of a flow rule, by type code (RFC 8955 §4.2.2, RFC 8956 §3).
/// The lists are never empty on a decoded rule; the encoder refuses an empty one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Component {
    /// Type 1.
    Destination(FlowPrefix),
    /// Type 2.
    Source(FlowPrefix),
    /// Type 3: IP protocol (IPv4) / upper-layer protocol, "next-header" (IPv6).
    Protocol(Vec<NumericMatch>),
    /// Type 4: source or destination port.
    Port(Vec<NumericMatch>),
    /// Type 5.
    DestinationPort(Vec<NumericMatch>),
    /// Type 6.
    SourcePort(Vec<NumericMatch>),
    /// Type 7.
    IcmpType(Vec<NumericMatch>),
    /// Type 8.
    IcmpCode(Vec<NumericMatch>),
    /// Type 9.
    TcpFlags(Vec<BitmaskMatch>),
    /// Type 10: total IP packet length (IPv4) / payload length (IPv6).
    PacketLength(Vec<NumericMatch>),
    /// Type 11: DSCP (IPv4); ExaBGP calls it "traffic-class" on IPv6.
    Dscp(Vec<NumericMatch>),
    /// Type 12.
    Fragment(Vec<BitmaskMatch>),
    /// Type 13: IPv6 only (RFC 8956 §3.7).
    FlowLabel(Vec<NumericMatch>),
}

/// The operator class of a component type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Prefix,
    /// Numeric, with the largest value length in octets the type allows.
    Numeric(usize),
    /// Bitmask, with the largest value length in octets.
    Bitmask(usize),
}

/// The class and maximum value length of each type code (RFC 8955 §4.2.2.3-12:
/// protocol, ICMP type/code, DSCP "1-octet"; ports and packet length "1- or
/// 2-octet"; TCP flags 1 or 2 octets; fragment 1 octet; RFC 8956 §3.7 flow label
/// up to 4 octets). None for an unknown type or 13 on IPv4.
pub(crate) fn kind_of(code: u8, ipv6: bool) -> Option<Kind> {
    Some(match code {
        1 | 2 => Kind::Prefix,
        3 | 7 | 8 | 11 => Kind::Numeric(1),
        4..=6 | 10 => Kind::Numeric(2),
        9 => Kind::Bitmask(2),
        12 => Kind::Bitmask(1),
        13 if ipv6 => Kind::Numeric(4),
        _ => return None,
    })
}

impl Component {
    /// The type code on the wire.
    pub fn code(&self) -> u8 {
        match self {
            Component::Destination(_) => 1,
            Component::Source(_) => 2,
            Component::Protocol(_) => 3,
            Component::Port(_) => 4,
            Component::DestinationPort(_) => 5,
            Component::SourcePort(_) => 6,
            Component::IcmpType(_) => 7,
            Component::IcmpCode(_) => 8,
            Component::TcpFlags(_) => 9,
            Component::PacketLength(_) => 10,
            Component::Dscp(_) => 11,
            Component::Fragment(_) => 12,
            Component::FlowLabel(_) => 13,
        }
    }

    /// Builds a numeric component from its code; None for another class.
    pub(crate) fn numeric(code: u8, list: Vec<NumericMatch>) -> Option<Component> {
        Some(match code {
            3 => Component::Protocol(list),
            4 => Component::Port(list),
            5 => Component::DestinationPort(list),
            6 => Component::SourcePort(list),
            7 => Component::IcmpType(list),
            8 => Component::IcmpCode(list),
            10 => Component::PacketLength(list),
            11 => Component::Dscp(list),
            13 => Component::FlowLabel(list),
            _ => return None,
        })
    }

    /// Builds a bitmask component from its code; None for another class.
    pub(crate) fn bitmask(code: u8, list: Vec<BitmaskMatch>) -> Option<Component> {
        Some(match code {
            9 => Component::TcpFlags(list),
            12 => Component::Fragment(list),
            _ => return None,
        })
    }

    /// The numeric list, for a numeric component.
    pub fn numeric_list(&self) -> Option<&[NumericMatch]> {
        match self {
            Component::Protocol(l)
            | Component::Port(l)
            | Component::DestinationPort(l)
            | Component::SourcePort(l)
            | Component::IcmpType(l)
            | Component::IcmpCode(l)
            | Component::PacketLength(l)
            | Component::Dscp(l)
            | Component::FlowLabel(l) => Some(l),
            _ => None,
        }
    }

    /// The bitmask list, for a bitmask component.
    pub fn bitmask_list(&self) -> Option<&[BitmaskMatch]> {
        match self {
            Component::TcpFlags(l) | Component::Fragment(l) => Some(l),
            _ => None,
        }
    }
}
