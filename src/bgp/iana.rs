//! IANA numbers of the BGP registries this codec speaks: message types, attribute
//! type codes and flags, capability codes, AFI/SAFI values, NOTIFICATION error
//! codes and subcodes. Every NOTIFICATION the crate builds or reads names its code
//! and subcode from here.

use super::types::{Afi, Family, Safi};

/// BGP message types (RFC 4271 §4.1, RFC 2918).
pub const MSG_OPEN: u8 = 1;
pub const MSG_UPDATE: u8 = 2;
pub const MSG_NOTIFICATION: u8 = 3;
pub const MSG_KEEPALIVE: u8 = 4;
pub const MSG_ROUTE_REFRESH: u8 = 5;

/// Length of the fixed message header: marker (16) + length (2) + type (1).
pub const HEADER_LEN: usize = 19;
/// The largest message an RFC 4271 speaker accepts without RFC 8654.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// The largest message with the extended message capability (RFC 8654).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

/// Attribute flag bits (RFC 4271 §4.3).
pub const FLAG_OPTIONAL: u8 = 0x80;
pub const FLAG_TRANSITIVE: u8 = 0x40;
pub const FLAG_PARTIAL: u8 = 0x20;
pub const FLAG_EXTENDED_LENGTH: u8 = 0x10;

/// Path attribute type codes.
pub const ATTR_ORIGIN: u8 = 1;
pub const ATTR_AS_PATH: u8 = 2;
pub const ATTR_NEXT_HOP: u8 = 3;
pub const ATTR_MED: u8 = 4;
pub const ATTR_LOCAL_PREF: u8 = 5;
pub const ATTR_ATOMIC_AGGREGATE: u8 = 6;
pub const ATTR_AGGREGATOR: u8 = 7;
pub const ATTR_COMMUNITIES: u8 = 8;
pub const ATTR_ORIGINATOR_ID: u8 = 9;
pub const ATTR_CLUSTER_LIST: u8 = 10;
pub const ATTR_MP_REACH: u8 = 14;
pub const ATTR_MP_UNREACH: u8 = 15;
pub const ATTR_EXT_COMMUNITIES: u8 = 16;
pub const ATTR_AS4_PATH: u8 = 17;
pub const ATTR_AS4_AGGREGATOR: u8 = 18;
pub const ATTR_LARGE_COMMUNITIES: u8 = 32;

/// The attribute types this codec models (anything else is kept raw or dropped).
pub fn is_modelled_attribute(type_code: u8) -> bool {
    matches!(type_code, 1..=10 | 14..=18 | 32)
}

/// The Optional and Transitive bits an attribute must carry (RFC 7606 §3 c checks them).
pub fn expected_flags(type_code: u8) -> Option<u8> {
    let wk = FLAG_TRANSITIVE;
    let opt_trans = FLAG_OPTIONAL | FLAG_TRANSITIVE;
    let opt_non = FLAG_OPTIONAL;
    Some(match type_code {
        ATTR_ORIGIN | ATTR_AS_PATH | ATTR_NEXT_HOP | ATTR_LOCAL_PREF | ATTR_ATOMIC_AGGREGATE => wk,
        ATTR_MED | ATTR_ORIGINATOR_ID | ATTR_CLUSTER_LIST | ATTR_MP_REACH | ATTR_MP_UNREACH => {
            opt_non
        }
        ATTR_AGGREGATOR
        | ATTR_COMMUNITIES
        | ATTR_EXT_COMMUNITIES
        | ATTR_AS4_PATH
        | ATTR_AS4_AGGREGATOR
        | ATTR_LARGE_COMMUNITIES => opt_trans,
        _ => return None,
    })
}

/// NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313).
pub const ERR_HEADER: u8 = 1;
pub const ERR_OPEN: u8 = 2;
pub const ERR_UPDATE: u8 = 3;
pub const ERR_HOLD_TIMER: u8 = 4;
pub const ERR_FSM: u8 = 5;
pub const ERR_CEASE: u8 = 6;
pub const ERR_ROUTE_REFRESH: u8 = 7;

/// Subcode 0, "Unspecific": every code without a more precise subcode (Hold Timer
/// Expired has none at all, RFC 4271 §6.5).
pub const SUBCODE_UNSPECIFIC: u8 = 0;

/// Message Header Error subcodes (RFC 4271 §6.1).
pub const HEADER_NOT_SYNCHRONIZED: u8 = 1;
pub const HEADER_BAD_LENGTH: u8 = 2;
pub const HEADER_BAD_TYPE: u8 = 3;

/// OPEN Message Error subcodes (RFC 4271 §6.2).
pub const OPEN_UNSUPPORTED_VERSION: u8 = 1;
pub const OPEN_BAD_PEER_AS: u8 = 2;
pub const OPEN_BAD_BGP_IDENTIFIER: u8 = 3;
pub const OPEN_UNSUPPORTED_PARAMETER: u8 = 4;
pub const OPEN_UNACCEPTABLE_HOLD_TIME: u8 = 6;

/// UPDATE Message Error subcodes (RFC 4271 §6.3).
pub const UPDATE_MALFORMED_ATTRIBUTE_LIST: u8 = 1;
pub const UPDATE_UNRECOGNIZED_WELL_KNOWN: u8 = 2;
pub const UPDATE_ATTRIBUTE_FLAGS: u8 = 4;
pub const UPDATE_OPTIONAL_ATTRIBUTE: u8 = 9;
pub const UPDATE_INVALID_NETWORK_FIELD: u8 = 10;

/// Finite State Machine Error subcodes (RFC 6608): the state that received the
/// unexpected message.
pub const FSM_IN_OPENSENT: u8 = 1;
pub const FSM_IN_OPENCONFIRM: u8 = 2;
pub const FSM_IN_ESTABLISHED: u8 = 3;

/// Cease subcodes (RFC 4486); 2 and 4 carry a shutdown communication (RFC 8203,
/// RFC 9003).
pub const CEASE_MAX_PREFIX: u8 = 1;
pub const CEASE_ADMIN_SHUTDOWN: u8 = 2;
pub const CEASE_PEER_DECONFIGURED: u8 = 3;
pub const CEASE_ADMIN_RESET: u8 = 4;
pub const CEASE_CONFIG_CHANGE: u8 = 6;
pub const CEASE_COLLISION: u8 = 7;

/// ROUTE-REFRESH Message Error subcode (RFC 7313 §5).
pub const ROUTE_REFRESH_INVALID_LENGTH: u8 = 1;

/// Optional parameter type: capabilities (RFC 5492).
pub const PARAM_CAPABILITIES: u8 = 2;
/// RFC 9072: an Optional Parameters Length of 255 followed by this type announces
/// the extended (2-octet length) form.
pub const PARAM_EXTENDED: u8 = 255;

/// Capability codes.
pub const CAP_MULTIPROTOCOL: u8 = 1;
pub const CAP_ROUTE_REFRESH: u8 = 2;
pub const CAP_EXTENDED_MESSAGE: u8 = 6;
pub const CAP_GRACEFUL_RESTART: u8 = 64;
pub const CAP_FOUR_OCTET_AS: u8 = 65;

/// AS_TRANS (RFC 6793): stands in for a 4-octet AS toward a 2-octet speaker.
pub const AS_TRANS: u32 = 23456;

/// AS_PATH segment types (RFC 4271, RFC 5065).
pub const SEG_SET: u8 = 1;
pub const SEG_SEQUENCE: u8 = 2;
pub const SEG_CONFED_SEQUENCE: u8 = 3;
pub const SEG_CONFED_SET: u8 = 4;

impl Afi {
    /// The AFI for an IANA value (1 and 2 always map to the named variants).
    pub fn from_code(code: u16) -> Afi {
        match code {
            1 => Afi::Ipv4,
            2 => Afi::Ipv6,
            n => Afi::Other(n),
        }
    }

    /// The IANA value.
    pub fn code(self) -> u16 {
        match self {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
            Afi::Other(n) => n,
        }
    }
}

impl Safi {
    /// The SAFI for an IANA value (1 always maps to `Unicast`).
    pub fn from_code(code: u8) -> Safi {
        match code {
            1 => Safi::Unicast,
            n => Safi::Other(n),
        }
    }

    /// The IANA value.
    pub fn code(self) -> u8 {
        match self {
            Safi::Unicast => 1,
            Safi::Other(n) => n,
        }
    }
}

impl Family {
    /// The family for IANA AFI and SAFI values.
    pub fn from_codes(afi: u16, safi: u8) -> Family {
        Family {
            afi: Afi::from_code(afi),
            safi: Safi::from_code(safi),
        }
    }

    /// IPv4 unicast or IPv6 unicast: the families whose NLRI this codec parses.
    pub fn is_supported(self) -> bool {
        self == Family::IPV4_UNICAST || self == Family::IPV6_UNICAST
    }
}
