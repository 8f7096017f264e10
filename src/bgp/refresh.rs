//! ROUTE-REFRESH message body (RFC 2918 §3, subtypes from RFC 7313 §3).
//!
//! ```text
//! 0       7      15      23      31
//! +-------+-------+-------+-------+
//! |      AFI      | Subtyp| SAFI  |
//! +-------+-------+-------+-------+
//! ```

use super::error::DecodeError;
use super::types::{Family, RouteRefresh};

/// `message` is the whole message, header included (RFC 7313 §5 echoes it back).
pub(crate) fn decode(message: &[u8], body: &[u8]) -> Result<RouteRefresh, DecodeError> {
    match body {
        [a1, a2, subtype, safi] => Ok(RouteRefresh {
            family: Family::from_codes(u16::from_be_bytes([*a1, *a2]), *safi),
            subtype: *subtype,
        }),
        // RFC 7313 §5: BoRR / EoRR of the wrong length.
        [_, _, 1 | 2, ..] => Err(DecodeError::RouteRefreshLength {
            length: message.len() as u16,
            message: message.to_vec(),
        }),
        _ => Err(DecodeError::BadMessageLength {
            length: message.len() as u16,
        }),
    }
}

pub(crate) fn encode(r: &RouteRefresh, out: &mut Vec<u8>) {
    out.extend_from_slice(&r.family.afi.code().to_be_bytes());
    out.push(r.subtype);
    out.push(r.family.safi.code());
}
