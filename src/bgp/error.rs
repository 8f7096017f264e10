//! Codec errors. A `DecodeError` *is* the NOTIFICATION to send back (RFC 4271 §6,
//! RFC 7606): `notification()` builds it with the prescribed code, subcode and data.
//! RFC 7606 outcomes that do not reset the session (treat-as-withdraw, attribute
//! discard) are not errors: they are reported inside the decoded `Update`.

use super::iana::*;
use super::types::Notification;

/// A received message that resets the session. Each variant names the RFC 4271 §6
/// (or RFC 7313) case and keeps what the NOTIFICATION's Data field must carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// §6.1: the marker is not all ones.
    #[error("message header: marker is not all ones (connection not synchronized)")]
    ConnectionNotSynchronized,
    /// §6.1: length below 19, above the maximum, or wrong for the type.
    #[error("message header: bad message length {length}")]
    BadMessageLength { length: u16 },
    /// §6.1: a message type we do not know.
    #[error("message header: bad message type {msg_type}")]
    BadMessageType { msg_type: u8 },

    /// §6.1 length error in a message whose type is NOTIFICATION (shorter than 21
    /// octets, or longer than the maximum). §6.4: it is logged and the connection
    /// closed, never answered with a NOTIFICATION (see [`DecodeError::reply`]).
    #[error("NOTIFICATION: bad message length {length} (closing without a reply, RFC 4271 §6.4)")]
    MalformedNotification { length: u16 },

    /// §6.2: version other than 4; Data carries the version we support.
    #[error("OPEN: unsupported version {version} (we speak 4)")]
    UnsupportedVersion { version: u8 },
    /// §6.2 / RFC 7607: AS 0 in OPEN.
    #[error("OPEN: bad peer AS {asn}")]
    BadPeerAs { asn: u32 },
    /// §6.2 / RFC 6286: BGP identifier 0.
    #[error("OPEN: bad BGP identifier {id}")]
    BadBgpIdentifier { id: std::net::Ipv4Addr },
    /// §6.2: an optional parameter other than capabilities.
    #[error("OPEN: unsupported optional parameter type {param_type}")]
    UnsupportedOptionalParameter { param_type: u8 },
    /// §6.2: hold time 1 or 2 seconds.
    #[error("OPEN: unacceptable hold time {hold_time}")]
    UnacceptableHoldTime { hold_time: u16 },
    /// An OPEN whose optional parameters do not parse (subcode 0, unspecific).
    #[error("OPEN: malformed: {reason}")]
    MalformedOpen { reason: &'static str },

    /// §6.3: lengths inside the UPDATE do not add up; duplicate MP_(UN)REACH
    /// (RFC 7606 §3 g); an attribute overrunning the attribute block.
    #[error("UPDATE: malformed attribute list: {reason}")]
    MalformedAttributeList { reason: &'static str },
    /// §6.3: an unknown attribute with the Optional bit clear; Data is the attribute.
    #[error("UPDATE: unrecognized well-known attribute {type_code}")]
    UnrecognizedWellKnown { type_code: u8, attribute: Vec<u8> },
    /// §6.3 / RFC 7606 §3 c: flags in conflict with the type, where the error
    /// cannot be handled by treat-as-withdraw (MP_REACH / MP_UNREACH).
    #[error("UPDATE: attribute flags error on attribute {type_code}")]
    AttributeFlags { type_code: u8, attribute: Vec<u8> },
    /// §6.3 / RFC 4760 §7: MP_REACH_NLRI / MP_UNREACH_NLRI that cannot be parsed.
    #[error("UPDATE: optional attribute error on attribute {type_code}: {reason}")]
    OptionalAttribute {
        type_code: u8,
        reason: &'static str,
        attribute: Vec<u8>,
    },
    /// §6.3: the NLRI or withdrawn routes field is syntactically incorrect.
    #[error("UPDATE: invalid network field: {reason}")]
    InvalidNetworkField { reason: &'static str },

    /// RFC 7313 §5: a ROUTE-REFRESH of the wrong length; Data is the message.
    #[error("ROUTE-REFRESH: invalid message length {length}")]
    RouteRefreshLength { length: u16, message: Vec<u8> },
}

impl DecodeError {
    /// NOTIFICATION error code.
    pub fn code(&self) -> u8 {
        use DecodeError::*;
        match self {
            ConnectionNotSynchronized
            | BadMessageLength { .. }
            | BadMessageType { .. }
            | MalformedNotification { .. } => ERR_HEADER,
            UnsupportedVersion { .. }
            | BadPeerAs { .. }
            | BadBgpIdentifier { .. }
            | UnsupportedOptionalParameter { .. }
            | UnacceptableHoldTime { .. }
            | MalformedOpen { .. } => ERR_OPEN,
            MalformedAttributeList { .. }
            | UnrecognizedWellKnown { .. }
            | AttributeFlags { .. }
            | OptionalAttribute { .. }
            | InvalidNetworkField { .. } => ERR_UPDATE,
            RouteRefreshLength { .. } => ERR_ROUTE_REFRESH,
        }
    }

    /// NOTIFICATION error subcode.
    pub fn subcode(&self) -> u8 {
        use DecodeError::*;
        match self {
            ConnectionNotSynchronized => HEADER_NOT_SYNCHRONIZED,
            BadMessageLength { .. } | MalformedNotification { .. } => HEADER_BAD_LENGTH,
            BadMessageType { .. } => HEADER_BAD_TYPE,
            UnsupportedVersion { .. } => OPEN_UNSUPPORTED_VERSION,
            BadPeerAs { .. } => OPEN_BAD_PEER_AS,
            BadBgpIdentifier { .. } => OPEN_BAD_BGP_IDENTIFIER,
            UnsupportedOptionalParameter { .. } => OPEN_UNSUPPORTED_PARAMETER,
            UnacceptableHoldTime { .. } => OPEN_UNACCEPTABLE_HOLD_TIME,
            MalformedOpen { .. } => SUBCODE_UNSPECIFIC,
            MalformedAttributeList { .. } => UPDATE_MALFORMED_ATTRIBUTE_LIST,
            UnrecognizedWellKnown { .. } => UPDATE_UNRECOGNIZED_WELL_KNOWN,
            AttributeFlags { .. } => UPDATE_ATTRIBUTE_FLAGS,
            OptionalAttribute { .. } => UPDATE_OPTIONAL_ATTRIBUTE,
            InvalidNetworkField { .. } => UPDATE_INVALID_NETWORK_FIELD,
            RouteRefreshLength { .. } => ROUTE_REFRESH_INVALID_LENGTH,
        }
    }

    /// What to send before closing: the NOTIFICATION, or nothing when the
    /// offending message was itself a NOTIFICATION (RFC 4271 §6.4: "the receiver
    /// cannot use a NOTIFICATION message to report this error back to the peer").
    pub fn reply(&self) -> Option<Notification> {
        match self {
            DecodeError::MalformedNotification { .. } => None,
            _ => Some(self.notification()),
        }
    }

    /// The NOTIFICATION this error corresponds to (RFC 4271 §6: code, subcode and
    /// the Data each case prescribes). Whether it may be sent is [`Self::reply`].
    pub fn notification(&self) -> Notification {
        use DecodeError::*;
        let data = match self {
            BadMessageLength { length } | MalformedNotification { length } => {
                length.to_be_bytes().to_vec()
            }
            BadMessageType { msg_type } => vec![*msg_type],
            // "the largest, locally-supported version number less than the version
            // the remote BGP peer bid" — we only have 4.
            UnsupportedVersion { .. } => 4u16.to_be_bytes().to_vec(),
            UnrecognizedWellKnown { attribute, .. }
            | AttributeFlags { attribute, .. }
            | OptionalAttribute { attribute, .. } => attribute.clone(),
            RouteRefreshLength { message, .. } => message.clone(),
            _ => Vec::new(),
        };
        Notification {
            code: self.code(),
            subcode: self.subcode(),
            data,
        }
    }
}

/// A message we were asked to build cannot go on the wire as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    TooLong { len: usize, max: usize },
    #[error("{what} is too long for its length field ({len} bytes, at most {max})")]
    FieldTooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("prefix {prefix} does not belong to {family}")]
    FamilyMismatch {
        prefix: super::types::Prefix,
        family: super::types::Family,
    },
    #[error("family {0} is not supported for NLRI (ipv4 unicast and ipv6 unicast are)")]
    UnsupportedFamily(super::types::Family),
    #[error("invalid next hop: {0}")]
    NextHop(&'static str),
    #[error("the well-known mandatory attribute {0} is missing")]
    MissingMandatory(&'static str),
    #[error("OPEN: {0}")]
    Open(&'static str),
    #[error("unknown attribute with type code {0} collides with a modelled attribute")]
    ModelledTypeCode(u8),
    #[error("{0}")]
    Flow(#[from] super::flow::FlowEncodeError),
    #[error("flow rules do not belong to family {0} (ipv4/ipv6 flow: no route distinguisher; flow-vpn: one)")]
    FlowFamily(super::types::Family),
    #[error("an UPDATE holds one MP_REACH_NLRI and one MP_UNREACH_NLRI: flow and {0} routes do not fit together")]
    TwoMpAttributes(&'static str),
}
