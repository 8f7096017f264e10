//! Turning Adj-RIB-Out deltas into UPDATE bytes for one session.
//!
//! What the wire gets, compared with the configured route. ExaBGP's own rules
//! (Attributes.pack in exabgp/bgp/message/update/attribute/attributes.py) are: ORIGIN
//! IGP when absent; AS_PATH `[]` (iBGP) or `[local-as]` (eBGP) when absent, a
//! configured path sent unchanged; LOCAL_PREF 100 added on iBGP when absent and
//! dropped toward eBGP peers. Ours:
//! - ORIGIN IGP is filled in when a route has none (as ExaBGP).
//! - eBGP: our local AS is prepended to the AS_PATH unless the configured path
//!   already starts with it (ExaBGP sends a configured path unchanged, but GoBGP and
//!   BIRD reject eBGP routes whose first AS is not the peer's, so we prepend). An
//!   absent or empty path becomes `[local-as]` (as ExaBGP).
//! - iBGP: the path is sent as configured (empty when absent); LOCAL_PREF 100 is
//!   added when absent (RFC 4271 §5.1.5 requires it on iBGP; as ExaBGP).
//! - eBGP: LOCAL_PREF is never sent, even when configured (RFC 4271 §5.1.5: it
//!   MUST NOT go to external peers; as ExaBGP).
//! - Every other attribute (MED, communities, ...) is sent exactly as configured.
//! - "next-hop self" is the configured local-address, else the session's local
//!   socket address, of the route's family; when there is none (an IPv6 route over
//!   an IPv4 session without an IPv6 local-address) the route is skipped with a log.

use std::net::IpAddr;
use std::sync::Arc;

use crate::bgp::{self, AsPath, AsSegment, CodecOptions, Family, Origin, PathAttributes};
use crate::bgp::{EncodeError, FlowUnreach, Message, Update};
use crate::rib::{Delta, FlowDelta, NextHop};

/// What the packer needs to know about the session.
#[derive(Debug, Clone)]
pub struct SessionContext {
    pub local_as: u32,
    pub peer_as: u32,
    /// Configured local-address, if any.
    pub configured_local: Option<IpAddr>,
    /// The local address of the TCP connection.
    pub socket_local: IpAddr,
    pub codec: CodecOptions,
}

impl SessionContext {
    pub fn is_ibgp(&self) -> bool {
        self.local_as == self.peer_as
    }

    /// Our address of `family` for "next-hop self", if we have one.
    pub fn self_next_hop(&self, family: Family) -> Option<IpAddr> {
        let want_v6 = family == Family::IPV6_UNICAST;
        let mut candidates = self
            .configured_local
            .into_iter()
            .chain(std::iter::once(self.socket_local))
            .map(|a| a.to_canonical());
        candidates.find(|a| a.is_ipv6() == want_v6)
    }

    /// The attributes as sent to this peer (see the module doc).
    pub fn wire_attributes(&self, attrs: &PathAttributes) -> PathAttributes {
        let mut a = attrs.clone();
        // ORIGIN is well-known mandatory; ExaBGP's default is IGP.
        if a.origin.is_none() {
            a.origin = Some(Origin::Igp);
        }
        if self.is_ibgp() {
            if a.as_path.is_none() {
                a.as_path = Some(AsPath::default());
            }
            if a.local_pref.is_none() {
                a.local_pref = Some(100);
            }
        } else {
            let path = a.as_path.take().unwrap_or_default();
            a.as_path = Some(prepend(path, self.local_as));
            // RFC 4271 §5.1.5: LOCAL_PREF MUST NOT be sent to external peers.
            a.local_pref = None;
        }
        a
    }
}

/// Prepends `asn` unless the path already starts with it.
fn prepend(mut path: AsPath, asn: u32) -> AsPath {
    match path.segments.first_mut() {
        Some(AsSegment::Sequence(seq)) => {
            if seq.first() != Some(&asn) {
                seq.insert(0, asn);
            }
        }
        _ => path.segments.insert(0, AsSegment::Sequence(vec![asn])),
    }
    path
}

/// Packed UPDATE messages for a delta, and what was left out.
#[derive(Debug, Default)]
pub struct Packed {
    pub messages: Vec<Vec<u8>>,
    pub announced: usize,
    pub withdrawn: usize,
    /// Human-readable reasons for routes not sent.
    pub skipped: Vec<String>,
}

/// Packs withdrawals first (so a prefix moving between groups is never withdrawn
/// after its new announcement), then one run of UPDATEs per attribute group.
/// A group the codec cannot encode is skipped (and reported in `skipped`); the rest
/// is still sent.
pub fn pack_delta(ctx: &SessionContext, delta: &Delta) -> Packed {
    let mut packed = Packed::default();
    for (family, prefixes) in &delta.withdraw {
        match bgp::pack_withdraw(*family, prefixes, &ctx.codec, &mut packed.messages) {
            Ok(()) => packed.withdrawn += prefixes.len(),
            Err(e) => packed.skipped.push(format!(
                "withdraw of {} prefixes not sent: {e}",
                prefixes.len()
            )),
        }
    }
    let mut last: Option<(Arc<PathAttributes>, PathAttributes)> = None;
    for g in &delta.announce {
        let next_hop = match g.next_hop {
            NextHop::Address(a) => Some(a),
            NextHop::SelfAddress => ctx.self_next_hop(g.family),
        };
        let Some(next_hop) = next_hop else {
            packed.skipped.push(format!(
                "{} route(s) of {} with next-hop self skipped: no local address of that family (set local-address)",
                g.prefixes.len(),
                g.family
            ));
            continue;
        };
        if next_hop.is_ipv6() != (g.family == Family::IPV6_UNICAST) {
            packed.skipped.push(format!(
                "{} route(s) of {} skipped: next hop {next_hop} is of the other family",
                g.prefixes.len(),
                g.family
            ));
            continue;
        }
        // Groups sharing attributes are adjacent often enough to cache the last one.
        let wire = match &last {
            Some((src, wire)) if Arc::ptr_eq(src, &g.attributes) => wire.clone(),
            _ => {
                let w = ctx.wire_attributes(&g.attributes);
                last = Some((Arc::clone(&g.attributes), w.clone()));
                w
            }
        };
        match bgp::pack_announce(
            &wire,
            g.family,
            &[next_hop],
            &g.prefixes,
            &ctx.codec,
            &mut packed.messages,
        ) {
            Ok(()) => packed.announced += g.prefixes.len(),
            Err(e) => packed.skipped.push(format!(
                "{} route(s) starting at {} not sent: {e}",
                g.prefixes.len(),
                g.prefixes
                    .first()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            )),
        }
    }
    packed
}

/// Flow rules (RFC 8955/8956): withdrawals first, one UPDATE per family for
/// them, then one UPDATE per announced rule (its actions are its own extended
/// communities, so rules rarely share attributes). Next hop length 0 unless the
/// rule carries one (redirect-to-nexthop). Appended to `packed`.
pub fn pack_flow_delta(ctx: &SessionContext, delta: &FlowDelta, packed: &mut Packed) {
    let mut by_family: Vec<(Family, Vec<bgp::FlowNlri>)> = Vec::new();
    for n in &delta.withdraw {
        match by_family.iter_mut().find(|(f, _)| *f == n.family()) {
            Some((_, v)) => v.push(n.clone()),
            None => by_family.push((n.family(), vec![n.clone()])),
        }
    }
    for (family, rules) in by_family {
        // Split so that each UPDATE fits (a rule is at most 4097 octets).
        let mut start = 0;
        while start < rules.len() {
            let mut end = rules.len();
            loop {
                let u = Update {
                    attributes: PathAttributes {
                        flow_unreach: Some(FlowUnreach {
                            family,
                            withdrawn: rules[start..end].to_vec(),
                        }),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let mut bytes = Vec::new();
                match bgp::encode_message(&Message::Update(u), &ctx.codec, &mut bytes) {
                    Ok(()) => {
                        packed.messages.push(bytes);
                        packed.withdrawn += end - start;
                        start = end;
                        break;
                    }
                    Err(EncodeError::TooLong { .. }) if end - start > 1 => {
                        end = start + (end - start) / 2;
                    }
                    Err(e) => {
                        packed.skipped.push(format!(
                            "withdraw of flow rule {} not sent: {e}",
                            rules[start].rule
                        ));
                        start += 1;
                        break;
                    }
                }
            }
        }
    }
    // Rules sharing family, next hop and attributes go out together, as many to
    // an UPDATE as fit (bgp::pack_flow_announce).
    type Key<'a> = (Family, Option<IpAddr>, &'a PathAttributes);
    let mut groups: Vec<(Key, Vec<bgp::FlowNlri>)> = Vec::new();
    let mut index: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    for r in &delta.announce {
        let key = (r.family(), r.next_hop, &*r.attributes);
        let i = *index.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(r.nlri.clone());
    }
    for ((family, next_hop, attrs), rules) in groups {
        let wire = ctx.wire_attributes(attrs);
        let nhs: Vec<IpAddr> = next_hop.into_iter().collect();
        let skipped = bgp::pack_flow_announce(
            &wire,
            family,
            &nhs,
            &rules,
            &ctx.codec,
            &mut packed.messages,
        );
        packed.announced += rules.len() - skipped.len();
        for (i, e) in skipped {
            packed
                .skipped
                .push(format!("flow rule {} not sent: {e}", rules[i].rule));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(local_as: u32, peer_as: u32) -> SessionContext {
        SessionContext {
            local_as,
            peer_as,
            configured_local: None,
            socket_local: "127.0.0.1".parse().unwrap(),
            codec: CodecOptions {
                four_octet_as: true,
                extended_message: false,
            },
        }
    }

    #[test]
    fn ebgp_prepends_local_as_once() {
        let c = ctx(65001, 65000);
        let a = PathAttributes {
            as_path: Some(AsPath::sequence(vec![65010])),
            ..Default::default()
        };
        assert_eq!(
            c.wire_attributes(&a).as_path,
            Some(AsPath::sequence(vec![65001, 65010]))
        );
        let b = PathAttributes {
            as_path: Some(AsPath::sequence(vec![65001, 65010])),
            ..Default::default()
        };
        assert_eq!(
            c.wire_attributes(&b).as_path,
            Some(AsPath::sequence(vec![65001, 65010]))
        );
        assert_eq!(
            c.wire_attributes(&PathAttributes::default()).as_path,
            Some(AsPath::sequence(vec![65001]))
        );
        assert_eq!(
            c.wire_attributes(&PathAttributes::default()).local_pref,
            None
        );
        let configured = PathAttributes {
            local_pref: Some(200),
            ..Default::default()
        };
        assert_eq!(
            c.wire_attributes(&configured).local_pref,
            None,
            "LOCAL_PREF must not reach an eBGP peer"
        );
    }

    #[test]
    fn ibgp_keeps_path_and_adds_local_pref() {
        let c = ctx(65000, 65000);
        let a = PathAttributes {
            as_path: Some(AsPath::sequence(vec![65010])),
            ..Default::default()
        };
        let w = c.wire_attributes(&a);
        assert_eq!(w.as_path, Some(AsPath::sequence(vec![65010])));
        assert_eq!(w.local_pref, Some(100));
        let b = PathAttributes {
            local_pref: Some(200),
            ..Default::default()
        };
        assert_eq!(c.wire_attributes(&b).local_pref, Some(200));
        assert_eq!(c.wire_attributes(&b).as_path, Some(AsPath::default()));
    }

    #[test]
    fn next_hop_self_per_family() {
        let mut c = ctx(65001, 65000);
        assert_eq!(
            c.self_next_hop(Family::IPV4_UNICAST),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(c.self_next_hop(Family::IPV6_UNICAST), None);
        c.configured_local = Some("2001:db8::1".parse().unwrap());
        assert_eq!(
            c.self_next_hop(Family::IPV6_UNICAST),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            c.self_next_hop(Family::IPV4_UNICAST),
            Some("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn next_hop_self_without_an_ipv6_address_skips_ipv6_routes_only() {
        use crate::rib::{AdjRibOut, Route};
        let c = ctx(65001, 65000);
        let mut rib = AdjRibOut::new();
        let attrs = Arc::new(PathAttributes::default());
        for p in ["203.0.113.0/24", "2001:db8:1::/48"] {
            rib.announce(&Route {
                prefix: p.parse().unwrap(),
                next_hop: NextHop::SelfAddress,
                attributes: attrs.clone(),
            });
        }
        let delta = rib.take_delta(&[Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
        let packed = pack_delta(&c, &delta);
        assert_eq!(packed.announced, 1);
        assert_eq!(packed.messages.len(), 1);
        assert_eq!(packed.skipped.len(), 1);
        assert!(
            packed.skipped[0].contains("ipv6 unicast")
                && packed.skipped[0].contains("next-hop self")
        );
        // The IPv4 UPDATE carries our socket address as NEXT_HOP.
        let (msg, _) = bgp::decode_message(&packed.messages[0], &c.codec)
            .unwrap()
            .unwrap();
        match msg {
            bgp::Message::Update(u) => {
                assert_eq!(u.attributes.next_hop, Some("127.0.0.1".parse().unwrap()));
                assert_eq!(u.attributes.as_path, Some(AsPath::sequence(vec![65001])));
            }
            other => panic!("{other:?}"),
        }
    }
}
