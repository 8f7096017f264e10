//! FlowSpec: the flow specification NLRI (RFC 8955 for IPv4, RFC 8956 for IPv6,
//! SAFI 133 and 134 "flow-vpn") and the traffic filtering actions carried as
//! extended communities (RFC 8955 §7, draft-simpson / draft-ietf-idr-flowspec-
//! redirect-ip). Pure functions over bytes and text; nothing here is wired into
//! UPDATE handling, the RIB, the config or the API yet (issue 12, later steps).
//!
//! - `component`: [`Component`] (type codes 1-13), [`NumericMatch`],
//!   [`BitmaskMatch`], [`FlowPrefix`] (with the IPv6 offset).
//! - `wire`: [`decode_flow_nlri`] / [`encode_flow_nlri`]: the 1- or 2-octet
//!   length (`0xfnnn` from 240 up to 4095, RFC 8955 §4.1), the route
//!   distinguisher for SAFI 134 (RFC 8955 §8), the components.
//! - `text`: the ExaBGP words: `Display`/`FromStr` of a rule in the match syntax
//!   (`destination 10.0.0.0/24 destination-port [ =80 =443 ] protocol tcp`) and
//!   the JSON names and strings ExaBGP 5.0 prints ("destination-port": ["=80"]).
//!   The name tables (protocols, ICMP types/codes, TCP flags, fragment bits) live
//!   there and nowhere else.
//! - `action`: [`FlowAction`] <-> [`ExtCommunity`](super::ExtCommunity).
//!
//! # What the caller must do with a malformed flow NLRI
//!
//! RFC 8955 §4.2: "An NLRI value not encoded as specified here, including an NLRI
//! that contains an unknown component type, is considered malformed and error
//! handling according to Section 10 is performed." §10: "Error handling according
//! to [RFC7606] and [RFC4760] applies". The flow NLRI travels in MP_REACH_NLRI /
//! MP_UNREACH_NLRI, and RFC 7606 §3 (j) makes an NLRI field that cannot be parsed
//! an "AFI/SAFI disable" (RFC 4760 §7) or "session reset"; treat-as-withdraw needs
//! the whole NLRI field parsed, which is impossible once one length is wrong.
//! Each flow NLRI carries its own length, so when only the *content* of one is
//! malformed (components out of order, unknown type, bad operator length, prefix
//! too long) the NLRI after it can still be found: [`FlowDecodeError::is_delimited`]
//! says which case it is. ExaBGP drops just that NLRI and goes on; the session step
//! (not done yet) chooses between that, treat-as-withdraw of the UPDATE's flow
//! routes, and reset when the field cannot be walked. This module only reports.

mod action;
mod component;
mod text;
mod wire;

pub use action::{FlowAction, ParseFlowActionError};
pub use component::{BitmaskMatch, Component, FlowPrefix, NumericMatch};
pub use text::{
    parse_rd, rd_text, ParseFlowError, FRAGMENT_NAMES, ICMP_CODE_NAMES, ICMP_TYPE_NAMES,
};
pub use text::{PROTOCOL_NAMES, TCP_FLAG_NAMES};
pub use wire::FLOW_NLRI_MAX_LEN;
pub use wire::{decode_flow_field, decode_flow_nlri, decode_flow_nlris, encode_flow_nlri};

use super::family::{Afi, Family, Safi};

/// SAFI 133, dissemination of flow specification rules (RFC 8955 §4).
pub const SAFI_FLOWSPEC: u8 = 133;
/// SAFI 134, flow specification rules for VPNs (RFC 8955 §8).
pub const SAFI_FLOWSPEC_VPN: u8 = 134;

// The families stay `Safi::Other(133/134)` so nothing that matches on `Safi`
// elsewhere in the tree changes behaviour; these names are for the callers to come.
impl Family {
    pub const IPV4_FLOW: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::Other(SAFI_FLOWSPEC),
    };
    pub const IPV6_FLOW: Family = Family {
        afi: Afi::Ipv6,
        safi: Safi::Other(SAFI_FLOWSPEC),
    };
    pub const IPV4_FLOW_VPN: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::Other(SAFI_FLOWSPEC_VPN),
    };
    pub const IPV6_FLOW_VPN: Family = Family {
        afi: Afi::Ipv6,
        safi: Safi::Other(SAFI_FLOWSPEC_VPN),
    };

    /// AFI 1 or 2 with SAFI 133 or 134: a family whose NLRI are flow rules.
    pub fn is_flow(self) -> bool {
        matches!(self.afi, Afi::Ipv4 | Afi::Ipv6)
            && matches!(
                self.safi,
                Safi::Other(SAFI_FLOWSPEC) | Safi::Other(SAFI_FLOWSPEC_VPN)
            )
    }

    /// SAFI 134: the flow NLRI carry a route distinguisher.
    pub fn is_flow_vpn(self) -> bool {
        self.safi == Safi::Other(SAFI_FLOWSPEC_VPN)
    }
}

/// A flow rule: the components ANDed together (RFC 8955 §4.2). A decoded rule has
/// its components in increasing type order, at most one of each type; the
/// encoder sorts, so a rule built by hand may list them in any order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowRule {
    /// IPv6 rules (RFC 8956) encode prefixes with an offset and allow type 13.
    pub ipv6: bool,
    pub components: Vec<Component>,
}

impl FlowRule {
    /// The same rule with the components in type order (what decode returns).
    pub fn sorted(mut self) -> FlowRule {
        self.components.sort_by_key(Component::code);
        self
    }

    pub fn afi(&self) -> Afi {
        if self.ipv6 {
            Afi::Ipv6
        } else {
            Afi::Ipv4
        }
    }
}

/// One flow NLRI: a rule, with the route distinguisher for SAFI 134.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowNlri {
    /// The 8-octet route distinguisher (RFC 4364 §4.2) of flow-vpn, kept as bytes;
    /// None for SAFI 133.
    pub rd: Option<[u8; 8]>,
    pub rule: FlowRule,
}

impl FlowNlri {
    /// ipv4/ipv6 flow, or flow-vpn with a route distinguisher.
    pub fn family(&self) -> Family {
        Family {
            afi: self.rule.afi(),
            safi: Safi::Other(if self.rd.is_some() {
                SAFI_FLOWSPEC_VPN
            } else {
                SAFI_FLOWSPEC
            }),
        }
    }
}

/// A flow NLRI that is malformed (RFC 8955 §4.2; see the module header for what
/// the caller does with it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowDecodeError {
    /// The length field runs past the end of the NLRI field.
    #[error("flow NLRI: length {length} but only {available} octets left")]
    LengthOverrun { length: usize, available: usize },
    /// The field ends inside the length itself.
    #[error("flow NLRI: truncated length field")]
    TruncatedLength,
    /// A length of 0, or only a route distinguisher: "<[component]+>" needs one.
    #[error("flow NLRI: no component")]
    Empty,
    /// SAFI 134 with fewer than 8 octets for the route distinguisher.
    #[error("flow NLRI: {length} octets cannot hold the 8-octet route distinguisher")]
    ShortRouteDistinguisher { length: usize },
    /// RFC 8955 §4.2: "Components MUST follow strict type ordering by increasing
    /// numerical order" (a repeated type is also out of order).
    #[error("flow NLRI: component type {found} after type {previous} (strict increasing order required)")]
    OutOfOrder { previous: u8, found: u8 },
    /// A type code this AFI does not define (0, above 12 on IPv4, above 13 on IPv6).
    #[error("flow NLRI: unknown component type {code} for {afi}")]
    UnknownComponent { code: u8, afi: &'static str },
    /// An operator whose value length is longer than the component allows.
    #[error("flow NLRI: component type {code}: operator 0x{op:02x} gives a {length}-octet value, at most {max} allowed")]
    BadOperatorLength {
        code: u8,
        op: u8,
        length: usize,
        max: usize,
    },
    /// A prefix length over 32 (IPv4) or 128 (IPv6).
    #[error("flow NLRI: component type {code}: prefix length {len} over {max}")]
    PrefixTooLong { code: u8, len: u8, max: u8 },
    /// RFC 8956 §3.1: the offset must be below the length (unless both are 0).
    #[error("flow NLRI: component type {code}: offset {offset} not below length {len}")]
    BadOffset { code: u8, offset: u8, len: u8 },
    /// A component runs past the end of the NLRI (its length said less).
    #[error("flow NLRI: component type {code} runs past the end of the NLRI")]
    ComponentOverrun { code: u8 },
    /// An AFI other than IPv4 / IPv6.
    #[error("flow NLRI: unsupported AFI {0:?}")]
    UnsupportedAfi(Afi),
}

impl FlowDecodeError {
    /// True when the error is inside one NLRI whose length was readable, so the
    /// NLRI after it can still be found (treat-as-withdraw is possible); false
    /// when the NLRI field itself cannot be walked (session reset / AFI-SAFI
    /// disable, RFC 7606 §5.3).
    pub fn is_delimited(&self) -> bool {
        !matches!(
            self,
            FlowDecodeError::LengthOverrun { .. }
                | FlowDecodeError::TruncatedLength
                | FlowDecodeError::UnsupportedAfi(_)
        )
    }
}

/// A rule that cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowEncodeError {
    /// RFC 8955 §4.2: "A given component type MAY (exactly once) be present".
    /// Two components of one type are refused rather than merged: ANDing two
    /// lists is not the same as one list, and picking one would drop a match.
    #[error("flow rule: component type {code} given twice")]
    DuplicateComponent { code: u8 },
    /// A rule without components.
    #[error("flow rule: no component")]
    Empty,
    /// A numeric or bitmask component without any operator.
    #[error("flow rule: component type {code} has no value")]
    EmptyComponent { code: u8 },
    /// A value that does not fit the component's largest value length.
    #[error("flow rule: component type {code}: value {value} longer than {max} octet(s)")]
    ValueTooLarge { code: u8, value: u64, max: usize },
    /// A prefix of the other family, or type 13 in an IPv4 rule.
    #[error("flow rule: component type {code} does not belong in an {afi} rule")]
    WrongFamily { code: u8, afi: &'static str },
    /// Over 4095 octets, the most the 2-octet length can say (RFC 8955 §4.1).
    #[error("flow rule: {length} octets, more than the 4095 a flow NLRI can hold")]
    TooLong { length: usize },
}

pub(crate) fn afi_name(ipv6: bool) -> &'static str {
    if ipv6 {
        "ipv6"
    } else {
        "ipv4"
    }
}
