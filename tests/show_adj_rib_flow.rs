//! `show adj-rib out` and `show adj-rib in` list flow rules (issue 12), through
//! the real control socket of a running `exabgp server`: a `[[flow]]` rule is in
//! the Adj-RIB-Out, a rule a raw TCP peer sends (MP_REACH_NLRI, ipv4 flow) is in
//! the Adj-RIB-In; both in the text form (the rule as ExaBGP writes it, the
//! actions as extended communities) and in the JSON form.

mod support;

use std::net::IpAddr;
use std::path::Path;

use support::binary::{exabgpcli_bin, hermetic, run, COMMAND_TIMEOUT};
use support::raw::*;
use support::*;

const EXA_AS: u32 = 65001;

/// `exabgpcli --socket SOCK ARGS...`, its stdout.
fn cli_socket(sock: &Path, args: &[&str]) -> String {
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--timeout", "20", "--socket"])
        .arg(sock)
        .args(args);
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(out.code, 0, "{args:?}: {out:?}");
    out.stdout
}

/// OPEN capabilities: multiprotocol ipv4 unicast and ipv4 flow (SAFI 133), 4-octet AS.
fn flow_caps() -> Vec<u8> {
    let mut caps = vec![1, 4, 0, 1, 0, 1, 1, 4, 0, 1, 0, 133, 65, 4];
    caps.extend_from_slice(&u32::from(RAW_AS).to_be_bytes());
    caps
}

/// An UPDATE with one ipv4 flow rule `nlri` (length octet included) and the
/// discard action (traffic-rate 0).
fn flow_update(nlri: &[u8]) -> Vec<u8> {
    let mut mp = vec![0x80, 14, (5 + nlri.len()) as u8, 0, 1, 133, 0, 0];
    mp.extend_from_slice(nlri);
    let discard = [0xC0, 16, 8, 0x80, 0x06, 0, 0, 0, 0, 0, 0];
    let attrs = [&ORIGIN_IGP[..], &AS_PATH, &discard, &mp].concat();
    message(2, &update_body(&attrs, &[]))
}

#[test]
fn show_adj_rib_lists_flow_rules_in_text_and_json() {
    let dir = TestDir::new("show-adj-rib-flow");
    let exa_ip: IpAddr = loopback_addr(41).into();
    let raw_ip: IpAddr = loopback_addr(43).into();
    let config = ExaConfig::new(EXA_AS)
        .passive(raw_ip, RAW_AS.into())
        .line("families = [\"ipv4 unicast\", \"ipv4 flow\"]")
        .line(
            "\n[[flow]]\n\
             match = { destination = \"198.51.100.0/24\", protocol = \"udp\", destination-port = \"=53\" }\n\
             then = { discard = true }",
        )
        .build();
    let (exa, exa_addr) = Exabgp::start_listening(&dir.path, &config, exa_ip);
    let sock = dir.path.join("exabgp.sock");

    // Out: the configured rule, before any session.
    let out = cli_socket(&sock, &["show", "adj-rib", "out"]);
    let want_out = format!(
        "neighbor {raw_ip} ipv4 flow destination 198.51.100.0/24 protocol =udp destination-port =53"
    );
    let line = out
        .lines()
        .find(|l| l.starts_with(&want_out))
        .unwrap_or_else(|| panic!("no flow rule in show adj-rib out:\n{out}"));
    assert!(line.contains("extended-community rate-limit:0"), "{line}");
    let json: serde_json::Value =
        serde_json::from_str(cli_socket(&sock, &["show", "adj-rib", "out", "json"]).trim())
            .expect("JSON answer");
    let rules: Vec<&serde_json::Value> = json
        .as_array()
        .expect("JSON array")
        .iter()
        .filter(|e| e["family"] == "ipv4 flow")
        .collect();
    assert_eq!(rules.len(), 1, "{json}");
    assert_eq!(rules[0]["direction"], "out");
    assert_eq!(rules[0]["neighbor"], raw_ip.to_string());
    assert_eq!(
        rules[0]["nlri"],
        "destination 198.51.100.0/24 protocol =udp destination-port =53"
    );
    assert_eq!(rules[0]["flow"]["destination-port"][0], "=53", "{json}");

    // In: a rule the peer sends (destination 192.0.2.0/24, protocol =tcp).
    let mut p = RawPeer::connect(raw_ip, exa_addr);
    p.handshake_with(&open_body_caps(&flow_caps()));
    p.send(&flow_update(&[8, 1, 24, 192, 0, 2, 3, 0x81, 6]));
    let want_in = format!("neighbor {raw_ip} ipv4 flow destination 192.0.2.0/24 protocol =tcp");
    let seen = wait_for(WAIT, || {
        let text = cli_socket(&sock, &["show", "adj-rib", "in"]);
        text.lines()
            .find(|l| l.starts_with(&want_in))
            .map(str::to_string)
    });
    let line =
        seen.unwrap_or_else(|| panic!("no flow rule in show adj-rib in; log:\n{}", exa.log()));
    assert!(line.contains("extended-community rate-limit:0"), "{line}");
    let json: serde_json::Value =
        serde_json::from_str(cli_socket(&sock, &["show", "adj-rib", "in", "json"]).trim())
            .expect("JSON answer");
    let rules: Vec<&serde_json::Value> = json
        .as_array()
        .expect("JSON array")
        .iter()
        .filter(|e| e["family"] == "ipv4 flow")
        .collect();
    assert_eq!(rules.len(), 1, "{json}");
    assert_eq!(rules[0]["direction"], "in");
    assert_eq!(rules[0]["flow"]["protocol"][0], "=tcp", "{json}");
    assert_eq!(rules[0]["next-hop"], serde_json::Value::Null);
}
