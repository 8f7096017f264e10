//! proptest strategies for the BGP data model, shared by the codec property tests.
//! They generate *valid* logical values: the ones that must survive
//! decode(encode(x)) == x under both CodecOptions.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use exabgp::bgp::*;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

pub const OPTIONS: [CodecOptions; 4] = [
    CodecOptions {
        four_octet_as: false,
        extended_message: false,
    },
    CodecOptions {
        four_octet_as: true,
        extended_message: false,
    },
    CodecOptions {
        four_octet_as: false,
        extended_message: true,
    },
    CodecOptions {
        four_octet_as: true,
        extended_message: true,
    },
];

pub fn options() -> impl Strategy<Value = CodecOptions> {
    prop::sample::select(OPTIONS.to_vec())
}

pub fn prefix_v4() -> impl Strategy<Value = Prefix> {
    (any::<u32>(), 0u8..=32).prop_filter_map("prefix", |(a, l)| {
        Prefix::new(IpAddr::V4(Ipv4Addr::from(a)), l)
    })
}

pub fn prefix_v6() -> impl Strategy<Value = Prefix> {
    (any::<u128>(), 0u8..=128).prop_filter_map("prefix", |(a, l)| {
        Prefix::new(IpAddr::V6(Ipv6Addr::from(a)), l)
    })
}

/// A mix of 2-octet, 4-octet and boundary AS numbers (AS_TRANS included).
pub fn asn() -> impl Strategy<Value = u32> {
    prop_oneof![
        1u32..=65535,
        65536u32..=u32::MAX,
        Just(23456u32),
        Just(65535u32),
        Just(65536u32),
        Just(u32::MAX),
    ]
}

pub fn as_segment() -> impl Strategy<Value = AsSegment> {
    let asns = || vec(asn(), 1..12);
    prop_oneof![
        4 => asns().prop_map(AsSegment::Sequence),
        1 => asns().prop_map(AsSegment::Set),
    ]
}

/// Confederation members are 2-octet: RFC 6793 cannot carry 4-octet ones across
/// an OLD speaker (AS4_PATH excludes confederation segments).
pub fn confed_segment() -> impl Strategy<Value = AsSegment> {
    let confed = || vec(1u32..=65535, 1..6);
    prop_oneof![
        confed().prop_map(AsSegment::ConfedSequence),
        confed().prop_map(AsSegment::ConfedSet),
    ]
}

/// Confederation segments lead the path (RFC 5065 §3), then ordinary ones.
pub fn as_path() -> impl Strategy<Value = AsPath> {
    (vec(confed_segment(), 0..2), vec(as_segment(), 0..4)).prop_map(|(mut segments, rest)| {
        segments.extend(rest);
        AsPath { segments }
    })
}

fn family_nh_nlri() -> impl Strategy<Value = (Family, Vec<IpAddr>, Vec<Prefix>)> {
    let v4 = any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)));
    let v6 = || any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)));
    prop_oneof![
        (v4, vec(prefix_v4(), 0..20)).prop_map(|(nh, p)| (Family::IPV4_UNICAST, vec![nh], p)),
        // RFC 8950: IPv4 NLRI with an IPv6 next hop.
        (v6(), vec(prefix_v4(), 0..5)).prop_map(|(nh, p)| (Family::IPV4_UNICAST, vec![nh], p)),
        (v6(), vec(prefix_v6(), 0..20)).prop_map(|(nh, p)| (Family::IPV6_UNICAST, vec![nh], p)),
        (v6(), v6(), vec(prefix_v6(), 0..20)).prop_map(|(g, l, p)| (
            Family::IPV6_UNICAST,
            vec![g, l],
            p
        )),
    ]
}

pub fn mp_reach() -> impl Strategy<Value = MpReach> {
    family_nh_nlri().prop_map(|(family, next_hops, nlri)| MpReach {
        family,
        next_hops,
        nlri,
    })
}

pub fn mp_unreach() -> impl Strategy<Value = MpUnreach> {
    prop_oneof![
        vec(prefix_v4(), 0..20).prop_map(|w| MpUnreach {
            family: Family::IPV4_UNICAST,
            withdrawn: w
        }),
        vec(prefix_v6(), 0..20).prop_map(|w| MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: w
        }),
        // An End-of-RIB for a family we do not parse.
        (any::<u16>(), any::<u8>()).prop_map(|(a, s)| MpUnreach {
            family: Family::from_codes(a, s),
            withdrawn: vec![]
        }),
    ]
}

/// Type codes the codec does not model.
fn unknown_type() -> impl Strategy<Value = u8> {
    any::<u8>().prop_filter("modelled", |t| {
        !exabgp::bgp::iana::is_modelled_attribute(*t)
    })
}

pub fn unknown_attrs() -> impl Strategy<Value = Vec<RawAttribute>> {
    // Sorted and unique: the encoder writes ascending type codes and the decoder
    // keeps the first of duplicates (RFC 7606 §3 g).
    btree_map(
        unknown_type(),
        (prop::bool::ANY, vec(any::<u8>(), 0..300)),
        0..3,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(type_code, (partial, value))| RawAttribute {
                flags: if partial { 0xE0 } else { 0xC0 },
                type_code,
                value,
            })
            .collect()
    })
}

pub fn path_attributes() -> impl Strategy<Value = PathAttributes> {
    let ip4 = || any::<u32>().prop_map(Ipv4Addr::from);
    let origin = prop_oneof![
        Just(Origin::Igp),
        Just(Origin::Egp),
        Just(Origin::Incomplete)
    ];
    (
        (
            prop::option::of(origin),
            prop::option::of(as_path()),
            prop::option::of(ip4()),
            prop::option::of(any::<u32>()),
            prop::option::of(any::<u32>()),
            any::<bool>(),
            prop::option::of((asn(), ip4()).prop_map(|(asn, address)| Aggregator { asn, address })),
        ),
        (
            vec(any::<u32>().prop_map(Community), 0..8),
            prop::option::of(ip4()),
            vec(ip4(), 0..4),
            vec(any::<[u8; 8]>().prop_map(ExtCommunity), 0..5),
            vec(
                any::<(u32, u32, u32)>().prop_map(|(global, local1, local2)| LargeCommunity {
                    global,
                    local1,
                    local2,
                }),
                0..4,
            ),
            prop::option::of(mp_reach()),
            prop::option::of(mp_unreach()),
            unknown_attrs(),
        ),
    )
        .prop_map(
            |((origin, as_path, next_hop, med, local_pref, atomic, aggregator), rest)| {
                let (
                    communities,
                    originator_id,
                    cluster_list,
                    ext,
                    large,
                    mp_reach,
                    mp_unreach,
                    unknown,
                ) = rest;
                PathAttributes {
                    origin,
                    as_path,
                    next_hop,
                    med,
                    local_pref,
                    atomic_aggregate: atomic,
                    aggregator,
                    communities,
                    originator_id,
                    cluster_list,
                    ext_communities: ext,
                    large_communities: large,
                    mp_reach,
                    mp_unreach,
                    // Flow rules have their own properties (tests/codec_flowspec.rs).
                    flow_reach: None,
                    flow_unreach: None,
                    unknown,
                    // A decoder verdict, never encoded.
                    unnegotiated: Vec::new(),
                }
            },
        )
}

pub fn update() -> impl Strategy<Value = Update> {
    (
        vec(prefix_v4(), 0..20),
        path_attributes(),
        vec(prefix_v4(), 0..20),
    )
        .prop_map(|(withdrawn, mut attributes, nlri)| {
            // What RFC 7606 §3 d asks of an UPDATE that announces something.
            let mp_nlri = attributes
                .mp_reach
                .as_ref()
                .is_some_and(|m| !m.nlri.is_empty());
            if !nlri.is_empty() || mp_nlri {
                attributes.origin.get_or_insert(Origin::Igp);
                attributes.as_path.get_or_insert_with(AsPath::default);
            }
            if !nlri.is_empty() {
                attributes
                    .next_hop
                    .get_or_insert(Ipv4Addr::new(192, 0, 2, 1));
            }
            Update {
                withdrawn,
                attributes,
                nlri,
                treat_as_withdraw: None,
            }
        })
}

pub fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        (any::<u16>(), any::<u8>())
            .prop_map(|(a, s)| Capability::Multiprotocol(Family::from_codes(a, s))),
        Just(Capability::RouteRefresh),
        Just(Capability::ExtendedMessage),
        (
            0..16u8,
            0..4096u16,
            vec((any::<u16>(), any::<u8>(), any::<u8>()), 0..4)
        )
            .prop_map(|(flags, restart_time, fams)| Capability::GracefulRestart(
                GracefulRestart {
                    flags,
                    restart_time,
                    families: fams
                        .into_iter()
                        .map(|(a, s, f)| (Family::from_codes(a, s), f))
                        .collect(),
                }
            )),
        (
            any::<u8>().prop_filter("known", |c| ![1, 2, 6, 64, 65].contains(c)),
            vec(any::<u8>(), 0..40)
        )
            .prop_map(|(code, value)| Capability::Unknown { code, value }),
    ]
}

pub fn open() -> impl Strategy<Value = Open> {
    (
        asn(),
        any::<bool>(),
        any::<u16>().prop_filter("1 and 2 are refused", |h| *h != 1 && *h != 2),
        1u32..,
        vec(capability(), 0..12),
    )
        .prop_map(|(my_as, cap4, hold_time, id, mut capabilities)| {
            if cap4 || my_as > 0xFFFF {
                capabilities.push(Capability::FourOctetAs(my_as));
            }
            Open {
                version: 4,
                my_as,
                hold_time,
                router_id: Ipv4Addr::from(id),
                capabilities,
            }
        })
}

pub fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        open().prop_map(Message::Open),
        update().prop_map(Message::Update),
        (any::<u8>(), any::<u8>(), vec(any::<u8>(), 0..64)).prop_map(|(code, subcode, data)| {
            Message::Notification(Notification {
                code,
                subcode,
                data,
            })
        }),
        Just(Message::Keepalive),
        (any::<u16>(), any::<u8>(), any::<u8>()).prop_map(|(a, st, s)| {
            Message::RouteRefresh(RouteRefresh {
                family: Family::from_codes(a, s),
                subtype: st,
            })
        }),
    ]
}

// ---------------------------------------------------------------- fixture helpers

/// A prefix from fixture text.
pub fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

/// An IPv4 address from fixture text.
pub fn ip4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// An UPDATE with these attributes and nothing else.
pub fn attrs_only(a: PathAttributes) -> Message {
    Message::Update(Update {
        attributes: a,
        ..Update::default()
    })
}

// The hex fixture builders live with the other raw builders.
pub use super::raw::{hex, msg, update_msg};

pub const OLD: CodecOptions = CodecOptions {
    four_octet_as: false,
    extended_message: false,
};
pub const NEW: CodecOptions = CodecOptions {
    four_octet_as: true,
    extended_message: false,
};

/// With EXABGP_FUZZ_CORPUS set (scripts/fuzz does), every fixture's bytes are
/// written there as the fuzzer's seed corpus.
pub fn record(bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("EXABGP_FUZZ_CORPUS") {
        // FNV-1a names the file, so reruns do not multiply the corpus.
        let h = bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        });
        std::fs::write(
            std::path::Path::new(&dir).join(format!("fixture-{h:016x}")),
            bytes,
        )
        .unwrap();
    }
}

/// The fixture checked in both directions: the bytes decode to the value, and
/// the value encodes to exactly the bytes.
#[track_caller]
pub fn both_ways(bytes: &[u8], value: &Message, opts: &CodecOptions) {
    record(bytes);
    let (got, used) = decode_message(bytes, opts).unwrap().unwrap();
    assert_eq!(&got, value, "decode");
    assert_eq!(used, bytes.len());
    let mut out = Vec::new();
    encode_message(value, opts, &mut out).unwrap();
    assert_eq!(
        out, bytes,
        "encode:\n got {:02x?}\nwant {:02x?}",
        out, bytes
    );
}

/// Decode direction only (for inputs the encoder would write differently).
#[track_caller]
pub fn decodes_to(bytes: &[u8], value: &Message, opts: &CodecOptions) {
    record(bytes);
    let (got, used) = decode_message(bytes, opts).unwrap().unwrap();
    assert_eq!(&got, value, "decode");
    assert_eq!(used, bytes.len());
}

/// Decoding fails with the given NOTIFICATION code, subcode and data.
#[track_caller]
pub fn rejects(
    bytes: &[u8],
    opts: &CodecOptions,
    code: u8,
    subcode: u8,
    data: &[u8],
) -> DecodeError {
    record(bytes);
    let e = decode_message(bytes, opts).unwrap_err();
    let n = e.notification();
    assert_eq!((n.code, n.subcode), (code, subcode), "{e}");
    assert_eq!(n.data, data, "{e}");
    e
}

/// Decodes an UPDATE (panics on anything else).
#[track_caller]
pub fn decode_update(bytes: &[u8], opts: &CodecOptions) -> Update {
    record(bytes);
    match decode_message(bytes, opts).unwrap().unwrap().0 {
        Message::Update(u) => u,
        m => panic!("not an UPDATE: {m:?}"),
    }
}
