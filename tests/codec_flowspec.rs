//! FlowSpec codec (bgp::flow): the RFCs' byte examples in both directions, the
//! malformed cases with the error each one gets, the text forms ExaBGP writes,
//! the traffic actions as extended communities, and round-trip / no-panic
//! properties over arbitrary rules and bytes.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use exabgp::bgp::flow::*;
use exabgp::bgp::{fuzz_decode, Afi, ExtCommunity, Family, Safi};
use proptest::collection::vec;
use proptest::prelude::*;
use support::codec::{hex, record};

fn v4(a: [u8; 4], len: u8) -> FlowPrefix {
    FlowPrefix::new(IpAddr::V4(Ipv4Addr::from(a)), len, 0).unwrap()
}

fn v6(a: &str, len: u8, offset: u8) -> FlowPrefix {
    FlowPrefix::new(IpAddr::V6(a.parse::<Ipv6Addr>().unwrap()), len, offset).unwrap()
}

fn num(and: bool, op: &str, value: u64) -> NumericMatch {
    NumericMatch {
        and,
        lt: op.contains('<'),
        gt: op.contains('>'),
        eq: op.contains('='),
        value,
    }
}

fn rule(ipv6: bool, components: Vec<Component>) -> FlowNlri {
    FlowNlri {
        rd: None,
        rule: FlowRule { ipv6, components },
    }
}

/// The fixture checked both ways: the bytes decode to the rule (and use all of
/// them), the rule encodes to exactly the bytes.
#[track_caller]
fn both_ways(bytes: &[u8], nlri: &FlowNlri) {
    record(bytes);
    let afi = nlri.rule.afi();
    let (got, used) = decode_flow_nlri(bytes, afi, nlri.rd.is_some()).unwrap();
    assert_eq!(&got, nlri, "decode");
    assert_eq!(used, bytes.len());
    let mut out = Vec::new();
    encode_flow_nlri(nlri, &mut out).unwrap();
    assert_eq!(out, bytes, "encode:\n got {out:02x?}\nwant {bytes:02x?}");
}

#[track_caller]
fn decode_err(bytes: &[u8], afi: Afi, vpn: bool) -> FlowDecodeError {
    record(bytes);
    decode_flow_nlri(bytes, afi, vpn).unwrap_err()
}

// ------------------------------------------------------------ RFC examples

/// RFC 8955 §4.2.3, first example: "all packets to 192.0.2.0/24 and TCP port 25".
#[test]
fn rfc8955_example_destination_protocol_port() {
    let bytes = hex("0b 01 18 c0 00 02 03 81 06 04 81 19");
    let nlri = rule(
        false,
        vec![
            Component::Destination(v4([192, 0, 2, 0], 24)),
            Component::Protocol(vec![NumericMatch::eq(6)]),
            Component::Port(vec![NumericMatch::eq(25)]),
        ],
    );
    both_ways(&bytes, &nlri);
    assert_eq!(
        nlri.rule.to_string(),
        "destination 192.0.2.0/24 protocol =tcp port =25"
    );
}

/// RFC 8955 §4.2.3, second example: "all packets to 192.0.2.0/24 from
/// 203.0.113.0/24 and port {range [137, 139] or 8080}".
#[test]
fn rfc8955_example_source_and_port_range() {
    let bytes = hex("12 01 18 c0 00 02 02 18 cb 00 71 04 03 89 45 8b 91 1f 90");
    let port = Component::Port(vec![
        num(false, ">=", 137),
        num(true, "<=", 139),
        num(false, "=", 8080),
    ]);
    let nlri = rule(
        false,
        vec![
            Component::Destination(v4([192, 0, 2, 0], 24)),
            Component::Source(v4([203, 0, 113, 0], 24)),
            port.clone(),
        ],
    );
    both_ways(&bytes, &nlri);
    // ExaBGP 5.0's JSON: one string per OR-ed term, an AND chain as one string.
    assert_eq!(port.json_name(false), "port");
    assert_eq!(port.json_values(), [">=137&<=139", "=8080"]);
    assert_eq!(
        nlri.rule.to_string(),
        "destination 192.0.2.0/24 source 203.0.113.0/24 port [ >=137&<=139 =8080 ]"
    );
}

/// RFC 8955 §4.2.3, third example: "all packets to 192.0.2.1/32 and fragment
/// { DF or FF }" (bitmask operator, m bit clear: any of the bits).
#[test]
fn rfc8955_example_fragment_bitmask() {
    let bytes = hex("09 01 20 c0 00 02 01 0c 80 05");
    let frag = Component::Fragment(vec![BitmaskMatch {
        and: false,
        not: false,
        matches: false,
        value: 0x05,
    }]);
    let nlri = rule(
        false,
        vec![Component::Destination(v4([192, 0, 2, 1], 32)), frag.clone()],
    );
    both_ways(&bytes, &nlri);
    assert_eq!(frag.json_values(), ["dont-fragment+first-fragment"]);
}

/// RFC 8956 §3.8, first example: packets to 2001:db8::/32 from
/// ::1234:5678:9a00:0/64-104 (offset 64) with upper-layer protocol tcp.
#[test]
fn rfc8956_example_prefix_with_offset() {
    let bytes = hex("12 01 20 00 20 01 0d b8 02 68 40 12 34 56 78 9a 03 81 06");
    let src = Component::Source(v6("::1234:5678:9a00:0", 104, 64));
    let nlri = rule(
        true,
        vec![
            Component::Destination(v6("2001:db8::", 32, 0)),
            src.clone(),
            Component::Protocol(vec![NumericMatch::eq(6)]),
        ],
    );
    both_ways(&bytes, &nlri);
    assert_eq!(src.json_name(true), "source-ipv6");
    assert_eq!(src.json_values(), ["::1234:5678:9a00:0/104/64"]);
    assert_eq!(
        nlri.rule.to_string(),
        "destination 2001:db8::/32/0 source ::1234:5678:9a00:0/104/64 next-header =tcp"
    );
}

/// RFC 8956 §3.8, second example: the source at offset 65: the pattern is
/// shifted by one bit (`41 24 68 ac f1 34`).
#[test]
fn rfc8956_example_offset_not_on_an_octet() {
    let bytes = hex("0f 01 20 00 20 01 0d b8 02 68 41 24 68 ac f1 34");
    let nlri = rule(
        true,
        vec![
            Component::Destination(v6("2001:db8::", 32, 0)),
            Component::Source(v6("::1234:5678:9a00:0", 104, 65)),
        ],
    );
    both_ways(&bytes, &nlri);
}

/// RFC 8956 §3.1: "Padding bits ... MUST be ignored on receipt": a set padding
/// bit decodes to the same rule (and re-encodes with it clear).
#[test]
fn ipv6_padding_bits_are_ignored() {
    let bytes = hex("08 02 68 41 24 68 ac f1 35");
    let (got, _) = decode_flow_nlri(&bytes, Afi::Ipv6, false).unwrap();
    assert_eq!(
        got.rule.components,
        [Component::Source(v6("::1234:5678:9a00:0", 104, 65))]
    );
}

/// RFC 8956 §3.7 flow label (type 13, 4-octet value), and every other numeric
/// and bitmask type in one IPv6 rule, text and bytes.
#[test]
fn every_component_type() {
    let text = "destination 2001:db8::/64/0 source 2001:db8:1::/48/0 next-header [ tcp udp ] \
                port =443 destination-port >1024&<2048 source-port <=1023 icmp-type echo-request \
                icmp-code =3 tcp-flags [ =syn !rst ] packet-length >=1000 traffic-class =46 \
                fragment [ not-a-fragment ] flow-label =74565";
    let parsed: FlowRule = text.parse().unwrap();
    assert!(parsed.ipv6);
    assert_eq!(parsed.components.len(), 13);
    let mut bytes = Vec::new();
    let nlri = FlowNlri {
        rd: None,
        rule: parsed.clone(),
    };
    encode_flow_nlri(&nlri, &mut bytes).unwrap();
    let (back, _) = decode_flow_nlri(&bytes, Afi::Ipv6, false).unwrap();
    assert_eq!(back.rule, parsed);
    // flow label 74565 = 0x12345 needs the 4-octet length: op 0xa1.
    assert!(bytes.ends_with(&hex("0d a1 00 01 23 45")), "{bytes:02x?}");
    assert_eq!(
        parsed.to_string(),
        "destination 2001:db8::/64/0 source 2001:db8:1::/48/0 next-header [ =tcp =udp ] \
         port =443 destination-port >1024&<2048 source-port <=1023 icmp-type =echo-request \
         icmp-code =3 tcp-flags [ =syn !rst ] packet-length >=1000 traffic-class =46 \
         fragment !is-fragment flow-label =74565"
    );
}

/// SAFI 134: the 8-octet route distinguisher comes before the components and
/// counts in the length (RFC 8955 §8).
#[test]
fn flow_vpn_route_distinguisher() {
    let bytes = hex("10 00 00 fd e8 00 00 00 64 01 18 c0 00 02 03 81 11");
    let nlri = FlowNlri {
        rd: Some([0, 0, 0xfd, 0xe8, 0, 0, 0, 0x64]),
        rule: FlowRule {
            ipv6: false,
            components: vec![
                Component::Destination(v4([192, 0, 2, 0], 24)),
                Component::Protocol(vec![NumericMatch::eq(17)]),
            ],
        },
    };
    both_ways(&bytes, &nlri);
    assert!(matches!(
        decode_err(&hex("04 00 00 fd e8"), Afi::Ipv4, true),
        FlowDecodeError::ShortRouteDistinguisher { length: 4 }
    ));
    assert!(matches!(
        decode_err(&hex("08 00 00 fd e8 00 00 00 64"), Afi::Ipv4, true),
        FlowDecodeError::Empty
    ));
}

#[test]
fn families_stay_safi_other() {
    assert_eq!(Family::IPV4_FLOW.safi, Safi::Other(133));
    assert_eq!(Family::IPV6_FLOW_VPN.safi, Safi::Other(134));
    assert_eq!(Family::IPV6_FLOW.afi, Afi::Ipv6);
}

/// Several NLRI in one field, decoded in sequence.
#[test]
fn nlri_field_with_two_rules() {
    let bytes = hex("05 01 18 c0 00 02 03 03 81 06");
    let all = decode_flow_nlris(&bytes, Afi::Ipv4, false).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[1].rule.components,
        [Component::Protocol(vec![NumericMatch::eq(6)])]
    );
}

// ------------------------------------------------------------ 1/2-octet length

/// A port component of exactly `n` octets: type, then 1-octet ops (2 octets
/// each), with one 2-octet op when `n` is even.
fn rule_of_len(n: usize) -> FlowNlri {
    let mut ops = Vec::new();
    let mut left = n - 1;
    if left % 2 == 1 {
        ops.push(NumericMatch::eq(0x100));
        left -= 3;
    }
    for i in 0..left / 2 {
        ops.push(NumericMatch::eq(i as u64 % 256));
    }
    rule(false, vec![Component::Port(ops)])
}

/// RFC 8955 §4.1: below 240 one octet; from 240 "0xfnnn" in two; 4095 at most.
#[test]
fn length_edges_239_240_4095() {
    for (n, head) in [
        (239usize, vec![0xefu8]),
        (240, vec![0xf0, 0xf0]),
        (4095, vec![0xff, 0xff]),
    ] {
        let nlri = rule_of_len(n);
        let mut out = Vec::new();
        encode_flow_nlri(&nlri, &mut out).unwrap();
        assert_eq!(out.len(), n + head.len(), "length {n}");
        assert_eq!(out[..head.len()], head[..], "length {n}");
        let (back, used) = decode_flow_nlri(&out, Afi::Ipv4, false).unwrap();
        assert_eq!(used, out.len());
        assert_eq!(back, nlri, "length {n}");
    }
    let mut out = vec![0x55];
    assert_eq!(
        encode_flow_nlri(&rule_of_len(4096), &mut out),
        Err(FlowEncodeError::TooLong { length: 4096 })
    );
    assert_eq!(out, [0x55], "a failed encode leaves the buffer alone");
}

/// A short length written in two octets (0xf00b) is still understood.
#[test]
fn two_octet_length_below_240_decodes() {
    let bytes = hex("f0 0b 01 18 c0 00 02 03 81 06 04 81 19");
    let (got, used) = decode_flow_nlri(&bytes, Afi::Ipv4, false).unwrap();
    assert_eq!(used, 13);
    assert_eq!(got.rule.components.len(), 3);
}

// ------------------------------------------------------------ malformed

#[test]
fn components_out_of_order_are_malformed() {
    // RFC 8955 §4.2: "Components MUST follow strict type ordering".
    let e = decode_err(&hex("08 03 81 06 01 18 c0 00 02"), Afi::Ipv4, false);
    assert_eq!(
        e,
        FlowDecodeError::OutOfOrder {
            previous: 3,
            found: 1
        }
    );
    assert!(e.is_delimited());
    // The same type twice is out of order too.
    let e = decode_err(&hex("06 03 81 06 03 81 11"), Afi::Ipv4, false);
    assert_eq!(
        e,
        FlowDecodeError::OutOfOrder {
            previous: 3,
            found: 3
        }
    );
}

#[test]
fn bad_operator_value_length() {
    // A port with a 4-octet value (op 0xa1): ports are 1 or 2 octets.
    let e = decode_err(&hex("06 04 a1 00 00 00 50"), Afi::Ipv4, false);
    assert_eq!(
        e,
        FlowDecodeError::BadOperatorLength {
            code: 4,
            op: 0xa1,
            length: 4,
            max: 2
        }
    );
    // A protocol with a 2-octet value.
    let e = decode_err(&hex("04 03 91 00 06"), Afi::Ipv4, false);
    assert!(matches!(
        e,
        FlowDecodeError::BadOperatorLength {
            code: 3,
            length: 2,
            ..
        }
    ));
}

/// RFC 8955 §4.2.1: the reserved operator bits "MUST be ignored during decoding".
#[test]
fn reserved_operator_bits_are_ignored() {
    let (got, _) = decode_flow_nlri(&hex("03 04 89 19"), Afi::Ipv4, false).unwrap();
    assert_eq!(
        got.rule.components,
        [Component::Port(vec![NumericMatch::eq(25)])]
    );
    let (got, _) = decode_flow_nlri(&hex("03 09 8d 02"), Afi::Ipv4, false).unwrap();
    assert_eq!(
        got.rule.components,
        [Component::TcpFlags(vec![BitmaskMatch {
            and: false,
            not: false,
            matches: true,
            value: 2
        }])]
    );
}

#[test]
fn overruns() {
    // The length says 11, 5 octets follow: the field cannot be walked.
    let e = decode_err(&hex("0b 01 18 c0 00 02"), Afi::Ipv4, false);
    assert_eq!(
        e,
        FlowDecodeError::LengthOverrun {
            length: 11,
            available: 5
        }
    );
    assert!(!e.is_delimited());
    assert_eq!(
        decode_err(&hex("f1"), Afi::Ipv4, false),
        FlowDecodeError::TruncatedLength
    );
    assert_eq!(
        decode_err(&[], Afi::Ipv4, false),
        FlowDecodeError::TruncatedLength
    );
    // The operator list has no end bit before the NLRI ends.
    let e = decode_err(&hex("03 04 01 50"), Afi::Ipv4, false);
    assert_eq!(e, FlowDecodeError::ComponentOverrun { code: 4 });
    assert!(e.is_delimited());
    // A /24 with two octets of prefix.
    let e = decode_err(&hex("04 02 18 cb 00"), Afi::Ipv4, false);
    assert_eq!(e, FlowDecodeError::ComponentOverrun { code: 2 });
    // A value cut short.
    let e = decode_err(&hex("03 05 91 1f"), Afi::Ipv4, false);
    assert_eq!(e, FlowDecodeError::ComponentOverrun { code: 5 });
}

#[test]
fn prefix_too_long_and_bad_offset() {
    let e = decode_err(&hex("06 01 21 c0 00 02 01"), Afi::Ipv4, false);
    assert_eq!(
        e,
        FlowDecodeError::PrefixTooLong {
            code: 1,
            len: 33,
            max: 32
        }
    );
    let e = decode_err(&hex("03 02 81 00"), Afi::Ipv6, false);
    assert_eq!(
        e,
        FlowDecodeError::PrefixTooLong {
            code: 2,
            len: 129,
            max: 128
        }
    );
    // RFC 8956 §3.1: length must be strictly greater than offset (unless both 0).
    let e = decode_err(&hex("03 01 20 20"), Afi::Ipv6, false);
    assert_eq!(
        e,
        FlowDecodeError::BadOffset {
            code: 1,
            offset: 32,
            len: 32
        }
    );
    let (ok, _) = decode_flow_nlri(&hex("03 01 00 00"), Afi::Ipv6, false).unwrap();
    assert_eq!(ok.rule.components, [Component::Destination(v6("::", 0, 0))]);
}

#[test]
fn unknown_components_and_empty() {
    let e = decode_err(&hex("03 0d 81 01"), Afi::Ipv4, false);
    assert_eq!(
        e,
        FlowDecodeError::UnknownComponent {
            code: 13,
            afi: "ipv4"
        }
    );
    let e = decode_err(&hex("03 0e 81 01"), Afi::Ipv6, false);
    assert_eq!(
        e,
        FlowDecodeError::UnknownComponent {
            code: 14,
            afi: "ipv6"
        }
    );
    let e = decode_err(&hex("03 00 81 01"), Afi::Ipv4, false);
    assert_eq!(
        e,
        FlowDecodeError::UnknownComponent {
            code: 0,
            afi: "ipv4"
        }
    );
    assert_eq!(
        decode_err(&hex("00"), Afi::Ipv4, false),
        FlowDecodeError::Empty
    );
    assert!(matches!(
        decode_flow_nlri(&hex("00"), Afi::Other(25), false),
        Err(FlowDecodeError::UnsupportedAfi(Afi::Other(25)))
    ));
}

#[test]
fn encode_refusals() {
    let dup = rule(
        false,
        vec![
            Component::Port(vec![NumericMatch::eq(80)]),
            Component::Port(vec![NumericMatch::eq(443)]),
        ],
    );
    let mut out = Vec::new();
    assert_eq!(
        encode_flow_nlri(&dup, &mut out),
        Err(FlowEncodeError::DuplicateComponent { code: 4 })
    );
    let cases = [
        (rule(false, vec![]), FlowEncodeError::Empty),
        (
            rule(false, vec![Component::Port(vec![])]),
            FlowEncodeError::EmptyComponent { code: 4 },
        ),
        (
            rule(false, vec![Component::Port(vec![NumericMatch::eq(65536)])]),
            FlowEncodeError::ValueTooLarge {
                code: 4,
                value: 65536,
                max: 2,
            },
        ),
        (
            rule(false, vec![Component::FlowLabel(vec![NumericMatch::eq(1)])]),
            FlowEncodeError::WrongFamily {
                code: 13,
                afi: "ipv4",
            },
        ),
        (
            rule(true, vec![Component::Destination(v4([10, 0, 0, 0], 8))]),
            FlowEncodeError::WrongFamily {
                code: 1,
                afi: "ipv6",
            },
        ),
    ];
    for (nlri, want) in cases {
        assert_eq!(encode_flow_nlri(&nlri, &mut out), Err(want));
    }
    assert!(out.is_empty());
}

/// Encoding sorts: the order components are given in does not matter.
#[test]
fn encode_sorts_components() {
    let a = rule(
        false,
        vec![
            Component::Port(vec![NumericMatch::eq(25)]),
            Component::Protocol(vec![NumericMatch::eq(6)]),
            Component::Destination(v4([192, 0, 2, 0], 24)),
        ],
    );
    let mut out = Vec::new();
    encode_flow_nlri(&a, &mut out).unwrap();
    assert_eq!(out, hex("0b 01 18 c0 00 02 03 81 06 04 81 19"));
}

// ------------------------------------------------------------ text

#[test]
fn exabgp_match_expressions() {
    let cases: [(&str, &str); 10] = [
        ("destination-port =80", "destination-port =80"),
        ("destination-port 80", "destination-port =80"),
        ("port >1024&<2048", "port >1024&<2048"),
        ("port [ =80 =443 ]", "port [ =80 =443 ]"),
        ("protocol tcp", "protocol =tcp"),
        ("protocol [ tcp udp ]", "protocol [ =tcp =udp ]"),
        ("tcp-flags [ syn ack ]", "tcp-flags [ syn ack ]"),
        ("tcp-flags =syn+ack&!rst", "tcp-flags =syn+ack&!rst"),
        ("fragment [ not-a-fragment ]", "fragment !is-fragment"),
        ("source 10.0.0.0/24", "source 10.0.0.0/24"),
    ];
    for (input, shown) in cases {
        let r: FlowRule = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
        assert!(!r.ipv6, "{input}");
        assert_eq!(r.to_string(), shown, "{input}");
        assert_eq!(shown.parse::<FlowRule>().unwrap(), r, "{shown}");
    }
    // The one-line form (actions aside).
    let r: FlowRule = "source 10.0.0.1/32 destination-port =80 protocol tcp"
        .parse()
        .unwrap();
    assert_eq!(
        r.to_string(),
        "source 10.0.0.1/32 protocol =tcp destination-port =80"
    );
    // IPv6 with and without the offset.
    let a: FlowRule = "destination 2001:db8::/64/0".parse().unwrap();
    let b: FlowRule = "destination 2001:db8::/64".parse().unwrap();
    assert!(a.ipv6);
    assert_eq!(a, b);
    assert_eq!(a.components[0].json_values(), ["2001:db8::/64/0"]);
    assert_eq!(a.components[0].json_name(true), "destination-ipv6");
    // ExaBGP's own JSON key names are accepted too.
    let c: FlowRule = "destination-ipv4 10.0.0.0/8".parse().unwrap();
    assert_eq!(c.components[0].json_name(false), "destination-ipv4");
}

#[test]
fn bad_match_expressions() {
    for bad in [
        "",
        "port",
        "port =",
        "port =80&",
        "port =65536",
        "port [ =80",
        "port [ ]",
        "colour red",
        "protocol tcpx",
        "dscp 64",
        "tcp-flags [ syn bogus ]",
        "destination 10.0.0.1/24",
        "destination 10.0.0.0/33",
        "destination 10.0.0.0/8/0",
        "destination 2001:db8::/32/32",
        "destination 10.0.0.0/8 source 2001:db8::/32",
        "destination 10.0.0.0/8 flow-label 1",
        "port =80 port =443",
    ] {
        assert!(bad.parse::<FlowRule>().is_err(), "{bad:?} parsed");
    }
}

// ------------------------------------------------------------ actions

#[test]
fn traffic_actions_as_extended_communities() {
    let cases: [(&str, &str, FlowAction); 12] = [
        ("discard", "80 06 00 00 00 00 00 00", FlowAction::DISCARD),
        (
            "rate-limit 9600",
            "80 06 00 00 46 16 00 00",
            FlowAction::RateBytes {
                asn: 0,
                rate: 9600.0,
            },
        ),
        (
            "rate-limit-packets 100",
            "80 0c 00 00 42 c8 00 00",
            FlowAction::RatePackets {
                asn: 0,
                rate: 100.0,
            },
        ),
        (
            "action sample-terminal",
            "80 07 00 00 00 00 00 03",
            FlowAction::Action {
                sample: true,
                terminal: true,
            },
        ),
        (
            "action sample",
            "80 07 00 00 00 00 00 02",
            FlowAction::Action {
                sample: true,
                terminal: false,
            },
        ),
        (
            "redirect 65000:100",
            "80 08 fd e8 00 00 00 64",
            FlowAction::RedirectAs2 {
                asn: 65000,
                value: 100,
            },
        ),
        (
            "redirect 192.0.2.1:100",
            "81 08 c0 00 02 01 00 64",
            FlowAction::RedirectIpv4 {
                ip: Ipv4Addr::new(192, 0, 2, 1),
                value: 100,
            },
        ),
        (
            "redirect 4200000000:100",
            "82 08 fa 56 ea 00 00 64",
            FlowAction::RedirectAs4 {
                asn: 4_200_000_000,
                value: 100,
            },
        ),
        (
            "mark 46",
            "80 09 00 00 00 00 00 2e",
            FlowAction::Mark { dscp: 46 },
        ),
        (
            "redirect-to-nexthop",
            "08 00 00 00 00 00 00 00",
            FlowAction::RedirectToNexthop { copy: false },
        ),
        (
            "copy-to-nexthop",
            "08 00 00 00 00 00 00 01",
            FlowAction::RedirectToNexthop { copy: true },
        ),
        (
            "redirect-to-nexthop-ietf 192.0.2.1",
            "01 0c c0 00 02 01 00 00",
            FlowAction::RedirectToIp {
                ip: Ipv4Addr::new(192, 0, 2, 1),
                copy: false,
            },
        ),
    ];
    for (text, bytes, action) in cases {
        let ec = ExtCommunity(hex(bytes).try_into().unwrap());
        assert_eq!(ExtCommunity::from(action), ec, "{text}");
        assert_eq!(FlowAction::from_ext_community(&ec), Some(action), "{text}");
        assert_eq!(action.to_string(), text);
        assert_eq!(text.parse::<FlowAction>().unwrap(), action, "{text}");
    }
    // A route target is not an action.
    let rt = ExtCommunity(hex("00 02 fd e8 00 00 00 64").try_into().unwrap());
    assert_eq!(FlowAction::from_ext_community(&rt), None);
    for bad in [
        "redirect 10.0.0.1",
        "redirect 70000:70000",
        "mark 64",
        "rate-limit -1",
        "action",
        "action bogus",
        "drop",
    ] {
        assert!(bad.parse::<FlowAction>().is_err(), "{bad:?} parsed");
    }
}

// ------------------------------------------------------------ properties

fn numeric_max_text(code: u8) -> u64 {
    match code {
        4..=6 | 10 => 0xffff,
        11 => 63,
        13 => 0xf_ffff,
        _ => 0xff,
    }
}

fn numeric_list(code: u8) -> impl Strategy<Value = Vec<NumericMatch>> {
    vec((any::<bool>(), 0u8..8, 0..=numeric_max_text(code)), 1..4).prop_map(|ops| {
        ops.into_iter()
            .enumerate()
            .map(|(i, (and, op, value))| NumericMatch {
                and: and && i > 0,
                lt: op & 4 != 0,
                gt: op & 2 != 0,
                eq: op & 1 != 0,
                // true / false print without their value.
                value: if op == 0 || op == 7 { 0 } else { value },
            })
            .collect()
    })
}

fn bitmask_list(max: u64) -> impl Strategy<Value = Vec<BitmaskMatch>> {
    vec((any::<bool>(), any::<bool>(), any::<bool>(), 0..=max), 1..4).prop_map(|ops| {
        ops.into_iter()
            .enumerate()
            .map(|(i, (and, not, matches, value))| BitmaskMatch {
                and: and && i > 0,
                not,
                matches,
                value,
            })
            .collect()
    })
}

fn prefix(ipv6: bool) -> BoxedStrategy<FlowPrefix> {
    if ipv6 {
        (any::<u128>(), 0u8..=128, any::<prop::sample::Index>())
            .prop_map(|(a, len, off)| {
                let offset = if len == 0 {
                    0
                } else {
                    off.index(usize::from(len)) as u8
                };
                FlowPrefix::new(IpAddr::V6(Ipv6Addr::from(a)), len, offset).unwrap()
            })
            .boxed()
    } else {
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, len)| FlowPrefix::new(IpAddr::V4(Ipv4Addr::from(a)), len, 0).unwrap())
            .boxed()
    }
}

fn component(code: u8, ipv6: bool) -> BoxedStrategy<Component> {
    match code {
        1 => prefix(ipv6).prop_map(Component::Destination).boxed(),
        2 => prefix(ipv6).prop_map(Component::Source).boxed(),
        9 => bitmask_list(0xffff).prop_map(Component::TcpFlags).boxed(),
        12 => bitmask_list(0xff).prop_map(Component::Fragment).boxed(),
        3 => numeric_list(3).prop_map(Component::Protocol).boxed(),
        4 => numeric_list(4).prop_map(Component::Port).boxed(),
        5 => numeric_list(5).prop_map(Component::DestinationPort).boxed(),
        6 => numeric_list(6).prop_map(Component::SourcePort).boxed(),
        7 => numeric_list(7).prop_map(Component::IcmpType).boxed(),
        8 => numeric_list(8).prop_map(Component::IcmpCode).boxed(),
        10 => numeric_list(10).prop_map(Component::PacketLength).boxed(),
        11 => numeric_list(11).prop_map(Component::Dscp).boxed(),
        _ => numeric_list(13).prop_map(Component::FlowLabel).boxed(),
    }
}

/// A valid rule, components in type order.
fn flow_rule() -> impl Strategy<Value = FlowRule> {
    any::<bool>().prop_flat_map(|ipv6| {
        let codes: Vec<u8> = (1..=if ipv6 { 13 } else { 12 }).collect();
        prop::sample::subsequence(codes.clone(), 1..=codes.len()).prop_flat_map(move |codes| {
            codes
                .into_iter()
                .map(|c| component(c, ipv6))
                .collect::<Vec<_>>()
                .prop_map(move |components| FlowRule { ipv6, components })
        })
    })
}

fn flow_action() -> impl Strategy<Value = FlowAction> {
    prop_oneof![
        (0u32..=1_000_000_000).prop_map(|r| FlowAction::RateBytes {
            asn: 0,
            rate: r as f32
        }),
        (0u32..=1_000_000).prop_map(|r| FlowAction::RatePackets {
            asn: 0,
            rate: r as f32
        }),
        (any::<bool>(), any::<bool>())
            .prop_map(|(sample, terminal)| FlowAction::Action { sample, terminal }),
        (any::<u16>(), any::<u32>())
            .prop_map(|(asn, value)| FlowAction::RedirectAs2 { asn, value }),
        (65536u32.., any::<u16>()).prop_map(|(asn, value)| FlowAction::RedirectAs4 { asn, value }),
        (any::<u32>(), any::<u16>()).prop_map(|(ip, value)| FlowAction::RedirectIpv4 {
            ip: Ipv4Addr::from(ip),
            value
        }),
        (0u8..64).prop_map(|dscp| FlowAction::Mark { dscp }),
        any::<bool>().prop_map(|copy| FlowAction::RedirectToNexthop { copy }),
        (any::<u32>(), any::<bool>()).prop_map(|(ip, copy)| FlowAction::RedirectToIp {
            ip: Ipv4Addr::from(ip),
            copy
        }),
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// encode -> decode gives the rule back, whatever order the components were
    /// given in, with or without a route distinguisher.
    #[test]
    fn wire_roundtrip(
        r in flow_rule(),
        rd in proptest::option::of(any::<[u8; 8]>()),
        shuffle in any::<usize>(),
    ) {
        let mut given = r.clone();
        let n = given.components.len();
        given.components.rotate_left(shuffle % n);
        let nlri = FlowNlri { rd, rule: given };
        let mut bytes = Vec::new();
        encode_flow_nlri(&nlri, &mut bytes).unwrap();
        let (back, used) = decode_flow_nlri(&bytes, r.afi(), rd.is_some()).unwrap();
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(back, FlowNlri { rd, rule: r });
    }

    /// Display -> parse gives the rule back.
    #[test]
    fn text_roundtrip(r in flow_rule()) {
        let text = r.to_string();
        let back = FlowRule::parse(&text, Some(r.ipv6));
        prop_assert_eq!(back, Ok(r), "{}", text);
    }

    #[test]
    fn action_roundtrip(a in flow_action()) {
        let ec = a.to_ext_community();
        prop_assert_eq!(FlowAction::from_ext_community(&ec), Some(a));
        prop_assert_eq!(a.to_string().parse::<FlowAction>(), Ok(a));
    }

    /// Arbitrary bytes never panic the flow decoder (for either AFI, with and
    /// without rd), and whatever decodes survives the fuzz property.
    #[test]
    fn decode_never_panics(bytes in vec(any::<u8>(), 0..96)) {
        for afi in [Afi::Ipv4, Afi::Ipv6, Afi::Other(3)] {
            for vpn in [false, true] {
                let _ = decode_flow_nlris(&bytes, afi, vpn);
            }
        }
        fuzz_decode(&bytes);
    }

    /// Valid encodings with one octet changed: still no panic, and the fuzz
    /// round-trip property holds for what decodes.
    #[test]
    fn damaged_rules_never_panic(
        r in flow_rule(),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut bytes = Vec::new();
        encode_flow_nlri(&FlowNlri { rd: None, rule: r }, &mut bytes).unwrap();
        let i = at.index(bytes.len());
        bytes[i] = value;
        fuzz_decode(&bytes);
    }
}
