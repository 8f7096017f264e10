//! The monitoring files shipped in monitoring/ and documented in
//! docs/monitoring.md: the alert rules pass `promtool check rules` (Debian package
//! prometheus), the Grafana dashboard is valid JSON and uses only metrics the
//! daemon exports, and every exported metric is documented.

use std::collections::BTreeSet;
use std::process::Command;

use exabgp::bgp::Family;
use exabgp::control::stats::{
    BoardSnapshot, HelperSnapshot, HelperState, LastNotification, PeerSnapshot,
};
use exabgp::control::{MessageCounters, PeerState};
use exabgp::metrics::{process, render_snapshot};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Every sample name the daemon can export: a board with one of everything, and
/// this process's figures.
fn exported() -> BTreeSet<String> {
    let b = BoardSnapshot {
        peers: vec![PeerSnapshot {
            address: "192.0.2.1".parse().unwrap(),
            peer_as: 65000,
            state: PeerState::Established,
            up_since: 1_700_000_000,
            flops: 0,
            sent: MessageCounters::default(),
            received: MessageCounters::default(),
            families: vec![(Family::IPV4_UNICAST, 1, 1)],
            rib_in_bytes: 1,
            rib_out_bytes: 1,
            last_notification: Some(LastNotification {
                code: 6,
                subcode: 2,
                received: false,
            }),
        }],
        helpers: vec![HelperSnapshot {
            name: "h".into(),
            starts: 1,
            dropped: 0,
            state: HelperState::Running,
        }],
        ..Default::default()
    };
    let text = render_snapshot(&b, &process::read());
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_string)
        .collect()
}

/// Metric-like names in a PromQL expression (ours, GoBGP's, the process's, `up`).
fn names_in(expr: &str) -> Vec<String> {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            ["bgp_", "exabgp_", "process_"]
                .iter()
                .any(|p| w.starts_with(p))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_exported_metric_is_documented() {
    let doc = std::fs::read_to_string(format!("{ROOT}/docs/monitoring.md")).unwrap();
    let names = exported();
    assert!(names.len() > 30, "{names:?}");
    for n in &names {
        assert!(
            doc.contains(&format!("`{n}`")),
            "docs/monitoring.md does not document {n}"
        );
    }
}

#[test]
fn the_dashboard_is_json_and_uses_only_exported_metrics() {
    let text =
        std::fs::read_to_string(format!("{ROOT}/monitoring/exabgp-rs.dashboard.json")).unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).expect("dashboard JSON");
    let exported = exported();
    let mut exprs: Vec<String> = Vec::new();
    for p in d["panels"].as_array().expect("panels") {
        for t in p["targets"].as_array().expect("targets") {
            exprs.push(t["expr"].as_str().expect("expr").to_string());
        }
    }
    for v in d["templating"]["list"].as_array().expect("templating") {
        if let Some(q) = v["definition"].as_str() {
            exprs.push(q.to_string());
        }
    }
    assert!(exprs.len() >= 15, "{exprs:?}");
    let mut used = BTreeSet::new();
    for e in &exprs {
        for n in names_in(e) {
            assert!(
                exported.contains(&n),
                "dashboard uses {n}, not exported ({e})"
            );
            used.insert(n);
        }
    }
    for key in [
        "bgp_peer_state",
        "bgp_routes_received",
        "bgp_peer_flop_count",
        "exabgp_helper_given_up",
    ] {
        assert!(used.contains(key), "dashboard lacks {key}");
    }
}

#[test]
fn the_alert_rules_pass_promtool_and_use_exported_metrics() {
    let path = format!("{ROOT}/monitoring/exabgp-rs.rules.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let exported = exported();
    for n in names_in(&text) {
        assert!(exported.contains(&n), "rules use {n}, not exported");
    }
    for alert in [
        "ExabgpSessionDown",
        "ExabgpSessionFlapping",
        "ExabgpRoutesReceivedDroppedToZero",
        "ExabgpHelperGivenUp",
        "ExabgpReloadRejected",
        "ExabgpHelperQueueDrops",
    ] {
        assert!(text.contains(&format!("alert: {alert}")), "{alert} missing");
    }
    let out = match Command::new("promtool")
        .args(["check", "rules", &path])
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            if std::env::var_os("EXABGP_REQUIRE_PROMETHEUS").is_some() {
                panic!("promtool not runnable ({e}) and EXABGP_REQUIRE_PROMETHEUS is set (apt-get install prometheus)");
            }
            eprintln!(
                "SKIPPED promtool check: promtool not installed (Debian package prometheus): {e}"
            );
            return;
        }
    };
    assert!(
        out.status.success(),
        "promtool check rules failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
