//! Byte fixtures for UPDATE and every path attribute, written from the RFCs, each
//! checked in both directions (bytes -> struct and struct -> bytes) unless the
//! comment says why one direction differs: every attribute alone and all together,
//! extended length, MP_REACH/MP_UNREACH for IPv6, End-of-RIB, unknown optional
//! attributes. The RFC 6793 AS4 translation is in codec_fixtures_as4_translation.rs,
//! the packer's bytes in codec_fixtures_update_packing.rs.

mod support;

use exabgp::bgp::*;
use support::codec::*;

/// RFC 4271 §4.3: one UPDATE carrying withdrawn routes, every attribute this
/// codec models, and NLRI. Attribute layouts: ORIGIN §5.1.1 (40 01 01 00),
/// AS_PATH §5.1.2 with RFC 6793 4-octet AS numbers, NEXT_HOP §5.1.3, MED §5.1.4,
/// LOCAL_PREF §5.1.5, ATOMIC_AGGREGATE §5.1.6, AGGREGATOR §5.1.7, COMMUNITIES
/// RFC 1997, ORIGINATOR_ID and CLUSTER_LIST RFC 4456 §8, EXTENDED_COMMUNITIES
/// RFC 4360 §2, LARGE_COMMUNITY RFC 8092 §3.
#[test]
fn full_update() {
    let attrs = "40 01 01 00
                 40 02 0a 02 02 0000fde9 0000fdea
                 40 03 04 c0000201
                 80 04 04 00000064
                 40 05 04 000000c8
                 40 06 00
                 c0 07 08 0000fde9 c0000209
                 c0 08 08 fde90064 ffffff01
                 80 09 04 0a000001
                 80 0a 08 0a000002 0a000003
                 c0 10 08 0002fde900000001
                 c0 20 0c 0000fde9 00000001 00000002";
    let alen = hex(attrs).len();
    let bytes = msg(
        2,
        &format!("0004 18c63364 {alen:04x} {attrs} 18cb0071 080a"),
    );
    let u = Update {
        withdrawn: vec![p("198.51.100.0/24")],
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::sequence(vec![65001, 65002])),
            next_hop: Some(ip4("192.0.2.1")),
            med: Some(100),
            local_pref: Some(200),
            atomic_aggregate: true,
            aggregator: Some(Aggregator {
                asn: 65001,
                address: ip4("192.0.2.9"),
            }),
            communities: vec![Community::new(65001, 100), Community::NO_EXPORT],
            originator_id: Some(ip4("10.0.0.1")),
            cluster_list: vec![ip4("10.0.0.2"), ip4("10.0.0.3")],
            ext_communities: vec!["target:65001:1".parse().unwrap()],
            large_communities: vec!["65001:1:2".parse().unwrap()],
            ..PathAttributes::default()
        },
        nlri: vec![p("203.0.113.0/24"), p("10.0.0.0/8")],
        treat_as_withdraw: None,
    };
    both_ways(&bytes, &Message::Update(u), &NEW);
}

/// Each attribute alone (no NLRI, so nothing is mandatory), in the 2-octet AS
/// encoding of RFC 4271 where it differs.
#[test]
fn each_attribute_alone() {
    let cases: Vec<(&str, PathAttributes, CodecOptions)> = vec![
        (
            "40 01 01 01",
            PathAttributes {
                origin: Some(Origin::Egp),
                ..Default::default()
            },
            OLD,
        ),
        (
            "40 01 01 02",
            PathAttributes {
                origin: Some(Origin::Incomplete),
                ..Default::default()
            },
            OLD,
        ),
        // AS_PATH, 2-octet (RFC 4271 §4.3): AS_SET {65001 65002} then AS_SEQUENCE 65003.
        (
            "40 02 0a 01 02 fde9 fdea 02 01 fdeb",
            PathAttributes {
                as_path: Some(AsPath {
                    segments: vec![
                        AsSegment::Set(vec![65001, 65002]),
                        AsSegment::Sequence(vec![65003]),
                    ],
                }),
                ..Default::default()
            },
            OLD,
        ),
        // RFC 5065 §3: AS_CONFED_SEQUENCE (3) and AS_CONFED_SET (4).
        (
            "40 02 0c 03 01 0000fe4c 04 01 0000fe4d",
            PathAttributes {
                as_path: Some(AsPath {
                    segments: vec![
                        AsSegment::ConfedSequence(vec![65100]),
                        AsSegment::ConfedSet(vec![65101]),
                    ],
                }),
                ..Default::default()
            },
            NEW,
        ),
        // Empty AS_PATH (iBGP, RFC 4271 §5.1.2).
        (
            "40 02 00",
            PathAttributes {
                as_path: Some(AsPath::default()),
                ..Default::default()
            },
            OLD,
        ),
        (
            "40 03 04 c0000201",
            PathAttributes {
                next_hop: Some(ip4("192.0.2.1")),
                ..Default::default()
            },
            OLD,
        ),
        (
            "80 04 04 ffffffff",
            PathAttributes {
                med: Some(u32::MAX),
                ..Default::default()
            },
            OLD,
        ),
        (
            "40 05 04 00000064",
            PathAttributes {
                local_pref: Some(100),
                ..Default::default()
            },
            OLD,
        ),
        (
            "40 06 00",
            PathAttributes {
                atomic_aggregate: true,
                ..Default::default()
            },
            OLD,
        ),
        // AGGREGATOR, 2-octet form: AS (2) + IP (4).
        (
            "c0 07 06 fde9 c0000209",
            PathAttributes {
                aggregator: Some(Aggregator {
                    asn: 65001,
                    address: ip4("192.0.2.9"),
                }),
                ..Default::default()
            },
            OLD,
        ),
        (
            "c0 08 04 ffff029a",
            PathAttributes {
                communities: vec![Community::BLACKHOLE],
                ..Default::default()
            },
            OLD,
        ),
        (
            "80 09 04 0a000001",
            PathAttributes {
                originator_id: Some(ip4("10.0.0.1")),
                ..Default::default()
            },
            OLD,
        ),
        (
            "80 0a 04 0a000002",
            PathAttributes {
                cluster_list: vec![ip4("10.0.0.2")],
                ..Default::default()
            },
            OLD,
        ),
        // RFC 4360 §3.1: IPv4-address-specific route target 192.0.2.1:5.
        (
            "c0 10 08 0102c0000201 0005",
            PathAttributes {
                ext_communities: vec!["target:192.0.2.1:5".parse().unwrap()],
                ..Default::default()
            },
            OLD,
        ),
        (
            "c0 20 0c fa56ea00 00000001 00000002",
            PathAttributes {
                large_communities: vec!["4200000000:1:2".parse().unwrap()],
                ..Default::default()
            },
            OLD,
        ),
    ];
    for (hexattr, a, opts) in cases {
        both_ways(&update_msg(hexattr, ""), &attrs_only(a), &opts);
    }
}

/// RFC 4271 §4.3: the Extended Length bit (0x10) gives a 2-octet length. It is
/// accepted on any attribute, and used when sending only for values over 255.
#[test]
fn extended_length() {
    let short = update_msg("50 02 0006 02 02 fde9 fdea", "");
    let a = PathAttributes {
        as_path: Some(AsPath::sequence(vec![65001, 65002])),
        ..Default::default()
    };
    decodes_to(&short, &attrs_only(a), &OLD);
    let communities: Vec<Community> = (0..70).map(|i| Community::new(65001, i)).collect();
    let values: String = (0..70u16).map(|i| format!("fde9{i:04x}")).collect();
    let long = update_msg(&format!("d0 08 0118 {values}"), "");
    let a = PathAttributes {
        communities,
        ..Default::default()
    };
    both_ways(&long, &attrs_only(a), &OLD);
}

/// RFC 4760 §3 MP_REACH_NLRI for IPv6 unicast, next hop 16 octets (RFC 2545 §3),
/// with ORIGIN and AS_PATH (mandatory with NLRI), no NEXT_HOP (RFC 4760 §3).
#[test]
fn mp_reach_ipv6_global_next_hop() {
    let bytes = update_msg(
        "40 01 01 00  40 02 00
         80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001",
        "",
    );
    let a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        mp_reach: Some(MpReach {
            family: Family::IPV6_UNICAST,
            next_hops: vec!["2001:db8::1".parse().unwrap()],
            nlri: vec![p("2001:db8:1::/48")],
        }),
        ..Default::default()
    };
    both_ways(&bytes, &attrs_only(a), &NEW);
}

/// RFC 2545 §3: a 32-octet next hop is a global address then a link-local one.
#[test]
fn mp_reach_ipv6_link_local_next_hop() {
    let bytes = update_msg(
        "40 01 01 00  40 02 00
         80 0e 2c 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001
         00 30 20010db80001",
        "",
    );
    let a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        mp_reach: Some(MpReach {
            family: Family::IPV6_UNICAST,
            next_hops: vec!["2001:db8::1".parse().unwrap(), "fe80::1".parse().unwrap()],
            nlri: vec![p("2001:db8:1::/48")],
        }),
        ..Default::default()
    };
    both_ways(&bytes, &attrs_only(a), &NEW);
}

/// RFC 4760 §4 MP_UNREACH_NLRI: AFI, SAFI, withdrawn routes.
#[test]
fn mp_unreach_ipv6() {
    let bytes = update_msg("80 0f 0a 0002 01 30 20010db80001", "");
    let a = PathAttributes {
        mp_unreach: Some(MpUnreach {
            family: Family::IPV6_UNICAST,
            withdrawn: vec![p("2001:db8:1::/48")],
        }),
        ..Default::default()
    };
    both_ways(&bytes, &attrs_only(a), &OLD);
}

/// RFC 4724 §2: End-of-RIB is an empty UPDATE (IPv4 unicast) or an UPDATE with
/// only an empty MP_UNREACH_NLRI.
#[test]
fn end_of_rib() {
    let v4 = msg(2, "0000 0000");
    assert_eq!(encode_end_of_rib(Family::IPV4_UNICAST, &OLD), v4);
    assert_eq!(
        decode_update(&v4, &OLD).end_of_rib(),
        Some(Family::IPV4_UNICAST)
    );
    let v6 = msg(2, "0000 0006 800f03 0002 01");
    assert_eq!(encode_end_of_rib(Family::IPV6_UNICAST, &OLD), v6);
    let u = decode_update(&v6, &OLD);
    assert_eq!(u.end_of_rib(), Some(Family::IPV6_UNICAST));
    both_ways(&v6, &Message::Update(u), &OLD);
}

/// RFC 4271 §5: an unrecognized optional transitive attribute is passed on with
/// the Partial bit set. Decoding keeps the flags as received (0xc0); encoding
/// sets Partial (0xe0) — the one fixture whose directions differ by design.
#[test]
fn unknown_optional_transitive_kept_with_partial() {
    let received = update_msg("c0 63 02 0102", "");
    let a = PathAttributes {
        unknown: vec![RawAttribute {
            flags: 0xC0,
            type_code: 99,
            value: vec![1, 2],
        }],
        ..Default::default()
    };
    decodes_to(&received, &attrs_only(a.clone()), &OLD);
    let mut out = Vec::new();
    encode_message(&attrs_only(a), &OLD, &mut out).unwrap();
    assert_eq!(out, update_msg("e0 63 02 0102", ""));
}

/// RFC 4271 §5: an unrecognized optional non-transitive attribute is ignored.
#[test]
fn unknown_optional_non_transitive_dropped() {
    decodes_to(
        &update_msg("80 64 01 aa  40 06 00", ""),
        &attrs_only(PathAttributes {
            atomic_aggregate: true,
            ..Default::default()
        }),
        &OLD,
    );
}
