//! First end-to-end checks of the public codec API: OPEN, KEEPALIVE,
//! NOTIFICATION and an announce/withdraw through pack_* and decode_message.

use std::net::{IpAddr, Ipv4Addr};

use exabgp::bgp::*;

fn opts4() -> CodecOptions {
    CodecOptions {
        four_octet_as: true,
        extended_message: false,
    }
}

fn roundtrip(m: &Message, o: &CodecOptions) -> Vec<u8> {
    let mut b = Vec::new();
    encode_message(m, o, &mut b).unwrap();
    let (back, n) = decode_message(&b, o).unwrap().unwrap();
    assert_eq!(n, b.len());
    assert_eq!(&back, m);
    b
}

#[test]
fn open_keepalive_notification_roundtrip() {
    let open = Message::Open(Open {
        version: 4,
        my_as: 4_200_000_000,
        hold_time: 90,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
            Capability::ExtendedMessage,
            Capability::FourOctetAs(4_200_000_000),
            // RFC 4724 §3: a reserved flag bit set, restart time 120.
            Capability::GracefulRestart(GracefulRestart {
                flags: 0x4,
                restart_time: 120,
                families: vec![],
            }),
            Capability::Unknown {
                code: 73,
                value: vec![0x40, 0x78],
            },
        ],
    });
    let b = roundtrip(&open, &CodecOptions::INITIAL);
    // My AS field carries AS_TRANS (RFC 6793 §4.1).
    assert_eq!(&b[20..22], &23456u16.to_be_bytes());
    let b = roundtrip(&Message::Keepalive, &CodecOptions::INITIAL);
    assert_eq!(b.len(), 19);
    let n = Notification::cease_shutdown(2, "maintenance");
    assert_eq!(n.shutdown_text().as_deref(), Some("maintenance"));
    roundtrip(&Message::Notification(n), &CodecOptions::INITIAL);
}

#[test]
fn pack_announce_and_withdraw_decode_back() {
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(vec![65001, 4_200_000_000])),
        med: Some(10),
        communities: vec![Community::NO_EXPORT],
        ..Default::default()
    };
    let prefixes: Vec<Prefix> = (0..2000u32)
        .map(|i| Prefix::new(IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + (i << 8))), 24).unwrap())
        .collect();
    for o in [CodecOptions::INITIAL, opts4()] {
        let mut out = Vec::new();
        let nh = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))];
        pack_announce(&attrs, Family::IPV4_UNICAST, &nh, &prefixes, &o, &mut out).unwrap();
        assert!(out.len() > 1);
        let mut got = Vec::new();
        for m in &out {
            assert!(m.len() <= 4096);
            let (msg, n) = decode_message(m, &o).unwrap().unwrap();
            assert_eq!(n, m.len());
            let Message::Update(u) = msg else {
                panic!("not an update")
            };
            assert_eq!(u.treat_as_withdraw, None);
            assert_eq!(u.attributes.as_path, attrs.as_path);
            got.extend(u.nlri);
        }
        assert_eq!(got, prefixes);
        let mut out = Vec::new();
        pack_withdraw(Family::IPV4_UNICAST, &prefixes, &o, &mut out).unwrap();
        let mut got = Vec::new();
        for m in &out {
            let Message::Update(u) = decode_message(m, &o).unwrap().unwrap().0 else {
                panic!()
            };
            got.extend(u.withdrawn);
        }
        assert_eq!(got, prefixes);
    }
}

#[test]
fn negotiation() {
    let mk = |caps: Vec<Capability>| Open {
        version: 4,
        my_as: 65001,
        hold_time: 90,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities: caps,
    };
    let ours = mk(vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        Capability::FourOctetAs(65001),
        Capability::ExtendedMessage,
        Capability::RouteRefresh,
    ]);
    let theirs = mk(vec![
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        Capability::FourOctetAs(65001),
    ]);
    let o = CodecOptions::negotiate(&ours, &theirs);
    assert_eq!(
        o,
        CodecOptions {
            four_octet_as: true,
            extended_message: false
        }
    );
    assert_eq!(ours.common_families(&theirs), vec![Family::IPV6_UNICAST]);
    assert!(ours.route_refresh() && !theirs.route_refresh());
    // No multiprotocol capability at all: IPv4 unicast (RFC 4760 §8).
    let plain = mk(vec![]);
    assert_eq!(ours.common_families(&plain), vec![Family::IPV4_UNICAST]);
    assert_eq!(
        CodecOptions::negotiate(&ours, &plain),
        CodecOptions::INITIAL
    );
}
