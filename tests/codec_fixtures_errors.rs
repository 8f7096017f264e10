//! UPDATE error handling fixtures: RFC 7606 treat-as-withdraw and attribute
//! discard outcomes, and the session-reset cases with the NOTIFICATION that goes
//! back (RFC 4271 §6.3, RFC 4760 §7, RFC 7606 §3-§5).

mod support;

use exabgp::bgp::*;
use support::codec::*;

const ORIGIN: &str = "40 01 01 00";
const AS_PATH: &str = "40 02 06 02 01 0000fde9";
const NEXT_HOP: &str = "40 03 04 c0000201";
const NLRI: &str = "18 cb0071";

/// An announcement of 203.0.113.0/24 whose attribute block is `attrs`.
fn announce(attrs: &str) -> Vec<u8> {
    update_msg(attrs, NLRI)
}

/// Asserts the RFC 7606 treat-as-withdraw outcome: nothing announced, the NLRI
/// withdrawn, attributes gone, and a reason mentioning `what`.
#[track_caller]
fn withdrawn(bytes: &[u8], what: &str) -> Update {
    let u = decode_update(bytes, &NEW);
    let reason = u
        .treat_as_withdraw
        .clone()
        .unwrap_or_else(|| panic!("not treat-as-withdraw: {u:?}"));
    assert!(
        reason.contains(what),
        "reason {reason:?} should mention {what}"
    );
    assert!(u.nlri.is_empty() && u.attributes.mp_reach.is_none());
    assert_eq!(u.end_of_rib(), None);
    u
}

#[track_caller]
fn withdrawn_classic(bytes: &[u8], what: &str) {
    let u = withdrawn(bytes, what);
    assert_eq!(u.withdrawn, vec![p("203.0.113.0/24")]);
    assert_eq!(u.attributes, PathAttributes::default());
}

/// The well-formed base case decodes normally.
#[test]
fn well_formed_base() {
    let u = decode_update(&announce(&format!("{ORIGIN} {AS_PATH} {NEXT_HOP}")), &NEW);
    assert_eq!(u.treat_as_withdraw, None);
    assert_eq!(u.nlri, vec![p("203.0.113.0/24")]);
}

/// RFC 7606 §7.1: ORIGIN with a length other than 1 or an undefined value.
#[test]
fn malformed_origin() {
    withdrawn_classic(
        &announce(&format!("40 01 01 03 {AS_PATH} {NEXT_HOP}")),
        "ORIGIN",
    );
    withdrawn_classic(
        &announce(&format!("40 01 02 0000 {AS_PATH} {NEXT_HOP}")),
        "ORIGIN",
    );
}

/// RFC 7606 §7.2: a malformed AS_PATH (unknown segment type, zero-length
/// segment, segment overrunning the attribute).
#[test]
fn malformed_as_path() {
    for bad in [
        "40 02 06 05 01 0000fde9",
        "40 02 02 02 00",
        "40 02 04 02 02 0000",
    ] {
        withdrawn_classic(&announce(&format!("{ORIGIN} {bad} {NEXT_HOP}")), "AS_PATH");
    }
}

/// RFC 7606 §7.3-§7.5, §7.8-§7.10, RFC 7606 §7.14 (extended communities),
/// RFC 8092 §6 (large communities): wrong lengths are treat-as-withdraw.
#[test]
fn malformed_lengths_treat_as_withdraw() {
    let cases = [
        ("40 03 05 c000020101", "NEXT_HOP"),
        ("80 04 03 000001", "MULTI_EXIT_DISC"),
        ("40 05 02 0001", "LOCAL_PREF"),
        ("c0 08 05 0102030405", "COMMUNITIES"),
        ("80 09 03 0a0000", "ORIGINATOR_ID"),
        ("80 0a 05 0a00000201", "CLUSTER_LIST"),
        ("80 0a 00", "CLUSTER_LIST"),
        ("c0 10 07 00020000000000", "EXTENDED_COMMUNITIES"),
        ("c0 20 0b 0000000100000002000000", "LARGE_COMMUNITY"),
    ];
    for (attr, name) in cases {
        let nh = if name == "NEXT_HOP" { "" } else { NEXT_HOP };
        withdrawn_classic(&announce(&format!("{ORIGIN} {AS_PATH} {nh} {attr}")), name);
    }
}

/// RFC 7606 §3 c: Optional/Transitive bits in conflict with the attribute type.
#[test]
fn attribute_flags_treat_as_withdraw() {
    // ORIGIN sent as optional transitive; MED sent as transitive.
    withdrawn_classic(
        &announce(&format!("c0 01 01 00 {AS_PATH} {NEXT_HOP}")),
        "flags",
    );
    withdrawn_classic(
        &announce(&format!("{ORIGIN} {AS_PATH} {NEXT_HOP} c0 04 04 00000001")),
        "flags",
    );
}

/// RFC 7606 §3 d: a missing well-known mandatory attribute. NEXT_HOP is only
/// needed with classic NLRI (RFC 4760 §3).
#[test]
fn missing_well_known_treat_as_withdraw() {
    withdrawn_classic(&announce(&format!("{AS_PATH} {NEXT_HOP}")), "ORIGIN");
    withdrawn_classic(&announce(&format!("{ORIGIN} {NEXT_HOP}")), "AS_PATH");
    withdrawn_classic(&announce(&format!("{ORIGIN} {AS_PATH}")), "NEXT_HOP");
    let mp_only = update_msg(
        &format!("{ORIGIN} {AS_PATH} 80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001"),
        "",
    );
    assert_eq!(decode_update(&mp_only, &NEW).treat_as_withdraw, None);
    // A withdraw-only UPDATE needs no attributes at all.
    assert_eq!(
        decode_update(&msg(2, "0004 18c63364 0000"), &NEW).treat_as_withdraw,
        None
    );
}

/// RFC 7606 §2: treat-as-withdraw covers MP_REACH_NLRI too; its prefixes join
/// MP_UNREACH_NLRI, and the classic withdrawn routes stay withdrawn.
#[test]
fn treat_as_withdraw_moves_mp_nlri() {
    let attrs = format!(
        "40 01 01 07 {AS_PATH}
         80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001
         80 0f 0a 0002 01 30 20010db80002"
    );
    let a = hex(&attrs);
    let bytes = msg(2, &format!("0004 18c63364 {:04x} {attrs}", a.len()));
    let u = withdrawn(&bytes, "ORIGIN");
    assert_eq!(u.withdrawn, vec![p("198.51.100.0/24")]);
    let un = u.attributes.mp_unreach.unwrap();
    assert_eq!(un.family, Family::IPV6_UNICAST);
    assert_eq!(
        un.withdrawn,
        vec![p("2001:db8:2::/48"), p("2001:db8:1::/48")]
    );
}

/// RFC 7606 §7.6 / §7.7: ATOMIC_AGGREGATE and AGGREGATOR of the wrong length
/// are discarded; the route stays.
#[test]
fn attribute_discard() {
    for bad in [
        "40 06 01 00",
        "c0 07 05 fde9c00002",
        "c0 07 06 0000fde9c000",
    ] {
        let u = decode_update(
            &announce(&format!("{ORIGIN} {AS_PATH} {NEXT_HOP} {bad}")),
            &NEW,
        );
        assert_eq!(u.treat_as_withdraw, None, "{bad}");
        assert_eq!(u.nlri, vec![p("203.0.113.0/24")]);
        assert!(
            !u.attributes.atomic_aggregate && u.attributes.aggregator.is_none(),
            "{bad}"
        );
    }
}

/// RFC 7606 §3 g: repeated attributes other than MP_* : all but the first are
/// discarded.
#[test]
fn duplicate_attribute_first_wins() {
    let u = decode_update(
        &announce(&format!("{ORIGIN} {AS_PATH} {NEXT_HOP} 40 01 01 02")),
        &NEW,
    );
    assert_eq!(u.treat_as_withdraw, None);
    assert_eq!(u.attributes.origin, Some(Origin::Igp));
}

// ---------------------------------------------------------------- session reset

/// RFC 7606 §3 g: MP_REACH_NLRI twice -> Malformed Attribute List (3/1).
#[test]
fn duplicate_mp_reach() {
    let mp = "80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001";
    rejects(
        &update_msg(&format!("{ORIGIN} {AS_PATH} {mp} {mp}"), ""),
        &NEW,
        3,
        1,
        &[],
    );
}

/// RFC 4271 §6.3: Withdrawn Routes Length or Total Attribute Length too large ->
/// Malformed Attribute List (3/1).
#[test]
fn lengths_overrun_the_message() {
    rejects(&msg(2, "0010 18c63364 0000"), &NEW, 3, 1, &[]);
    rejects(&msg(2, "0000 0010 40010100"), &NEW, 3, 1, &[]);
}

/// RFC 7606 §4: an attribute whose length overruns the attribute block, or a
/// truncated attribute header at its end, is treat-as-withdraw ("the Total
/// Attribute Length MUST be relied upon to enable the beginning of the NLRI field
/// to be located").
#[test]
fn attribute_length_overrun_is_treat_as_withdraw() {
    withdrawn_classic(&announce("40 01 05 00"), "overruns the attribute block");
    withdrawn_classic(&announce(&format!("{ORIGIN} 40 02")), "overruns");
    withdrawn_classic(&announce(&format!("{ORIGIN} 50 02 01")), "overruns");
    withdrawn_classic(&announce(&format!("{ORIGIN} 40")), "header truncated");
}

/// ... except when the overrunning attribute is MP_REACH_NLRI / MP_UNREACH_NLRI:
/// its prefixes cannot be withdrawn, so the session is reset (RFC 7606 §5.3):
/// Malformed Attribute List (3/1).
#[test]
fn mp_attribute_length_overrun_resets() {
    rejects(
        &announce(&format!("{ORIGIN} {AS_PATH} 80 0e 40 0002 01 10")),
        &NEW,
        3,
        1,
        &[],
    );
    rejects(
        &announce(&format!("{ORIGIN} 80 0f 09 0002 01")),
        &NEW,
        3,
        1,
        &[],
    );
}

/// An attribute whose length overruns the block, with room after its header for
/// an MP_UNREACH_NLRI / MP_REACH_NLRI that can no longer be located: RFC 7606 §3
/// ("Finally, we observe that in order to use the approach of 'treat-as-withdraw',
/// the entire NLRI field and/or the MP_REACH_NLRI and MP_UNREACH_NLRI attributes
/// need to be successfully parsed [...] If this is not possible, [...] the 'session
/// reset' approach [...] MUST be followed") -> Malformed Attribute List (3/1), not
/// a treat-as-withdraw that silently drops the MP withdrawals.
#[test]
fn attribute_length_overrun_hiding_mp_attributes_resets() {
    // ORIGIN claims 12 octets; an MP_UNREACH_NLRI (IPv4 unicast, 203.0.113.0/24)
    // follows its real value.
    let hides_unreach = "40 01 0c 00  80 0f 07 0001 01 18cb0071";
    rejects(&announce(hides_unreach), &NEW, 3, 1, &[]);
    // Same with an MP_REACH_NLRI (IPv6 unicast) after an AS_PATH that overruns.
    let hides_reach = format!(
        "{ORIGIN} 40 02 40 02 01 0000fde9 \
         80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8"
    );
    rejects(&update_msg(&hides_reach, ""), &NEW, 3, 1, &[]);
    // An MP_REACH_NLRI parsed before the overrun does not help: an MP_UNREACH_NLRI
    // may still hide after it.
    let after_reach = "80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8 \
                       40 01 0c 00  80 0f 07 0001 01 18cb0071";
    rejects(&update_msg(after_reach, ""), &NEW, 3, 1, &[]);
}

/// ... but when both MP attributes were parsed before the overrun, nothing can hide
/// (a third would be a duplicate), and when too few octets remain to hold an MP
/// attribute, treat-as-withdraw stays (RFC 7606 §4).
#[test]
fn attribute_length_overrun_with_nothing_hidden_is_treat_as_withdraw() {
    let both = "80 0e 1a 0002 01 10 20010db8000000000000000000000001 00 20 20010db8 \
                80 0f 08 0002 01 20 20010db9 \
                40 01 0c 00 00 00 00 00 00 00 00 00";
    let u = withdrawn(&update_msg(both, ""), "ORIGIN");
    let un = u.attributes.mp_unreach.unwrap();
    assert_eq!(un.withdrawn, vec![p("2001:db9::/32"), p("2001:db8::/32")]);
    // 8 octets from the overrunning attribute on: one short of its header plus
    // the smallest MP_UNREACH_NLRI.
    withdrawn_classic(&announce("40 01 0c 00 00 00 00 00"), "overruns");
}

/// RFC 4271 §6.3: an unrecognized well-known attribute -> 3/2, Data = the
/// attribute (type, length and value).
#[test]
fn unrecognized_well_known() {
    rejects(
        &announce(&format!("{ORIGIN} {AS_PATH} {NEXT_HOP} 40 65 01 aa")),
        &NEW,
        3,
        2,
        &hex("40 65 01 aa"),
    );
}

/// RFC 4271 §6.3 Attribute Flags Error (3/4), Data = the attribute: kept for
/// MP_REACH_NLRI / MP_UNREACH_NLRI, where treat-as-withdraw cannot apply.
#[test]
fn mp_attribute_flags_error() {
    let mp = "c0 0f 0a 0002 01 30 20010db80001";
    rejects(&update_msg(mp, ""), &NEW, 3, 4, &hex(mp));
}

/// RFC 4760 §7 / RFC 7606 §5.3: a malformed MP_REACH_NLRI or MP_UNREACH_NLRI ->
/// Optional Attribute Error (3/9), Data = the attribute.
#[test]
fn malformed_mp_attributes() {
    let bad = [
        "80 0e 0a 0002 01 05 0102030405 00", // next hop length 5
        "80 0e 17 0002 01 10 20010db8000000000000000000000001 00 30 20", // NLRI truncated
        "80 0e 16 0002 01 10 20010db8000000000000000000000001 00 81", // /129
        "80 0e 03 0002 01",                  // too short
        "80 0f 05 0002 01 30 20",            // unreach truncated
    ];
    for attr in bad {
        rejects(
            &update_msg(&format!("{ORIGIN} {AS_PATH} {attr}"), ""),
            &NEW,
            3,
            9,
            &hex(attr),
        );
    }
}

/// RFC 4271 §6.3: syntactically incorrect NLRI or withdrawn routes -> Invalid
/// Network Field (3/10); RFC 7606 §5.3 makes it a session reset.
#[test]
fn invalid_network_field() {
    let attrs = format!("{ORIGIN} {AS_PATH} {NEXT_HOP}");
    rejects(&update_msg(&attrs, "18 cb00"), &NEW, 3, 10, &[]); // truncated
    rejects(&update_msg(&attrs, "21 cb007101 00"), &NEW, 3, 10, &[]); // /33
    rejects(&msg(2, "0002 28 0a 0000"), &NEW, 3, 10, &[]); // withdrawn /40 truncated
}

/// MP attributes of families we never negotiate are ignored, except an empty
/// MP_UNREACH_NLRI (an End-of-RIB, RFC 4724).
#[test]
fn unsupported_mp_families() {
    let flow_reach = "80 0e 0b 0001 85 00 00 05 0102030405";
    let u = decode_update(
        &update_msg(&format!("{ORIGIN} {AS_PATH} {flow_reach}"), ""),
        &NEW,
    );
    assert_eq!(u.attributes.mp_reach, None);
    let eor = decode_update(&update_msg("80 0f 03 0001 85", ""), &NEW);
    assert_eq!(eor.end_of_rib(), Some("ipv4 flow".parse().unwrap()));
}

/// RFC 4271 §6.4: an error in a NOTIFICATION (here its length: under 21 octets, or
/// over the maximum) "cannot" be reported back with a NOTIFICATION: the error has
/// no reply. Other header errors keep theirs.
#[test]
fn malformed_notification_has_no_reply() {
    for bytes in [msg(3, ""), msg(3, "06")] {
        let e = decode_message(&bytes, &OLD).unwrap_err();
        assert!(
            matches!(e, DecodeError::MalformedNotification { .. }),
            "{e:?}"
        );
        assert_eq!(e.reply(), None, "{e}");
    }
    let mut long = msg(3, "0600");
    long[16..18].copy_from_slice(&4097u16.to_be_bytes());
    let e = decode_message(&long, &OLD).unwrap_err();
    assert_eq!(e.reply(), None, "{e}");
    let e = decode_message(&msg(4, "00"), &OLD).unwrap_err();
    assert_eq!(e.reply().map(|n| (n.code, n.subcode)), Some((1, 2)));
}
