//! FlowSpec against a real gobgpd (families ipv4-flowspec / ipv6-flowspec):
//! `[[flow]]` rules covering every component type and every action go out when
//! the session is Established, and gobgpd shows them with exactly those matches
//! and actions (`gobgp global rib -a ipv4-flowspec -j`); a reload that drops a
//! rule withdraws it.

mod support;

use exabgp::control::{Command, ControlReply};
use support::conf::{helper_process, write_helper};
use support::inproc::{InProcess, Instance};
use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

/// Every IPv4 component (types 1-12) and the actions; one rule per action so
/// each is checked on its own.
const FLOWS_V4: &str = r#"
[[flow]]
match = { destination = "192.0.2.0/24", source = "10.0.0.0/8", protocol = ["tcp", "udp"], port = [">=137&<=139", "=8080"], destination-port = "=80", source-port = ">1024", packet-length = ["<100"], dscp = "=46", fragment = ["is-fragment"], tcp-flags = ["syn"] }
then = { discard = true }

[[flow]]
match = { destination = "192.0.2.1/32", protocol = "icmp", icmp-type = "=8", icmp-code = "=0" }
then = { rate-limit = 9600 }

[[flow]]
match = { destination = "192.0.2.2/32" }
then = { redirect = "65000:100" }

[[flow]]
match = { destination = "192.0.2.3/32" }
then = { mark = 10, community = ["65000:7"] }

[[flow]]
match = { destination = "192.0.2.4/32" }
then = { action = "sample-terminal" }
"#;

const FLOW_V6: &str = r#"
[[flow]]
match = { destination = "2001:db8::/64", next-header = "tcp", flow-label = "=5", destination-port = "=443" }
then = { discard = true }
"#;

fn rib_text(g: &Gobgp, family: &str) -> String {
    g.cli(&["global", "rib", "-a", family]).unwrap_or_default()
}

fn rib_json(g: &Gobgp, family: &str) -> serde_json::Value {
    g.json(&["global", "rib", "-a", family])
        .unwrap_or(serde_json::Value::Null)
}

/// gobgpd's RIB of `family` holds exactly the `expected` rules (its JSON keys),
/// each shown with its attributes (the text table).
#[track_caller]
fn check_rib(g: &Gobgp, family: &str, text: &str, expected: &[(&str, &str)]) {
    let json = rib_json(g, family);
    let keys: std::collections::BTreeSet<&str> = json
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let want: std::collections::BTreeSet<&str> = expected.iter().map(|(r, _)| *r).collect();
    assert_eq!(keys, want, "{family}:\n{text}");
    for (rule, attrs) in expected {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("{rule} ")))
            .unwrap_or_else(|| panic!("no line for {rule}:\n{text}"));
        assert!(line.contains(attrs), "{rule}: {attrs} not in {line}");
        let paths = &json[*rule];
        assert_eq!(paths.as_array().map(Vec::len), Some(1), "{rule}: {paths}");
        // RFC 8955 §4: next hop length 0 (gobgp fills in the unspecified address).
        let mp = paths[0]["attrs"]
            .as_array()
            .and_then(|a| gobgp_attr(a, 14))
            .unwrap_or_else(|| panic!("{rule}: no MP_REACH_NLRI in {paths}"));
        assert!(
            mp["nexthop"] == "0.0.0.0" || mp["nexthop"] == "::",
            "{rule}: {mp}"
        );
    }
}

#[test]
fn gobgpd_receives_every_component_and_action() {
    let (dir, exa_ip, g) = gobgp_setup(
        "flowspec",
        211,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-flowspec", "ipv6-flowspec"],
    );
    let _ = &dir;
    let base = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("families = [\"ipv4 flow\", \"ipv6 flow\"]")
        .build();
    let text = format!("{base}{FLOWS_V4}{FLOW_V6}");
    let config = exabgp::config::parse_str(&text, "flow.toml").unwrap();
    assert_eq!(config.flows.len(), 6);
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let daemon = InProcess::start(config, Vec::new(), events);
    assert!(g.wait_established(exa_ip, WAIT), "session not established");

    let v4 = wait_for(WAIT, || {
        let t = rib_text(&g, "ipv4-flowspec");
        (t.matches("[destination:").count() >= 5).then_some(t)
    })
    .unwrap_or_else(|| {
        panic!(
            "gobgpd has not the 5 IPv4 rules: {}",
            rib_text(&g, "ipv4-flowspec")
        )
    });
    // Each rule exactly (gobgp's key of the rule) with its actions.
    let expected_v4 = [
        (
            "[destination: 192.0.2.0/24][source: 10.0.0.0/8][protocol: ==tcp ==udp][port: >=137&<=139 ==8080][destination-port: ==80][source-port: >1024][tcp-flags: S][packet-length: <100][dscp: ==46][fragment: is-fragment]",
            "{Extcomms: [discard]}",
        ),
        (
            "[destination: 192.0.2.1/32][protocol: ==icmp][icmp-type: ==8][icmp-code: ==0]",
            "{Extcomms: [rate: 9600.000000]}",
        ),
        ("[destination: 192.0.2.2/32]", "{Extcomms: [redirect: 65000:100]}"),
        (
            "[destination: 192.0.2.3/32]",
            "{Communities: 65000:7} {Extcomms: [remark: 10]}",
        ),
        ("[destination: 192.0.2.4/32]", "{Extcomms: [action: terminal-sample]}"),
    ];
    check_rib(&g, "ipv4-flowspec", &v4, &expected_v4);
    let v6 = wait_for(WAIT, || {
        let t = rib_text(&g, "ipv6-flowspec");
        t.contains("2001:db8::/64").then_some(t)
    })
    .unwrap_or_else(|| panic!("no IPv6 rule: {}", rib_text(&g, "ipv6-flowspec")));
    check_rib(
        &g,
        "ipv6-flowspec",
        &v6,
        &[(
            "[destination: 2001:db8::/64/0][protocol: ==tcp][destination-port: ==443][label: ==5]",
            "{Extcomms: [discard]}",
        )],
    );

    // A reload without the IPv6 rule and the sample one withdraws exactly those.
    let fewer = FLOWS_V4.replace(
        "[[flow]]\nmatch = { destination = \"192.0.2.4/32\" }\nthen = { action = \"sample-terminal\" }\n",
        "",
    );
    let next = exabgp::config::parse_str(&format!("{base}{fewer}"), "flow.toml").unwrap();
    assert_eq!(next.flows.len(), 4);
    assert_eq!(
        daemon.ctl.ask(Command::ApplyConfig(Box::new(next))),
        ControlReply::Done
    );
    let after = wait_for(WAIT, || {
        let v4 = rib_text(&g, "ipv4-flowspec");
        let v6 = rib_text(&g, "ipv6-flowspec");
        (!v4.contains("192.0.2.4/32") && !v6.contains("2001:db8")).then_some(v4)
    })
    .unwrap_or_else(|| panic!("not withdrawn: {}", rib_text(&g, "ipv4-flowspec")));
    assert_eq!(after.matches("[destination:").count(), 4, "{after}");
}

/// The text API: a detector's `announce flow route { ... }` (block form) and the
/// one-line form reach gobgpd; `withdraw flow route ...` removes exactly one.
#[test]
fn api_announce_and_withdraw_reach_gobgpd() {
    let (dir, exa_ip, g) = gobgp_setup("flowspec-api", 213, EXA_AS, GOBGP_AS, &["ipv4-flowspec"]);
    let _ = &dir;
    let text = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("families = [\"ipv4 flow\"]")
        .build();
    let config = exabgp::config::parse_str(&text, "flow.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let daemon = InProcess::start(config, Vec::new(), events);
    assert!(g.wait_established(exa_ip, WAIT), "session not established");
    let run = |line: &str| match exabgp::api::command::parse_command(line) {
        Ok(exabgp::api::command::ApiCommand::Control(c)) => {
            assert_eq!(daemon.ctl.ask(c), ControlReply::Done, "{line}")
        }
        other => panic!("{line}: {other:?}"),
    };
    run("announce flow route { match { source 10.0.0.1/32; destination-port =80; protocol tcp; } then { discard; } }");
    run(&format!(
        "neighbor {} announce flow route destination 192.0.2.7/32 protocol udp source-port =53 rate-limit 1000",
        g.addr
    ));
    let rib = wait_for(WAIT, || {
        let t = rib_text(&g, "ipv4-flowspec");
        (t.matches("*>").count() == 2).then_some(t)
    })
    .unwrap_or_else(|| {
        panic!(
            "gobgpd has not both rules: {}",
            rib_text(&g, "ipv4-flowspec")
        )
    });
    check_rib(
        &g,
        "ipv4-flowspec",
        &rib,
        &[
            (
                "[source: 10.0.0.1/32][protocol: ==tcp][destination-port: ==80]",
                "{Extcomms: [discard]}",
            ),
            (
                "[destination: 192.0.2.7/32][protocol: ==udp][source-port: ==53]",
                "{Extcomms: [rate: 1000.000000]}",
            ),
        ],
    );
    run("withdraw flow route source 10.0.0.1/32 destination-port =80 protocol tcp");
    let rib = wait_for(WAIT, || {
        let t = rib_text(&g, "ipv4-flowspec");
        (!t.contains("10.0.0.1/32")).then_some(t)
    })
    .unwrap_or_else(|| panic!("not withdrawn: {}", rib_text(&g, "ipv4-flowspec")));
    check_rib(
        &g,
        "ipv4-flowspec",
        &rib,
        &[(
            "[destination: 192.0.2.7/32][protocol: ==udp][source-port: ==53]",
            "{Extcomms: [rate: 1000.000000]}",
        )],
    );
}

/// A helper that writes every JSON `update` event it gets, one per line.
const RECORDER: &str = r#"#!/usr/bin/env python3
import json, sys
log = open(sys.argv[1], "a")
for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    if msg.get("type") == "update":
        log.write(json.dumps(msg["neighbor"]["message"]["update"]) + "\n")
        log.flush()
"#;

/// Rules gobgpd originates arrive at a helper as ExaBGP's JSON for flow: the
/// components under `"ipv4 flow"` / `"no-nexthop"` with ExaBGP's strings, the
/// action among the extended communities; gobgpd's withdraw arrives as one.
#[test]
fn rules_gobgpd_originates_arrive_as_json() {
    let (dir, exa_ip, g) = gobgp_setup("flowspec-in", 215, EXA_AS, GOBGP_AS, &["ipv4-flowspec"]);
    let (script, log) = write_helper(&dir.path, "recorder", RECORDER);
    let text = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("families = [\"ipv4 flow\"]")
        .build()
        + &helper_process("recorder", &script, &log, "json", "\"update\"");
    let config = exabgp::config::parse_str(&text, "flow.toml").unwrap();
    // With helpers and a control socket, as `exabgp server` runs.
    let sock = exabgp::api::bind_control_socket(&dir.path.join("flow.sock"), None).unwrap();
    let _inst = Instance::start(config, exabgp::api::ControlEndpoint::Bound(sock), vec![]);
    assert!(g.wait_established(exa_ip, WAIT), "session not established");
    g.cli(&[
        "global",
        "rib",
        "-a",
        "ipv4-flowspec",
        "add",
        "match",
        "destination",
        "10.0.0.0/24",
        "protocol",
        "tcp",
        "destination-port",
        "==80",
        "then",
        "discard",
    ])
    .expect("gobgp adds the rule");
    let seen = || std::fs::read_to_string(&log).unwrap_or_default();
    let update = wait_for(WAIT, || {
        seen()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|u| u.pointer("/announce/ipv4 flow").is_some())
    })
    .unwrap_or_else(|| panic!("no flow announce; helper saw:\n{}", seen()));
    assert_eq!(
        update["announce"]["ipv4 flow"],
        serde_json::json!({"no-nexthop": [{
            "destination-ipv4": ["10.0.0.0/24"],
            "protocol": ["=tcp"],
            "destination-port": ["=80"],
            "string": "flow destination-ipv4 10.0.0.0/24 protocol =tcp destination-port =80"
        }]}),
        "{update}"
    );
    // The discard action: traffic-rate-bytes 0 (0x8006), as ExaBGP prints it.
    assert_eq!(
        update["attribute"]["extended-community"],
        serde_json::json!([{"value": 0x8006_0000_0000_0000u64, "string": "rate-limit:0"}]),
        "{update}"
    );
    g.cli(&[
        "global",
        "rib",
        "-a",
        "ipv4-flowspec",
        "del",
        "match",
        "destination",
        "10.0.0.0/24",
        "protocol",
        "tcp",
        "destination-port",
        "==80",
    ])
    .expect("gobgp deletes the rule");
    let withdraw = wait_for(WAIT, || {
        seen()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|u| u.pointer("/withdraw/ipv4 flow").is_some())
    })
    .unwrap_or_else(|| panic!("no flow withdraw; helper saw:\n{}", seen()));
    assert_eq!(
        withdraw["withdraw"]["ipv4 flow"][0]["destination-ipv4"],
        serde_json::json!(["10.0.0.0/24"]),
        "{withdraw}"
    );
}
