//! Malformed flow NLRI (RFC 8955 §4.2, §10; RFC 7606) over real TCP: this test is
//! a raw peer that negotiates ipv4 flow with a running `exabgp server` while a
//! real gobgpd is Established with it as a second neighbor. A rule with its
//! components out of order and a rule with a bad operator (a value longer than
//! the component allows) are treat-as-withdraw: the session stays up, the UPDATE's
//! rules are withdrawn, nothing is installed. A rule length that overruns the
//! NLRI field cannot be walked: that session is reset (NOTIFICATION 3/9). The
//! gobgpd session keeps its uptime throughout.

mod support;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

use support::binary::{exabgpcli_bin, hermetic, run, COMMAND_TIMEOUT};
use support::raw::*;
use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

/// The text of the ipv4 flow rules in `show adj-rib in json` (through the socket).
fn flows_in(sock: &Path) -> BTreeSet<String> {
    held(sock, "ipv4 flow")
}

/// The NLRI text of the routes of `family` in `show adj-rib in json`.
fn held(sock: &Path, family: &str) -> BTreeSet<String> {
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--timeout", "20", "--socket"])
        .arg(sock)
        .args(["show", "adj-rib", "in", "json"]);
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(out.code, 0, "{out:?}");
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).expect("JSON answer");
    v.as_array()
        .expect("JSON array")
        .iter()
        .filter(|e| e["family"] == family)
        .filter_map(|e| e["nlri"].as_str().map(str::to_string))
        .collect()
}

/// Waits until the rules held are exactly `want`; fails with the log otherwise.
#[track_caller]
fn expect_flows(sock: &Path, exa: &Exabgp, want: &[&str], what: &str) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    let got = wait_for(WAIT, || {
        let got = flows_in(sock);
        (got == want).then_some(())
    });
    assert!(
        got.is_some(),
        "{what}: held {:?}, want {want:?}; log:\n{}",
        flows_in(sock),
        exa.log()
    );
}

/// gobgp's view of the session with exabgp: (established, uptime seconds).
fn gobgp_session(g: &Gobgp, exa: IpAddr) -> (bool, Option<i64>) {
    let n = g.neighbor(exa);
    let up = n
        .as_ref()
        .and_then(|n| n.pointer("/state/session_state"))
        .and_then(|v| v.as_i64())
        == Some(6);
    let uptime = n
        .as_ref()
        .and_then(|n| n.pointer("/timers/state/uptime/seconds"))
        .and_then(|v| v.as_i64());
    (up, uptime)
}

/// OPEN capabilities: multiprotocol ipv4 unicast and ipv4 flow (SAFI 133), 4-octet AS.
fn flow_caps() -> Vec<u8> {
    let mut caps = vec![1, 4, 0, 1, 0, 1, 1, 4, 0, 1, 0, 133, 65, 4];
    caps.extend_from_slice(&u32::from(RAW_AS).to_be_bytes());
    caps
}

/// An UPDATE whose MP_REACH_NLRI (ipv4 flow, no next hop) holds the NLRI field
/// `nlri` as given (length octets included), with the discard action.
fn flow_update(nlri: &[u8]) -> Vec<u8> {
    let mut mp = vec![0x80, 14, (5 + nlri.len()) as u8, 0, 1, 133, 0, 0];
    mp.extend_from_slice(nlri);
    let discard = [0xC0, 16, 8, 0x80, 0x06, 0, 0, 0, 0, 0, 0];
    let attrs = [&ORIGIN_IGP[..], &AS_PATH, &discard, &mp].concat();
    message(2, &update_body(&attrs, &[]))
}

/// destination 192.0.2.0/24 protocol =tcp
const RULE_A: [u8; 9] = [8, 1, 24, 192, 0, 2, 3, 0x81, 6];
const TEXT_A: &str = "destination 192.0.2.0/24 protocol =tcp";
/// destination 198.51.100.0/24 protocol =udp
const RULE_C: [u8; 9] = [8, 1, 24, 198, 51, 100, 3, 0x81, 17];
const TEXT_C: &str = "destination 198.51.100.0/24 protocol =udp";
/// destination 203.0.113.0/24
const RULE_D: [u8; 6] = [5, 1, 24, 203, 0, 113];
const TEXT_D: &str = "destination 203.0.113.0/24";
/// (a) protocol =tcp before destination 198.51.100.0/24: out of order.
const OUT_OF_ORDER: [u8; 9] = [8, 3, 0x81, 6, 1, 24, 198, 51, 100];
/// (b) destination 198.51.100.0/24, protocol with operator 0x91 (end, 2-octet
/// value, =): a protocol value is one octet.
const BAD_OPERATOR: [u8; 10] = [9, 1, 24, 198, 51, 100, 3, 0x91, 0, 6];
/// (c) a rule length of 40 with 5 octets left in the field.
const OVERRUN: [u8; 6] = [40, 1, 24, 203, 0, 113];

#[test]
fn malformed_flow_nlri_gets_the_rfc_treatment_and_hurts_nobody_else() {
    let (dir, exa_ip, gobgp) =
        gobgp_setup("malformed-flow", 51, EXA_AS, GOBGP_AS, &["ipv4-unicast"]);
    let raw_ip: IpAddr = loopback_addr(53).into();
    let config = gobgp
        .exabgp_config(EXA_AS, exa_ip)
        .passive(raw_ip, RAW_AS.into())
        .line("families = [\"ipv4 unicast\", \"ipv4 flow\"]")
        .build();
    let (mut exa, exa_addr) = Exabgp::start_listening(&dir.path, &config, exa_ip);
    let sock = dir.path.join("exabgp.sock");
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "gobgp session not established; log:\n{}",
        exa.log()
    );
    let (_, uptime_before) = gobgp_session(&gobgp, exa_ip);
    let check_others = |exa: &mut Exabgp, case: &str| {
        assert!(
            exa.proc.alive(),
            "exabgp died after {case}; log:\n{}",
            exa.log()
        );
        let (up, uptime) = gobgp_session(&gobgp, exa_ip);
        assert!(up, "gobgp session dropped after {case}");
        assert!(
            uptime.is_some() && uptime == uptime_before,
            "gobgp session flapped after {case}: {uptime_before:?} then {uptime:?}"
        );
    };

    let mut p = RawPeer::connect(raw_ip, exa_addr);
    p.handshake_with(&open_body_caps(&flow_caps()));
    p.send(&flow_update(&RULE_A));
    expect_flows(&sock, &exa, &[TEXT_A], "a valid rule is held");

    // (a) Out of order beside the held rule A: the UPDATE is treated as withdraw,
    // so A leaves the Adj-RIB-In and the bad rule is not installed.
    p.send(&flow_update(&[&RULE_A[..], &OUT_OF_ORDER].concat()));
    expect_flows(&sock, &exa, &[], "out of order: treat-as-withdraw");
    exa.expect_log(
        "treated as withdraw (RFC 7606): MP_REACH_NLRI: flow NLRI: component type 1 after type 3",
        "out-of-order rule not reported",
    );
    check_others(&mut exa, "components out of order");

    // (b) A bad operator beside a valid rule D: neither is installed; then a
    // valid rule C in the next UPDATE is, so the session stayed up.
    p.send(&flow_update(&[&RULE_D[..], &BAD_OPERATOR].concat()));
    p.send(&flow_update(&RULE_C));
    expect_flows(&sock, &exa, &[TEXT_C], "bad operator: treat-as-withdraw");
    assert!(!flows_in(&sock).contains(TEXT_D));
    check_others(&mut exa, "bad operator");

    // (c) A rule length overrunning the NLRI field: this session is reset.
    p.send(&flow_update(&OVERRUN));
    assert_eq!(p.notification(), (3, 9), "length overrun: UPDATE error 3/9");
    // The rules of the lost session leave the Adj-RIB-In.
    expect_flows(&sock, &exa, &[], "session reset");
    check_others(&mut exa, "length overrun");
}

/// RFC 4760 §8 with RFC 7606 §2: a session that negotiated IPv4 unicast only
/// (the peer offers ipv4 flow too, we do not) receives an UPDATE with a valid
/// unicast NLRI and an ipv4 flow MP_REACH_NLRI holding a malformed rule. The flow
/// attribute is of no family this session carries: it is ignored (counted as
/// unnegotiated), not parsed, so it cannot turn the unicast route into a
/// withdraw; the route is held and the session stays up.
#[test]
fn malformed_flow_of_a_family_not_negotiated_spares_the_unicast_route() {
    let dir = TestDir::new("unnegotiated-flow");
    let exa_ip: IpAddr = loopback_addr(55).into();
    let raw_ip: IpAddr = loopback_addr(57).into();
    let config = ExaConfig::new(EXA_AS)
        .passive(raw_ip, RAW_AS.into())
        .line("families = [\"ipv4 unicast\"]")
        .build();
    let (mut exa, exa_addr) = Exabgp::start_listening(&dir.path, &config, exa_ip);
    let sock = dir.path.join("exabgp.sock");
    let mut p = RawPeer::connect(raw_ip, exa_addr);
    p.handshake_with(&open_body_caps(&flow_caps()));

    let mut mp = vec![0x80, 14, (5 + OUT_OF_ORDER.len()) as u8, 0, 1, 133, 0, 0];
    mp.extend_from_slice(&OUT_OF_ORDER);
    let attrs = [&ORIGIN_IGP[..], &AS_PATH, &NEXT_HOP, &mp].concat();
    p.send(&message(2, &update_body(&attrs, &[24, 10, 0, 1])));
    let want: BTreeSet<String> = ["10.0.1.0/24".to_string()].into();
    let got = wait_for(WAIT, || (held(&sock, "ipv4 unicast") == want).then_some(()));
    assert!(
        got.is_some(),
        "held {:?}, want {want:?}; log:\n{}",
        held(&sock, "ipv4 unicast"),
        exa.log()
    );
    assert!(flows_in(&sock).is_empty());
    exa.expect_log(
        "not negotiated",
        "the ignored flow attribute is not reported",
    );
    assert!(
        !exa.log().contains("treated as withdraw"),
        "treat-as-withdraw from a family not negotiated; log:\n{}",
        exa.log()
    );
    p.assert_still_up();
    assert!(exa.proc.alive());
    exa.stop();
}
