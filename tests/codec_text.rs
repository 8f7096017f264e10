//! Text forms of communities, origin and family: known spellings parse to the right
//! wire values, Display parses back, and bad input says what was expected.

use exabgp::bgp::{Afi, Community, ExtCommunity, Family, LargeCommunity, Origin, Safi};

#[test]
fn community_numbers_and_names() {
    assert_eq!("65000:1".parse::<Community>(), Ok(Community::new(65000, 1)));
    assert_eq!("0:0".parse::<Community>(), Ok(Community(0)));
    // RFC 1997 well-known values; RFC 7999 blackhole; RFC 8326 graceful-shutdown.
    let named = [
        ("no-export", 0xFFFF_FF01u32),
        ("no-advertise", 0xFFFF_FF02),
        ("no-export-subconfed", 0xFFFF_FF03),
        ("no-peer", 0xFFFF_FF04),
        ("blackhole", 0xFFFF_029A),
        ("graceful-shutdown", 0xFFFF_0000),
        ("accept-own", 0xFFFF_0001),
        ("llgr-stale", 0xFFFF_0006),
        ("no-llgr", 0xFFFF_0007),
    ];
    for (name, value) in named {
        let c: Community = name.parse().unwrap();
        assert_eq!(c, Community(value), "{name}");
        assert_eq!(c.to_string(), name);
        assert_eq!(name.to_uppercase().parse::<Community>(), Ok(c));
    }
    assert_eq!(Community(0xFFFF_FF01).to_string(), "no-export");
    assert_eq!(Community::new(65000, 1).to_string(), "65000:1");
    assert_eq!("4294967041".parse::<Community>(), Ok(Community::NO_EXPORT));
}

#[test]
fn community_errors_say_what_was_expected() {
    for bad in ["65536:1", "1:65536", "abc", "1:2:3", "", "-1:2"] {
        let e = bad.parse::<Community>().unwrap_err().to_string();
        assert!(e.contains("expected ASN:VALUE"), "{bad}: {e}");
        assert!(e.contains(&format!("'{bad}'")), "{e}");
    }
}

#[test]
fn large_community() {
    let c: LargeCommunity = "4200000000:1:2".parse().unwrap();
    assert_eq!(
        c,
        LargeCommunity {
            global: 4_200_000_000,
            local1: 1,
            local2: 2
        }
    );
    assert_eq!(c.to_string(), "4200000000:1:2");
    for bad in ["1:2", "1:2:3:4", "1:2:4294967296", "a:b:c"] {
        let e = bad.parse::<LargeCommunity>().unwrap_err().to_string();
        assert!(e.contains("GLOBAL:LOCAL1:LOCAL2"), "{e}");
    }
}

#[test]
fn ext_community_forms() {
    // RFC 4360 §4: two-octet AS specific route target, type 0x00 subtype 0x02.
    let rt: ExtCommunity = "target:65000:1".parse().unwrap();
    assert_eq!(rt.0, [0x00, 0x02, 0xFD, 0xE8, 0, 0, 0, 1]);
    assert_eq!(rt.to_string(), "target:65000:1");
    // RFC 4360 §5: route origin.
    let so: ExtCommunity = "origin:65000:70000".parse().unwrap();
    assert_eq!(so.0, [0x00, 0x03, 0xFD, 0xE8, 0, 1, 0x11, 0x70]);
    assert_eq!(so.to_string(), "origin:65000:70000");
    // RFC 4360 §3.2: IPv4 address specific, type 0x01.
    let ip: ExtCommunity = "target:192.0.2.1:5".parse().unwrap();
    assert_eq!(ip.0, [0x01, 0x02, 192, 0, 2, 1, 0, 5]);
    assert_eq!(ip.to_string(), "target:192.0.2.1:5");
    // RFC 5668: four-octet AS specific, type 0x02.
    let rt4: ExtCommunity = "target:4200000000:1".parse().unwrap();
    assert_eq!(rt4.0, [0x02, 0x02, 0xFA, 0x56, 0xEA, 0x00, 0, 1]);
    assert_eq!(rt4.to_string(), "target:4200000000:1");
    let small4: ExtCommunity = "target:65000L:1".parse().unwrap();
    assert_eq!(small4.0, [0x02, 0x02, 0, 0, 0xFD, 0xE8, 0, 1]);
    assert_eq!(small4.to_string(), "target:65000L:1");
    // Raw fallback for anything else.
    let raw: ExtCommunity = "0x8006000000000000".parse().unwrap();
    assert_eq!(raw.0, [0x80, 0x06, 0, 0, 0, 0, 0, 0]);
    assert_eq!(raw.to_string(), "0x8006000000000000");
    for bad in [
        "target:65000",
        "foo:1:2",
        "target:4200000000:70000",
        "0x12",
        "target:1.2.3:4",
    ] {
        let e = bad.parse::<ExtCommunity>().unwrap_err().to_string();
        assert!(e.contains("expected target:ASN:N"), "{bad}: {e}");
    }
}

#[test]
fn ext_community_display_parses_back() {
    for raw in [
        [0u8; 8],
        [0x02, 0x03, 0, 0, 0, 1, 0, 2],
        [0x01, 0x03, 10, 0, 0, 1, 0xFF, 0xFF],
    ] {
        let c = ExtCommunity(raw);
        assert_eq!(c.to_string().parse::<ExtCommunity>(), Ok(c), "{c}");
    }
}

#[test]
fn origin_text() {
    for (s, o) in [
        ("igp", Origin::Igp),
        ("egp", Origin::Egp),
        ("incomplete", Origin::Incomplete),
    ] {
        assert_eq!(s.parse::<Origin>(), Ok(o));
        assert_eq!(o.to_string(), s);
    }
    let e = "bgp".parse::<Origin>().unwrap_err().to_string();
    assert!(e.contains("igp, egp or incomplete"), "{e}");
}

#[test]
fn family_text() {
    assert_eq!("ipv4 unicast".parse::<Family>(), Ok(Family::IPV4_UNICAST));
    assert_eq!("IPv6  Unicast".parse::<Family>(), Ok(Family::IPV6_UNICAST));
    assert_eq!(Family::IPV4_UNICAST.to_string(), "ipv4 unicast");
    assert_eq!(Family::IPV6_UNICAST.to_string(), "ipv6 unicast");
    let flow: Family = "ipv4 flow".parse().unwrap();
    assert_eq!(
        flow,
        Family {
            afi: Afi::Ipv4,
            safi: Safi::Other(133)
        }
    );
    assert_eq!(flow.to_string(), "ipv4 flow");
    let odd = Family {
        afi: Afi::Other(99),
        safi: Safi::Other(200),
    };
    assert_eq!(odd.to_string(), "afi-99 safi-200");
    assert_eq!("afi-99 safi-200".parse::<Family>(), Ok(odd));
    // IANA numbers map onto the named variants, never onto Other(1).
    assert_eq!("afi-1 safi-1".parse::<Family>(), Ok(Family::IPV4_UNICAST));
    for bad in ["ipv4", "ipv4 unicast extra", "ipx unicast", "ipv4 anycast"] {
        let e = bad.parse::<Family>().unwrap_err().to_string();
        assert!(e.contains("\"ipv4 unicast\""), "{bad}: {e}");
    }
}
