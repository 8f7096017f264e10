//! Byte fixtures for the UPDATE packer: what `pack_announce` and `pack_withdraw`
//! write for IPv4 (classic NLRI) and IPv6 (MP_REACH / MP_UNREACH), the errors they
//! return, and that a failed call leaves the output alone.

mod support;

use std::net::{IpAddr, Ipv6Addr};

use exabgp::bgp::*;
use support::codec::*;

/// pack_announce for IPv4 unicast: classic NLRI with NEXT_HOP in the one
/// attribute block (RFC 4271 §4.3).
#[test]
fn pack_announce_ipv4_bytes() {
    let a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(vec![65001])),
        ..Default::default()
    };
    let mut out = Vec::new();
    let nh = [IpAddr::V4(ip4("192.0.2.1"))];
    pack_announce(
        &a,
        Family::IPV4_UNICAST,
        &nh,
        &[p("203.0.113.0/24")],
        &NEW,
        &mut out,
    )
    .unwrap();
    let want = update_msg(
        "40 01 01 00  40 02 06 02 01 0000fde9  40 03 04 c0000201",
        "18 cb0071",
    );
    assert_eq!(out, vec![want]);
}

/// pack_announce for IPv6 unicast: MP_REACH_NLRI (RFC 4760), no NEXT_HOP.
#[test]
fn pack_announce_ipv6_bytes() {
    let a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        med: Some(5),
        large_communities: vec!["1:2:3".parse().unwrap()],
        ..Default::default()
    };
    let mut out = Vec::new();
    let nh = [IpAddr::V6("2001:db8::1".parse::<Ipv6Addr>().unwrap())];
    pack_announce(
        &a,
        Family::IPV6_UNICAST,
        &nh,
        &[p("2001:db8:1::/48")],
        &NEW,
        &mut out,
    )
    .unwrap();
    let want = update_msg(
        "40 01 01 00  40 02 00  80 04 04 00000005
         80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001
         c0 20 0c 00000001 00000002 00000003",
        "",
    );
    assert_eq!(out, vec![want]);
}

#[test]
fn pack_withdraw_bytes() {
    let mut out = Vec::new();
    pack_withdraw(
        Family::IPV4_UNICAST,
        &[p("198.51.100.0/24")],
        &OLD,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, vec![msg(2, "0004 18c63364 0000")]);
    let mut out = Vec::new();
    pack_withdraw(
        Family::IPV6_UNICAST,
        &[p("2001:db8:1::/48")],
        &OLD,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        out,
        vec![update_msg("80 0f 0a 0002 01 30 20010db80001", "")]
    );
}

/// Packing refuses what cannot go on the wire as asked.
#[test]
fn pack_errors() {
    let a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    };
    let v4 = [IpAddr::V4(ip4("192.0.2.1"))];
    let mut out = Vec::new();
    let r = pack_announce(
        &a,
        Family::IPV6_UNICAST,
        &v4,
        &[p("2001:db8::/32")],
        &NEW,
        &mut out,
    );
    assert!(matches!(r, Err(EncodeError::NextHop(_))), "{r:?}");
    let r = pack_announce(
        &a,
        Family::IPV4_UNICAST,
        &v4,
        &[p("2001:db8::/32")],
        &NEW,
        &mut out,
    );
    assert!(
        matches!(r, Err(EncodeError::FamilyMismatch { .. })),
        "{r:?}"
    );
    let r = pack_announce(
        &PathAttributes::default(),
        Family::IPV4_UNICAST,
        &v4,
        &[p("10.0.0.0/8")],
        &NEW,
        &mut out,
    );
    assert_eq!(r, Err(EncodeError::MissingMandatory("ORIGIN")));
    let huge = PathAttributes {
        communities: (0..1100).map(Community).collect(),
        ..a.clone()
    };
    let r = pack_announce(
        &huge,
        Family::IPV4_UNICAST,
        &v4,
        &[p("10.0.0.0/8")],
        &NEW,
        &mut out,
    );
    assert!(
        matches!(r, Err(EncodeError::TooLong { max: 4096, .. })),
        "{r:?}"
    );
    let flow = "ipv4 flow".parse::<Family>().unwrap();
    let r = pack_withdraw(flow, &[], &NEW, &mut out);
    assert!(matches!(r, Err(EncodeError::UnsupportedFamily(_))), "{r:?}");
    assert!(out.is_empty());
}

/// A batch that fails part-way (a later, longer prefix no longer fits beside the
/// attributes) leaves `out` as it was: no half-sent batch.
#[test]
fn pack_announce_error_leaves_output_alone() {
    let v4 = [IpAddr::V4(ip4("192.0.2.1"))];
    let mut a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    };
    a.unknown = vec![RawAttribute {
        flags: 0xE0,
        type_code: 99,
        value: vec![],
    }];
    let mut probe = Vec::new();
    pack_announce(
        &a,
        Family::IPV4_UNICAST,
        &v4,
        &[p("0.0.0.0/0")],
        &NEW,
        &mut probe,
    )
    .unwrap();
    // Grow the attributes until a /0 fills the message exactly (the value needs
    // the extended length, one more header octet).
    a.unknown[0].value = vec![7; 4095 - probe[0].len()];
    let mut out = vec![b"earlier batch".to_vec()];
    pack_announce(
        &a,
        Family::IPV4_UNICAST,
        &v4,
        &[p("0.0.0.0/0")],
        &NEW,
        &mut out,
    )
    .unwrap();
    assert_eq!(out[1].len(), 4096);
    out.truncate(1);
    let r = pack_announce(
        &a,
        Family::IPV4_UNICAST,
        &v4,
        &[p("0.0.0.0/0"), p("10.0.0.1/32")],
        &NEW,
        &mut out,
    );
    assert_eq!(
        r,
        Err(EncodeError::TooLong {
            len: 4100,
            max: 4096
        })
    );
    assert_eq!(out, vec![b"earlier batch".to_vec()]);
}
