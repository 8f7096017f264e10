//! Flow rules inside UPDATE messages (RFC 8955 §4: MP_REACH_NLRI / MP_UNREACH_NLRI
//! with AFI 1/2, SAFI 133/134, next hop length 0, actions as extended
//! communities) and the treatment of malformed flow NLRI (RFC 8955 §4.2 and §10,
//! RFC 7606 §2, §3 j, §5.3).

mod support;

use std::net::{IpAddr, Ipv4Addr};

use exabgp::bgp::flow::*;
use exabgp::bgp::{
    decode_message, decode_message_negotiated, encode_message, AsPath, CodecOptions, DecodeError,
    EncodeError, ExtCommunity, Family, FlowReach, FlowUnreach, Message, MpUnreach, Origin,
    PathAttributes, Update,
};
use support::codec::{hex, record};

const OPTS: CodecOptions = CodecOptions {
    four_octet_as: true,
    extended_message: false,
};

/// destination 10.0.0.0/24 protocol =tcp destination-port =80
fn web_rule() -> FlowNlri {
    FlowNlri {
        rd: None,
        rule: FlowRule {
            ipv6: false,
            components: vec![
                Component::Destination(
                    FlowPrefix::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), 24, 0).unwrap(),
                ),
                Component::Protocol(vec![NumericMatch::eq(6)]),
                Component::DestinationPort(vec![NumericMatch::eq(80)]),
            ],
        },
    }
}

/// Its NLRI: length 11, type 1 /24 10.0.0, type 3 =6, type 5 =80.
const WEB_NLRI: &str = "0b 01 18 0a 00 00 03 81 06 05 81 50";

fn message(attrs: &str) -> Vec<u8> {
    let attrs = hex(attrs);
    let mut m = vec![0xff; 16];
    let len = 19 + 4 + attrs.len();
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(&attrs);
    m
}

fn decode(bytes: &[u8]) -> Result<Update, DecodeError> {
    record(bytes);
    match decode_message(bytes, &OPTS)? {
        Some((Message::Update(u), used)) => {
            assert_eq!(used, bytes.len());
            Ok(u)
        }
        other => panic!("not an UPDATE: {other:?}"),
    }
}

fn encode(u: Update) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_message(&Message::Update(u), &OPTS, &mut out)?;
    Ok(out)
}

/// RFC 8955 §4: "the 'Length of Next Hop Network Address' field MUST be set to
/// 0"; the discard action is traffic-rate-bytes 0 (§7.3).
#[test]
fn announce_with_next_hop_length_zero_both_ways() {
    let bytes = message(&format!(
        "40 01 01 00  40 02 00 \
         80 0e 11 00 01 85 00 00 {WEB_NLRI} \
         c0 10 08 80 06 00 00 00 00 00 00"
    ));
    let discard = FlowAction::DISCARD.to_ext_community();
    assert_eq!(discard, ExtCommunity([0x80, 0x06, 0, 0, 0, 0, 0, 0]));
    let u = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            ext_communities: vec![discard],
            flow_reach: Some(FlowReach {
                family: Family::IPV4_FLOW,
                next_hops: vec![],
                nlri: vec![web_rule()],
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(decode(&bytes).unwrap(), u);
    assert_eq!(encode(u).unwrap(), bytes);
}

#[test]
fn withdraw_both_ways_and_flow_vpn_family() {
    let bytes = message(&format!("80 0f 0f 00 01 85 {WEB_NLRI}"));
    let u = Update {
        attributes: PathAttributes {
            flow_unreach: Some(FlowUnreach {
                family: Family::IPV4_FLOW,
                withdrawn: vec![web_rule()],
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(decode(&bytes).unwrap(), u);
    assert_eq!(encode(u).unwrap(), bytes);

    // SAFI 134: the same rule behind route distinguisher 0:65000:1 (length 11 + 8).
    let bytes =
        message("80 0f 17 00 01 86 13 00 00 fd e8 00 00 00 01 01 18 0a 00 00 03 81 06 05 81 50");
    let mut vpn = web_rule();
    vpn.rd = Some([0, 0, 0xfd, 0xe8, 0, 0, 0, 1]);
    let u = decode(&bytes).unwrap();
    assert_eq!(
        u.attributes.flow_unreach,
        Some(FlowUnreach {
            family: Family::IPV4_FLOW_VPN,
            withdrawn: vec![vpn.clone()]
        })
    );
    assert_eq!(encode(u).unwrap(), bytes);
}

/// An empty MP_UNREACH_NLRI of a flow family is the End-of-RIB (RFC 4724 §2).
#[test]
fn end_of_rib_of_flow_family() {
    let u = decode(&message("80 0f 03 00 02 85")).unwrap();
    assert_eq!(u.end_of_rib(), Some(Family::IPV6_FLOW));
    assert_eq!(
        u.attributes.mp_unreach,
        Some(MpUnreach {
            family: Family::IPV6_FLOW,
            withdrawn: vec![]
        })
    );
}

/// A next hop sent anyway (redirect-to-nexthop speakers) is read, not refused:
/// RFC 8955 §4 "MUST be ignored upon receipt". An odd length is ignored too.
#[test]
fn received_next_hop_is_ignored_not_refused() {
    let u = decode(&message(&format!(
        "40 01 01 00 40 02 00 80 0e 15 00 01 85 04 c0 00 02 01 00 {WEB_NLRI}"
    )))
    .unwrap();
    let f = u.attributes.flow_reach.unwrap();
    assert_eq!(f.next_hops, vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
    assert_eq!(f.nlri, vec![web_rule()]);
    let u = decode(&message(&format!(
        "40 01 01 00 40 02 00 80 0e 14 00 01 85 03 c0 00 02 00 {WEB_NLRI}"
    )))
    .unwrap();
    assert!(u.treat_as_withdraw.is_none());
    assert!(u.attributes.flow_reach.unwrap().next_hops.is_empty());
}

/// RFC 8955 §4.2: components out of order make the rule malformed; §10 defers
/// to RFC 7606, whose treat-as-withdraw (§2) applies as the field was walked
/// (each rule has its own length): the sound rule is withdrawn, the malformed
/// one dropped, the session stays up.
#[test]
fn rule_out_of_order_is_treat_as_withdraw() {
    // Rule 2: type 5 before type 3.
    let bytes = message(&format!(
        "40 01 01 00 40 02 00 80 0e 18 00 01 85 00 00 {WEB_NLRI} 06 05 81 50 03 81 06"
    ));
    let u = decode(&bytes).unwrap();
    let reason = u.treat_as_withdraw.clone().unwrap();
    assert!(reason.contains("RFC 8955 §4.2"), "{reason}");
    assert!(reason.contains("type 3 after type 5"), "{reason}");
    assert_eq!(u.attributes.flow_reach, None);
    assert_eq!(
        u.attributes.flow_unreach,
        Some(FlowUnreach {
            family: Family::IPV4_FLOW,
            withdrawn: vec![web_rule()]
        })
    );
    // What a session does with it is re-encodable.
    let again = decode(&encode(u).unwrap()).unwrap();
    assert_eq!(
        again.attributes.flow_unreach.unwrap().withdrawn,
        vec![web_rule()]
    );
}

/// A bad operator (a 4-octet value for the 1-octet protocol) is malformed too.
#[test]
fn bad_operator_is_treat_as_withdraw() {
    let u = decode(&message(
        "40 01 01 00 40 02 00 80 0e 0c 00 01 85 00 00 06 03 a1 00 00 00 06",
    ))
    .unwrap();
    assert!(u.treat_as_withdraw.is_some());
    assert_eq!(u.attributes.flow_reach, None);
    assert_eq!(u.attributes.flow_unreach, None);
}

/// A length that runs past the attribute: the NLRI field cannot be walked, so
/// treat-as-withdraw is impossible (RFC 7606 §5.3, §3 j): session reset with
/// UPDATE error 3/9, the attribute as data.
#[test]
fn length_overrun_resets_the_session() {
    let bytes = message("40 01 01 00 40 02 00 80 0e 0a 00 01 85 00 00 0b 01 18 0a 00 00");
    match decode(&bytes) {
        Err(e @ DecodeError::OptionalAttribute { .. }) => {
            assert_eq!((e.code(), e.subcode()), (3, 9));
        }
        other => panic!("{other:?}"),
    }
    // In MP_UNREACH_NLRI too.
    let bytes = message("80 0f 05 00 01 85 f0 10");
    assert!(matches!(
        decode(&bytes),
        Err(DecodeError::OptionalAttribute { .. })
    ));
}

#[test]
fn encoder_refusals() {
    let mut u = Update::default();
    u.attributes.flow_unreach = Some(FlowUnreach {
        family: Family::IPV4_FLOW_VPN,
        withdrawn: vec![web_rule()],
    });
    assert!(matches!(encode(u.clone()), Err(EncodeError::FlowFamily(_))));
    u.attributes.flow_unreach = Some(FlowUnreach {
        family: Family::IPV6_FLOW,
        withdrawn: vec![web_rule()],
    });
    assert!(matches!(encode(u.clone()), Err(EncodeError::FlowFamily(_))));
    u.attributes.flow_unreach = Some(FlowUnreach {
        family: Family::IPV4_FLOW,
        withdrawn: vec![web_rule()],
    });
    u.attributes.mp_unreach = Some(MpUnreach {
        family: Family::IPV6_UNICAST,
        withdrawn: vec![],
    });
    assert!(matches!(encode(u), Err(EncodeError::TwoMpAttributes(_))));
}

/// `message` with classic IPv4 NLRI after the attributes.
fn message_with_nlri(attrs: &str, nlri: &str) -> Vec<u8> {
    let mut m = message(attrs);
    let nlri = hex(nlri);
    m.extend_from_slice(&nlri);
    let len = m.len() as u16;
    m[16..18].copy_from_slice(&len.to_be_bytes());
    m
}

fn decode_on(bytes: &[u8], families: &[Family]) -> Update {
    match decode_message_negotiated(bytes, &OPTS, families) {
        Ok(Some((Message::Update(u), used))) => {
            assert_eq!(used, bytes.len());
            u
        }
        other => panic!("not an UPDATE: {other:?}"),
    }
}

/// RFC 4760 §8: on a session that negotiated IPv4 unicast only, an ipv4 flow
/// MP_REACH_NLRI holding a malformed rule (type 5 before type 3) is not parsed,
/// so it cannot make the UPDATE's unicast NLRI a withdraw (RFC 7606 §2 applies
/// to what the session carries); its family is reported as unnegotiated.
#[test]
fn malformed_flow_of_unnegotiated_family_leaves_unicast_alone() {
    let bytes = message_with_nlri(
        "40 01 01 00 40 02 00 40 03 04 c0 00 02 01 \
         80 0e 0c 00 01 85 00 00 06 05 81 50 03 81 06",
        "18 0a 00 01",
    );
    // Every family parsed (no session): the malformed rule withdraws it all.
    let all = decode(&bytes).unwrap();
    assert!(all.treat_as_withdraw.is_some());
    assert!(all.nlri.is_empty());
    // IPv4 unicast negotiated: the flow attribute is skipped, the route stays.
    let u = decode_on(&bytes, &[Family::IPV4_UNICAST]);
    assert_eq!(u.treat_as_withdraw, None);
    assert_eq!(u.nlri, vec!["10.0.1.0/24".parse().unwrap()]);
    assert_eq!(u.attributes.next_hop, Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(u.attributes.flow_reach, None);
    assert_eq!(u.attributes.unnegotiated, vec![Family::IPV4_FLOW]);
    // ipv4 flow negotiated too: parsed, and the RFC 8955 verdict stands.
    let both = decode_on(&bytes, &[Family::IPV4_UNICAST, Family::IPV4_FLOW]);
    assert!(both.treat_as_withdraw.is_some());
    assert!(both.attributes.unnegotiated.is_empty());
}

/// The same for MP_UNREACH_NLRI; an empty one (End-of-RIB) of any family is
/// still read as End-of-RIB.
#[test]
fn unnegotiated_flow_withdraw_skipped_end_of_rib_kept() {
    let bytes = message_with_nlri(
        "40 01 01 00 40 02 00 40 03 04 c0 00 02 01 80 0f 0a 00 01 85 06 05 81 50 03 81 06",
        "18 0a 00 01",
    );
    let u = decode_on(&bytes, &[Family::IPV4_UNICAST]);
    assert_eq!(u.treat_as_withdraw, None);
    assert_eq!(u.nlri.len(), 1);
    assert_eq!(u.attributes.flow_unreach, None);
    assert_eq!(u.attributes.unnegotiated, vec![Family::IPV4_FLOW]);
    let eor = decode_on(&message("80 0f 03 00 02 85"), &[Family::IPV4_UNICAST]);
    assert_eq!(eor.end_of_rib(), Some(Family::IPV6_FLOW));
}

/// bgp::pack_flow_announce: 1000 rules sharing attributes fill UPDATEs up to the
/// 4096-octet maximum (RFC 4271 §4), each a valid message holding the rules in
/// order; a rule that does not encode (no component) is left out by index.
#[test]
fn pack_flow_announce_fills_messages_and_reports_refusals() {
    let rule = |i: u32| FlowNlri {
        rd: None,
        rule: FlowRule {
            ipv6: false,
            components: vec![
                Component::Destination(
                    FlowPrefix::new(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), 32, 0).unwrap(),
                ),
                Component::DestinationPort(vec![NumericMatch::eq(80)]),
            ],
        },
    };
    let mut rules: Vec<FlowNlri> = (0..1000).map(rule).collect();
    rules[500].rule.components.clear();
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ext_communities: vec![FlowAction::DISCARD.to_ext_community()],
        ..Default::default()
    };
    let mut out = Vec::new();
    let skipped =
        exabgp::bgp::pack_flow_announce(&attrs, Family::IPV4_FLOW, &[], &rules, &OPTS, &mut out);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].0, 500);
    // 999 rules of 10 octets: at least 3 messages, and not many more.
    assert!((3..=4).contains(&out.len()), "{} messages", out.len());
    let mut got = Vec::new();
    for m in &out {
        assert!(m.len() <= 4096);
        let u = decode(m).unwrap();
        assert_eq!(u.attributes.ext_communities, attrs.ext_communities);
        let r = u.attributes.flow_reach.unwrap();
        assert!(r.next_hops.is_empty());
        got.extend(r.nlri);
    }
    rules.remove(500);
    assert_eq!(got, rules);
}
