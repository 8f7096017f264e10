//! FlowSpec against a real BIRD 2 (flow4/flow6 tables): our `[[flow]]` rules
//! reach BIRD over a real session and `birdc show route table flowtab4 all`
//! (and flowtab6) shows them with exactly those matches, the actions as the
//! extended communities BIRD prints.

mod support;

use std::net::IpAddr;

use support::*;

const EXA_AS: u32 = 65001;
const BIRD_AS: u32 = 65003;

fn bird_conf(dir: &std::path::Path, bird: IpAddr, port: u16, exa: IpAddr) -> String {
    format!(
        r#"
log "{log}" all;
router id 192.0.2.253;
protocol device {{ scan time 600; }}
flow4 table flowtab4;
flow6 table flowtab6;
protocol bgp exa {{
  local {bird} port {port} as {BIRD_AS};
  neighbor {exa} as {EXA_AS};
  passive on;
  strict bind on;
  multihop;
  hold time 30;
  ipv4 {{ import all; export none; }};
  flow4 {{ table flowtab4; import all; export none; }};
  flow6 {{ table flowtab6; import all; export none; }};
}}
"#,
        log = dir.join("bird.log").display()
    )
}

const FLOWS: &str = r#"
[[flow]]
match = { destination = "192.0.2.0/24", source = "10.0.0.0/8", protocol = ["tcp", "udp"], destination-port = "=80", source-port = ">1024", packet-length = ["<100"], dscp = "=46", fragment = ["is-fragment"], tcp-flags = ["syn"] }
then = { discard = true }

[[flow]]
match = { destination = "192.0.2.1/32", protocol = "icmp", icmp-type = "=8", icmp-code = "=0" }
then = { rate-limit = 9600 }

[[flow]]
match = { destination = "192.0.2.2/32", port = [">=137&<=139"] }
then = { redirect = "65000:100" }

[[flow]]
match = { destination = "192.0.2.3/32" }
then = { mark = 10 }

[[flow]]
match = { destination = "2001:db8::/64", next-header = "tcp", destination-port = "=443", flow-label = "=5" }
then = { discard = true }
"#;

fn exa_conf(exa: IpAddr, bird: IpAddr, port: u16) -> String {
    ExaConfig::new(EXA_AS)
        .connect_to(bird, BIRD_AS, exa, port)
        .line("hold-time = 30\nfamilies = [\"ipv4 unicast\", \"ipv4 flow\", \"ipv6 flow\"]")
        .line(FLOWS)
        .build()
}

#[test]
fn bird_receives_flow_rules_with_their_matches_and_actions() {
    let dir = TestDir::new("bird-flow");
    let exa_ip: IpAddr = loopback_addr(61).into();
    let bird_ip: IpAddr = loopback_addr(62).into();
    let port = free_port(bird_ip);
    let bird = Bird::start(&dir.path, &bird_conf(&dir.path, bird_ip, port, exa_ip));
    let exa = Exabgp::start(&dir.path, &exa_conf(exa_ip, bird_ip, port), None);
    let up = wait_for(WAIT, || bird.established("exa").then_some(()));
    assert!(
        up.is_some(),
        "BIRD session not established; exabgp log:\n{}\nbird: {:?}",
        exa.log(),
        bird.birdc(&["show", "protocols", "all", "exa"])
    );
    // Each rule: its line as BIRD prints it (before the route's source) and the
    // extended community of its action: (generic, HIGH, LOW).
    let rules = |name: &str| -> Option<Vec<(String, String)>> {
        let all = bird.birdc(&["show", "route", "table", name, "all"]).ok()?;
        let mut out = Vec::new();
        let mut lines = all.lines().peekable();
        while let Some(l) = lines.next() {
            let Some((rule, _)) = l.split_once("  [exa ") else {
                continue;
            };
            let mut ext = String::new();
            while let Some(attr) = lines.next_if(|a| a.starts_with('\t')) {
                if let Some(v) = attr.trim().strip_prefix("BGP.ext_community: ") {
                    ext = v.to_string();
                }
            }
            out.push((rule.to_string(), ext));
        }
        out.sort();
        Some(out)
    };
    let expect = |name: &str, want: &[(&str, &str)]| {
        let mut want: Vec<(String, String)> = want
            .iter()
            .map(|(r, e)| (r.to_string(), e.to_string()))
            .collect();
        want.sort();
        let got = wait_for(WAIT, || rules(name).filter(|g| *g == want));
        assert!(
            got.is_some(),
            "{name}: want {want:#?}\ngot {:#?}\nexabgp log:\n{}",
            rules(name),
            exa.log()
        );
    };
    let discard = "(generic, 0x80060000, 0x0)";
    let mut v4 = vec![
        (
            "flow4 { dst 192.0.2.0/24; src 10.0.0.0/8; proto 6,17; dport 80; sport > 1024; tcp flags !0x0/0x2; length < 100; dscp 46; fragment !!is_fragment; }",
            discard,
        ),
        // rate-limit 9600: the IEEE float 0x46160000.
        (
            "flow4 { dst 192.0.2.1/32; proto 1; icmp type 8; icmp code 0; }",
            "(generic, 0x80060000, 0x46160000)",
        ),
        // redirect 65000:100 (0xfde8, 0x64).
        (
            "flow4 { dst 192.0.2.2/32; port 137..139; }",
            "(generic, 0x8008fde8, 0x64)",
        ),
        // mark 10.
        ("flow4 { dst 192.0.2.3/32; }", "(generic, 0x80090000, 0xa)"),
    ];
    expect("flowtab4", &v4);
    expect(
        "flowtab6",
        &[(
            "flow6 { dst 2001:db8::/64; next header 6; dport 443; label 5; }",
            discard,
        )],
    );

    // A rule withdrawn through the control socket leaves BIRD's table.
    let mut cmd = support::binary::hermetic(support::binary::exabgpcli_bin());
    cmd.args(["--timeout", "20", "--socket"])
        .arg(dir.path.join("exabgp.sock"))
        .args(["withdraw", "flow", "route", "destination", "192.0.2.3/32"]);
    let out = support::binary::run(cmd, support::binary::COMMAND_TIMEOUT);
    assert_eq!(out.code, 0, "{out:?}");
    v4.pop();
    expect("flowtab4", &v4);

    // The actions the configuration above does not use, through the API, each
    // checked as the bytes BIRD received: (generic, octets 0..4, octets 4..8).
    let more = [
        // traffic-rate-packets, AS 0, 500.0 (0x43fa0000).
        (
            "192.0.2.10/32",
            "rate-limit-packets 500",
            "(generic, 0x800c0000, 0x43fa0000)",
        ),
        // redirect, 4-octet AS 4200000000 (0xfa56ea00), value 100.
        (
            "192.0.2.11/32",
            "redirect 4200000000:100",
            "(generic, 0x8208fa56, 0xea000064)",
        ),
        // redirect, IPv4 192.0.2.1, value 100.
        (
            "192.0.2.12/32",
            "redirect 192.0.2.1:100",
            "(generic, 0x8108c000, 0x2010064)",
        ),
        // redirect to IPv4 (draft-ietf-idr-flowspec-redirect-ip), 192.0.2.9, no copy:
        // BIRD reads type 0x01 as IPv4-address-specific, subtype 0x0c unnamed.
        (
            "192.0.2.13/32",
            "redirect-to-nexthop-ietf 192.0.2.9",
            "(unknown 0x10c, 192.0.2.9, 0)",
        ),
        // traffic-action sample.
        (
            "192.0.2.14/32",
            "action sample",
            "(generic, 0x80070000, 0x2)",
        ),
    ];
    let rule_lines: Vec<String> = more
        .iter()
        .map(|(dst, _, _)| format!("flow4 {{ dst {dst}; }}"))
        .collect();
    for (dst, then, _) in more {
        let mut cmd = support::binary::hermetic(support::binary::exabgpcli_bin());
        cmd.args(["--timeout", "20", "--socket"])
            .arg(dir.path.join("exabgp.sock"))
            .args(["announce", "flow", "route", "destination", dst])
            .args(then.split(' '));
        let out = support::binary::run(cmd, support::binary::COMMAND_TIMEOUT);
        assert_eq!(out.code, 0, "{then}: {out:?}");
    }
    let mut all: Vec<(&str, &str)> = v4.clone();
    for (line, (_, _, ext)) in rule_lines.iter().zip(more.iter()) {
        all.push((line.as_str(), ext));
    }
    expect("flowtab4", &all);
}

/// BIRD originating flow rules from static protocols: a flow4 rule with an AND
/// chain and the discard action (added by the export filter), a second flow4
/// rule, a flow6 rule.
fn bird_originating_conf(dir: &std::path::Path, bird: IpAddr, port: u16, exa: IpAddr) -> String {
    format!(
        r#"
log "{log}" all;
router id 192.0.2.253;
protocol device {{ scan time 600; }}
flow4 table flowtab4;
flow6 table flowtab6;
protocol static flows4 {{
  flow4 {{ table flowtab4; }};
  route flow4 {{ dst 10.0.0.0/8; proto 6; dport > 1000 && < 2000; }};
  route flow4 {{ dst 198.51.100.7/32; sport 53; length >= 512; }};
}}
protocol static flows6 {{
  flow6 {{ table flowtab6; }};
  route flow6 {{ dst 2001:db8:1::/48; next header 17; }};
}}
protocol bgp exa {{
  local {bird} port {port} as {BIRD_AS};
  neighbor {exa} as {EXA_AS};
  passive on;
  strict bind on;
  multihop;
  hold time 30;
  flow4 {{ table flowtab4; import none; export filter {{ bgp_ext_community.add((generic, 0x80060000, 0x0)); accept; }}; }};
  flow6 {{ table flowtab6; import none; export all; }};
}}
"#,
        log = dir.join("bird.log").display()
    )
}

/// A helper that writes every event it gets, as received, one per line: JSON
/// documents or the text encoder's lines.
const RECORDER: &str = r#"#!/usr/bin/env python3
import sys
log = open(sys.argv[1], "a")
for line in sys.stdin:
    log.write(line)
    log.flush()
"#;

/// Rules BIRD originates (flow4 and flow6 static routes) arrive at a JSON helper
/// as the documented JSON (docs/flowspec.md, ExaBGP 5.0's flow.py `Flow.json`:
/// an AND chain one string, the string bracketing it, `no-nexthop` as BIRD sends
/// no next hop, the IPv6 prefix with its offset) and at a text helper as
/// ExaBGP's text lines (text.py `update`).
#[test]
fn rules_bird_originates_arrive_as_the_documented_json_and_text() {
    use support::conf::{helper_process, write_helper};
    let dir = TestDir::new("bird-flow-in");
    let exa_ip: IpAddr = loopback_addr(65).into();
    let bird_ip: IpAddr = loopback_addr(66).into();
    let port = free_port(bird_ip);
    let (script, json_log) = write_helper(&dir.path, "json", RECORDER);
    let text_log = dir.path.join("text.log");
    let config = ExaConfig::new(EXA_AS)
        .connect_to(bird_ip, BIRD_AS, exa_ip, port)
        .line("hold-time = 30\nfamilies = [\"ipv4 flow\", \"ipv6 flow\"]")
        .build()
        + &helper_process("json", &script, &json_log, "json", "\"update\"")
        + &helper_process("text", &script, &text_log, "text", "\"update\"");
    let bird = Bird::start(
        &dir.path,
        &bird_originating_conf(&dir.path, bird_ip, port, exa_ip),
    );
    let exa = Exabgp::start(&dir.path, &config, None);
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    let announced = || -> Vec<serde_json::Value> {
        read(&json_log)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| {
                let u = v.pointer("/neighbor/message/update")?.clone();
                u.get("announce").is_some().then_some(u)
            })
            .collect()
    };
    let all = wait_for(WAIT, || {
        let got = announced();
        let rules: usize = got
            .iter()
            .flat_map(|u| u["announce"].as_object().cloned().unwrap_or_default())
            .flat_map(|(_, by_nh)| by_nh.as_object().cloned().unwrap_or_default())
            .map(|(_, list)| list.as_array().map_or(0, Vec::len))
            .sum();
        (rules >= 3).then_some(got)
    });
    let Some(updates) = all else {
        panic!(
            "BIRD's three rules did not all arrive; helper saw:\n{}\nexabgp log:\n{}\nbird: {:?}",
            read(&json_log),
            exa.log(),
            bird.birdc(&["show", "protocols", "all", "exa"])
        );
    };
    let mut v4: Vec<serde_json::Value> = Vec::new();
    let mut v6: Vec<serde_json::Value> = Vec::new();
    for u in &updates {
        if let Some(l) = u.pointer("/announce/ipv4 flow/no-nexthop") {
            v4.extend(l.as_array().cloned().unwrap_or_default());
            assert_eq!(
                u["attribute"]["extended-community"],
                serde_json::json!([{"value": 0x8006_0000_0000_0000u64, "string": "rate-limit:0"}]),
                "{u}"
            );
        }
        if let Some(l) = u.pointer("/announce/ipv6 flow/no-nexthop") {
            v6.extend(l.as_array().cloned().unwrap_or_default());
        }
    }
    v4.sort_by_key(|r| r["string"].as_str().unwrap_or_default().to_string());
    assert_eq!(
        serde_json::Value::Array(v4),
        serde_json::json!([
            {
                "destination-ipv4": ["10.0.0.0/8"],
                "protocol": ["=tcp"],
                "destination-port": [">1000&<2000"],
                "string": "flow destination-ipv4 10.0.0.0/8 protocol =tcp destination-port [ >1000&<2000 ]"
            },
            {
                "destination-ipv4": ["198.51.100.7/32"],
                "source-port": ["=53"],
                "packet-length": [">=512"],
                "string": "flow destination-ipv4 198.51.100.7/32 source-port =53 packet-length >=512"
            }
        ])
    );
    assert_eq!(
        serde_json::Value::Array(v6),
        serde_json::json!([{
            "destination-ipv6": ["2001:db8:1::/48/0"],
            "next-header": ["=udp"],
            "string": "flow destination-ipv6 2001:db8:1::/48/0 next-header =udp"
        }])
    );
    // The text helper: `RULE ATTRIBUTES` lines (no next hop), the action among them.
    let p = format!("neighbor {bird_ip} receive update ");
    let line = wait_for(WAIT, || {
        read(&text_log)
            .lines()
            .find(|l| l.starts_with(&format!("{p}flow destination-ipv4 10.0.0.0/8 ")))
            .map(str::to_string)
    })
    .unwrap_or_else(|| panic!("no flow line; text helper saw:\n{}", read(&text_log)));
    assert!(
        line.starts_with(&format!(
            "{p}flow destination-ipv4 10.0.0.0/8 protocol =tcp destination-port [ >1000&<2000 ]  origin igp"
        )),
        "{line}"
    );
    assert!(line.ends_with(" extended-community rate-limit:0"), "{line}");
}
