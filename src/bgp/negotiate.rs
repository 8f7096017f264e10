//! What two OPENs agree on: the codec options (RFC 6793 4-octet AS, RFC 8654
//! extended messages) and the common address families (RFC 4760).

use super::types::{Capability, CodecOptions, Family, Open};

impl CodecOptions {
    /// The options for a session where we sent `local` and received `remote`:
    /// each feature only when both sides advertised it.
    pub fn negotiate(local: &Open, remote: &Open) -> CodecOptions {
        let both = |f: fn(&Capability) -> bool| {
            local.capabilities.iter().any(f) && remote.capabilities.iter().any(f)
        };
        CodecOptions {
            four_octet_as: both(|c| matches!(c, Capability::FourOctetAs(_))),
            extended_message: both(|c| matches!(c, Capability::ExtendedMessage)),
        }
    }
}

impl Open {
    /// The families this OPEN advertises; without any multiprotocol capability a
    /// speaker does IPv4 unicast only (RFC 4760 §8).
    pub fn families(&self) -> Vec<Family> {
        let mut v: Vec<Family> = self
            .capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::Multiprotocol(f) => Some(*f),
                _ => None,
            })
            .collect();
        if v.is_empty() {
            v.push(Family::IPV4_UNICAST);
        }
        v
    }

    /// Families both OPENs advertise, in `self`'s order.
    pub fn common_families(&self, other: &Open) -> Vec<Family> {
        let theirs = other.families();
        self.families()
            .into_iter()
            .filter(|f| theirs.contains(f))
            .collect()
    }

    /// Whether the route refresh capability (RFC 2918) is advertised.
    pub fn route_refresh(&self) -> bool {
        self.capabilities.contains(&Capability::RouteRefresh)
    }
}
