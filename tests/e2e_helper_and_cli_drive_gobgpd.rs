//! A Python helper written the ExaBGP way (JSON events on stdin, commands on
//! stdout) and the CLI, against the built `exabgp server` and a real gobgpd: what
//! they announce and withdraw is what gobgpd holds; malformed commands are refused
//! (exit 1) and change nothing; SIGTERM stops the helper too.
//!
//! Every process is killed and every socket file removed when a test ends, also
//! when it fails (Drop guards). Names carry our pid so concurrent runs never meet.

mod support;

use std::time::Duration;

use support::binary::*;
use support::conf::*;
use support::interop::*;
use support::net::*;
use support::{free_addr, wait_for, Gobgp, TestDir, WAIT};

/// The helper the ExaBGP way: JSON events on stdin, `announce`/`withdraw` on stdout.
const HELPER: &str = r#"#!/usr/bin/env python3
import json, os, sys
log = open(sys.argv[1], "a")
log.write("pid %d\n" % os.getpid()); log.flush()
announced = withdrawn = False
while True:
    line = sys.stdin.readline()
    if not line:
        break
    line = line.strip()
    if not line:
        continue
    try:
        msg = json.loads(line)
    except ValueError:
        log.write("answer " + line + "\n"); log.flush()
        continue
    kind = msg.get("type")
    neighbor = msg.get("neighbor", {})
    log.write("event %s %s\n" % (kind, neighbor.get("state", "")))
    log.write("from %s %s\n" % (msg.get("exabgp"), msg.get("pid"))); log.flush()
    if kind == "state" and neighbor.get("state") == "up" and not announced:
        announced = True
        sys.stdout.write("announce route 203.0.113.10/32 next-hop 192.0.2.10 med 10\n")
        sys.stdout.write("announce route 203.0.113.11/32 next-hop 192.0.2.10 community [65000:11]\n")
        sys.stdout.flush()
    if kind == "update" and not withdrawn:
        update = neighbor.get("message", {}).get("update", {})
        for routes in update.get("announce", {}).get("ipv4 unicast", {}).values():
            if any(r.get("nlri") == "10.99.0.0/24" for r in routes):
                withdrawn = True
                log.write("withdrawing\n"); log.flush()
                sys.stdout.write("withdraw route 203.0.113.11/32\n")
                sys.stdout.flush()
"#;

/// A Python helper and the CLI change what a real gobgpd holds; a malformed command
/// is refused with exit 1 and changes nothing.
#[test]
fn python_helper_and_cli_drive_gobgpd() {
    let dir = TestDir::new("e2e-helper");
    let local = addr(1, 10);
    let peer = addr(1, 100);
    let gobgp = Gobgp::with_peer(&dir.path, peer, 65000, local, 65001, &["ipv4-unicast"]);
    let (helper, helper_log) = write_helper(&dir.path, "helper", HELPER);
    let name = instance_name("helper");
    let cfg = daemon_config("192.0.2.1", peer, local, gobgp.port)
        + &helper_process(
            "announcer",
            &helper,
            &helper_log,
            "json",
            "\"update\", \"state\"",
        );
    let bind = free_addr(local);
    let mut d = Daemon::start(&dir.path, &name, &cfg, Some(bind));
    let seen = || std::fs::read_to_string(&helper_log).unwrap_or_default();
    assert!(
        gobgp.wait_established(local, WAIT),
        "no session; daemon log:\n{}",
        d.proc.log_text()
    );
    let both = wait_for(WAIT, || {
        let p = rib_prefixes(&gobgp);
        (p.contains("203.0.113.10/32") && p.contains("203.0.113.11/32")).then_some(())
    });
    assert!(
        both.is_some(),
        "the helper's routes did not arrive; helper saw:\n{}\ndaemon log:\n{}",
        seen(),
        d.proc.log_text()
    );
    let attrs = gobgp.route_attrs("ipv4", "203.0.113.10/32").unwrap();
    assert_eq!(
        support::gobgp_attr(&attrs, 4).and_then(|a| a["metric"].as_u64()),
        Some(10),
        "{attrs:?}"
    );
    let attrs = gobgp.route_attrs("ipv4", "203.0.113.11/32").unwrap();
    assert_eq!(
        support::gobgp_attr(&attrs, 8).map(|a| a["communities"].clone()),
        Some(serde_json::json!([65000u64 * 65536 + 11])),
        "{attrs:?}"
    );

    // gobgpd sends a route: the helper sees the JSON update and withdraws one.
    gobgp.add_route("10.99.0.0/24", "ipv4", "192.0.2.99", &[]);
    let gone = wait_for(WAIT, || {
        let p = rib_prefixes(&gobgp);
        (!p.contains("203.0.113.11/32")).then_some(p)
    });
    let p = gone.unwrap_or_else(|| {
        panic!(
            "203.0.113.11/32 not withdrawn; helper saw:\n{}\ngobgp rib: {}",
            seen(),
            gobgp.rib("ipv4")
        )
    });
    assert!(
        p.contains("203.0.113.10/32"),
        "the other route stays: {p:?}"
    );
    let s = seen();
    assert!(s.contains("withdrawing"), "{s}");
    assert!(s.contains("answer done"), "acks reach the helper: {s}");
    assert!(s.contains("event state up"), "{s}");
    let origin = format!("from 5.0.0 {}", d.proc.pid());
    assert!(
        s.lines()
            .filter(|l| l.starts_with("from "))
            .all(|l| l == origin),
        "events name the API version and the daemon's pid ({origin}): {s}"
    );

    // The CLI announces and withdraws.
    let out = cli(
        &name,
        &[
            "announce",
            "route",
            "198.51.100.0/24",
            "next-hop",
            "192.0.2.10",
            "med",
            "77",
        ],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{out:?}");
    let attrs = wait_for(WAIT, || gobgp.route_attrs("ipv4", "198.51.100.0/24"))
        .unwrap_or_else(|| panic!("CLI route did not arrive: {}", gobgp.rib("ipv4")));
    assert_eq!(
        support::gobgp_attr(&attrs, 4).and_then(|a| a["metric"].as_u64()),
        Some(77)
    );
    let out = exabgp_cli(&name, &["withdraw", "route", "198.51.100.0/24"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        wait_for(WAIT, || (!rib_prefixes(&gobgp).contains("198.51.100.0/24"))
            .then_some(()))
        .is_some(),
        "CLI withdraw did not reach gobgpd: {}",
        gobgp.rib("ipv4")
    );

    // Malformed commands: `error: ...`, exit 1, nothing announced changes.
    let before = rib_prefixes(&gobgp);
    let out_before = cli(&name, &["show", "adj-rib", "out"]);
    assert_eq!(out_before.code, 0, "{out_before:?}");
    for bad in [
        vec!["announce", "route", "10.0.0.1/24", "next-hop", "192.0.2.10"],
        vec!["announce", "route", "10.1.0.0/16"],
        vec![
            "announce",
            "route",
            "10.2.0.0/16",
            "next-hop",
            "192.0.2.10",
            "med",
            "lots",
        ],
        vec!["withdraw", "route", "203.0.113.10/33"],
        vec!["frobnicate", "203.0.113.10/32"],
    ] {
        let out = cli(&name, &bad);
        assert_eq!(out.code, 1, "{bad:?}: {out:?}");
        assert!(out.stdout.starts_with("error: "), "{bad:?}: {out:?}");
        assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    }
    // A marker sent after them on the same session: once it is in, anything the
    // malformed commands had changed would be in too.
    let out = cli(
        &name,
        &[
            "announce",
            "route",
            "198.51.100.128/25",
            "next-hop",
            "192.0.2.10",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let after = wait_for(WAIT, || {
        let p = rib_prefixes(&gobgp);
        p.contains("198.51.100.128/25").then_some(p)
    })
    .expect("marker route");
    let mut expected = before.clone();
    expected.insert("198.51.100.128/25".to_string());
    assert_eq!(after, expected);
    let out_after = cli(&name, &["show", "adj-rib", "out"]);
    let added: Vec<&str> = out_after
        .stdout
        .lines()
        .filter(|l| !out_before.stdout.lines().any(|b| b == *l))
        .collect();
    assert!(
        added.len() == 1 && added[0].contains("198.51.100.128/25"),
        "adj-rib out changed beyond the marker: {added:?}"
    );

    // SIGTERM: exit 0, the helper stopped, the socket gone, the session down.
    let pid = *pids_in(&helper_log)
        .first()
        .expect("the helper logged its pid");
    assert_eq!(d.terminate(), Some(0), "{}", d.proc.log_text());
    assert!(std::fs::symlink_metadata(d.path()).is_err(), "socket left");
    let helper_gone = wait_for(Duration::from_secs(10), || process_gone(pid).then_some(()));
    assert!(helper_gone.is_some(), "helper {pid} still running");
    assert!(
        wait_for(WAIT, || (!gobgp.established(local)).then_some(())).is_some(),
        "gobgpd still sees the session"
    );
}
