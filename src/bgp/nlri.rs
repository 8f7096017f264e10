//! Prefix encoding (RFC 4271 §4.3, RFC 4760 §5): a length in bits followed by the
//! fewest octets that hold it.
//!
//! ```text
//! +---------------------------+
//! |   Length (1 octet)        |
//! +---------------------------+
//! |   Prefix (variable)       |
//! +---------------------------+
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::types::{Afi, Prefix};

/// Why a prefix list did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NlriError {
    /// The length byte is longer than the address family allows.
    TooLong,
    /// The prefix octets run past the end of the field.
    Truncated,
}

impl NlriError {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            NlriError::TooLong => "prefix length longer than the address",
            NlriError::Truncated => "prefix runs past the end of the field",
        }
    }
}

/// Octets a prefix takes on the wire, length byte included.
pub(crate) fn encoded_len(p: &Prefix) -> usize {
    1 + usize::from(p.len()).div_ceil(8)
}

/// Appends one prefix.
pub(crate) fn put_prefix(out: &mut Vec<u8>, p: &Prefix) {
    let n = usize::from(p.len()).div_ceil(8);
    out.push(p.len());
    match p.addr() {
        IpAddr::V4(a) => out.extend_from_slice(&a.octets()[..n]),
        IpAddr::V6(a) => out.extend_from_slice(&a.octets()[..n]),
    }
}

/// Parses a whole field of prefixes of one address family (IPv4 or IPv6) into `out`.
pub(crate) fn parse_prefixes(
    mut buf: &[u8],
    afi: Afi,
    out: &mut Vec<Prefix>,
) -> Result<(), NlriError> {
    let max_bits: u8 = if afi == Afi::Ipv6 { 128 } else { 32 };
    // Typical sizes (/24: 4 octets, /48../64: 7-9 octets): one allocation for
    // the usual UPDATE, never more than a few times too much.
    out.reserve(if afi == Afi::Ipv6 {
        buf.len() / 7
    } else {
        buf.len() / 4
    });
    while let Some((&bits, rest)) = buf.split_first() {
        if bits > max_bits {
            return Err(NlriError::TooLong);
        }
        let n = usize::from(bits).div_ceil(8);
        if n > rest.len() {
            return Err(NlriError::Truncated);
        }
        let (octets, tail) = rest.split_at(n);
        let addr = if afi == Afi::Ipv6 {
            let mut a = [0u8; 16];
            a[..n].copy_from_slice(octets);
            IpAddr::V6(Ipv6Addr::from(a))
        } else {
            let mut a = [0u8; 4];
            a[..n].copy_from_slice(octets);
            IpAddr::V4(Ipv4Addr::from(a))
        };
        // `new` clears stray bits past the length; it cannot fail as bits <= max.
        if let Some(p) = Prefix::new(addr, bits) {
            out.push(p);
        }
        buf = tail;
    }
    Ok(())
}
