//! A classic (ExaBGP syntax) configuration against a real gobgpd: its routes arrive
//! with the same attributes as from the TOML `exabgp migrate` makes of it, and an
//! ExaBGP helper script, written the way ExaBGP's documentation shows (JSON lines
//! on stdin, `announce route ...` on stdout), runs unchanged as its `process`.

mod support;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use serde_json::{json, Value};
use support::binary::{exabgp_bin, hermetic};
use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

/// `exabgp server FILE` on a config written to `dir/NAME` (a `.conf` or `.toml`).
fn start(dir: &Path, name: &str, config: &str) -> Exabgp {
    let path = dir.join(name);
    std::fs::write(&path, config).unwrap();
    let mut cmd = hermetic(exabgp_bin());
    cmd.arg("server")
        .arg(&path)
        .args(["--log-level", "debug"])
        // Tests run as root and there is no `exabgp` user here.
        .env("exabgp_daemon_drop", "false")
        .env("exabgp_api_socketpath", dir.join(format!("{name}.sock")));
    let proc = Proc::spawn("exabgp", cmd, dir.join(format!("{name}.log")));
    Exabgp { proc, config: path }
}

fn classic_config(gobgp: &Gobgp, exa: IpAddr, extra: &str) -> String {
    format!(
        r#"# Modelled on ExaBGP's etc/exabgp/conf-split.conf and api-announce.conf.
{extra}
neighbor {peer} {{
	description "gobgpd";
	router-id 192.0.2.1;
	local-address {exa};
	local-as {EXA_AS};
	peer-as {GOBGP_AS};
	connect {port};
	hold-time 30;
	family {{
		ipv4 unicast;
		ipv6 unicast;
	}}
	capability {{
		route-refresh;
		asn4 enable;
	}}
	static {{
		# every attribute gobgp shows us
		route 203.0.113.0/24 next-hop 192.0.2.10 as-path [ {EXA_AS} 65010 ] med 10 community [ 65000:1 no-export ] large-community [ 65000:1:2 ] extended-community [ target:65000:7 ];
		route 198.51.100.0/23 {{
			# gobgpd refuses a loopback next hop, so no 'next-hop self' here
			next-hop 192.0.2.11;
			origin incomplete;
			split /24;
		}}
	}}
	announce {{
		ipv6 {{
			unicast 2001:db8:100::/48 next-hop 2001:db8::10 origin egp as-path [ 65020 ] med 20;
		}}
	}}
	API
}}
"#,
        peer = gobgp.addr,
        port = gobgp.port,
    )
}

const PREFIXES: [(&str, &str); 4] = [
    ("ipv4", "203.0.113.0/24"),
    ("ipv4", "198.51.100.0/24"),
    ("ipv4", "198.51.101.0/24"),
    ("ipv6", "2001:db8:100::/48"),
];

/// Each prefix's attributes in gobgp's RIB, once all are there.
fn collect(gobgp: &Gobgp, exa: &Exabgp, prefixes: &[(&str, &str)]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (family, prefix) in prefixes {
        let attrs = wait_for(WAIT, || gobgp.route_attrs(family, prefix))
            .unwrap_or_else(|| panic!("{prefix} not in gobgp's rib; exabgp log:\n{}", exa.log()));
        out.insert(prefix.to_string(), Value::Array(attrs));
    }
    out
}

fn wait_gone(gobgp: &Gobgp, family: &str, prefix: &str) {
    let gone = wait_for(WAIT, || {
        gobgp.route_attrs(family, prefix).is_none().then_some(())
    });
    assert!(
        gone.is_some(),
        "{prefix} still in gobgp's rib after exabgp stopped"
    );
}

fn as_path(attrs: &Value) -> Vec<u64> {
    attrs
        .as_array()
        .and_then(|a| gobgp_attr(a, 2))
        .and_then(|a| a.pointer("/as_paths/0/asns"))
        .and_then(|v| v.as_array())
        .map(|v| v.iter().filter_map(|x| x.as_u64()).collect())
        .unwrap_or_default()
}

fn attr<'a>(attrs: &'a Value, code: i64, field: &str) -> Option<&'a Value> {
    gobgp_attr(attrs.as_array()?, code)?.get(field)
}

#[test]
fn classic_config_routes_reach_gobgpd_as_from_its_migrated_toml() {
    let (dir, exa_ip, gobgp) = gobgp_setup(
        "gobgp-classic",
        201,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast", "ipv6-unicast"],
    );
    let classic = classic_config(&gobgp, exa_ip, "").replace("API", "");
    let mut exa = start(&dir.path, "edge.conf", &classic);
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "session not established; exabgp log:\n{}\ngobgpd log:\n{}",
        exa.log(),
        gobgp.proc.log_text()
    );
    let from_classic = collect(&gobgp, &exa, &PREFIXES);

    // What the classic file says, as gobgp saw it.
    let a = &from_classic["203.0.113.0/24"];
    assert_eq!(as_path(a), vec![65001, 65010], "{a}");
    assert_eq!(attr(a, 3, "nexthop"), Some(&json!("192.0.2.10")), "{a}");
    assert_eq!(attr(a, 4, "metric"), Some(&json!(10)), "{a}");
    assert_eq!(
        attr(a, 8, "communities"),
        Some(&json!([(65000u64 << 16) | 1, 0xFFFF_FF01u64])),
        "{a}"
    );
    assert_eq!(
        attr(a, 32, "value"),
        Some(&json!([{"ASN": 65000, "LocalData1": 1, "LocalData2": 2}])),
        "{a}"
    );
    assert_eq!(
        attr(a, 16, "value"),
        Some(&json!([{"type": 0, "subtype": 2, "value": "65000:7"}])),
        "{a}"
    );
    // split /24 of the block-form route: both halves.
    for p in ["198.51.100.0/24", "198.51.101.0/24"] {
        let a = &from_classic[p];
        assert_eq!(
            attr(a, 1, "value"),
            Some(&json!(2)),
            "origin incomplete: {a}"
        );
        assert_eq!(attr(a, 3, "nexthop"), Some(&json!("192.0.2.11")), "{a}");
    }
    let a = &from_classic["2001:db8:100::/48"];
    assert_eq!(as_path(a), vec![65001, 65020], "{a}");
    assert_eq!(attr(a, 14, "nexthop"), Some(&json!("2001:db8::10")), "{a}");

    exa.stop();
    for (family, prefix) in PREFIXES {
        wait_gone(&gobgp, family, prefix);
    }

    // The same file migrated to TOML: the same routes, attribute for attribute.
    let out = std::process::Command::new(exabgp_bin())
        .arg("migrate")
        .arg(&exa.config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let toml = String::from_utf8(out.stdout).unwrap();
    assert!(toml.contains("# every attribute gobgp shows us"), "{toml}");
    let mut exa = start(&dir.path, "edge.toml", &toml);
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "session not established from the TOML; exabgp log:\n{}",
        exa.log()
    );
    let from_toml = collect(&gobgp, &exa, &PREFIXES);
    assert_eq!(from_classic, from_toml);
    exa.stop();
}

/// The helper as ExaBGP's documentation writes one: read the JSON events on
/// stdin, print commands on stdout and flush. It announces a route when it sees
/// the neighbor come up (a `state` event), as anycast helpers do.
const HELPER: &str = r#"#!/usr/bin/env python3
import json
import sys

while True:
    line = sys.stdin.readline()
    if not line:
        break
    try:
        message = json.loads(line)
    except ValueError:
        # "done" / "error" acknowledgements of our own commands
        continue
    if message.get('type') == 'state' and message['neighbor']['state'] == 'up':
        peer = message['neighbor']['address']['peer']
        sys.stdout.write('neighbor %s announce route 203.0.113.77/32 next-hop 192.0.2.77 community [65000:77]\n' % peer)
        sys.stdout.flush()
"#;

#[test]
fn exabgp_helper_script_runs_unchanged_as_a_classic_process() {
    let (dir, exa_ip, gobgp) = gobgp_setup(
        "gobgp-classic-helper",
        203,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast", "ipv6-unicast"],
    );
    let script = dir.path.join("announce.py");
    std::fs::write(&script, HELPER).unwrap();
    let process = format!(
        "process announcer {{\n\trun /usr/bin/python3 {};\n\tencoder json;\n}}\n",
        script.display()
    );
    let api = "api {\n\t\tprocesses [ announcer ];\n\t\tneighbor-changes;\n\t\treceive {\n\t\t\tparsed;\n\t\t\tupdate;\n\t\t}\n\t}";
    let classic = classic_config(&gobgp, exa_ip, &process).replace("API", api);
    let mut exa = start(&dir.path, "edge.conf", &classic);
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "session not established; exabgp log:\n{}",
        exa.log()
    );
    let got = collect(&gobgp, &exa, &[("ipv4", "203.0.113.77/32")]);
    let a = &got["203.0.113.77/32"];
    assert_eq!(attr(a, 3, "nexthop"), Some(&json!("192.0.2.77")), "{a}");
    assert_eq!(
        attr(a, 8, "communities"),
        Some(&json!([(65000u64 << 16) | 77])),
        "{a}"
    );
    // And the configured routes are there beside it.
    collect(&gobgp, &exa, &PREFIXES);
    exa.stop();
}
