//! A DDoS-detector-style client on the control socket (issue 12 must-show):
//! `exabgpcli` fed one command per line on stdin announces 10 000 flow rules and
//! withdraws every other one; a real gobgpd (ipv4-flowspec) ends with exactly
//! the 5 000 rules still announced, no more, no fewer. The same burst from a
//! helper, written at once with acks on (so read and joined into few requests,
//! api/join.rs): every line gets its `done`, and gobgpd ends with exactly the set.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::binary::{exabgpcli_bin, hermetic, run_with_input};
use support::conf::{helper_process, write_helper};
use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;
const RULES: u32 = 10_000;

fn dst(i: u32) -> String {
    format!("10.{}.{}.{}/32", 100 + i / 65536, (i / 256) % 256, i % 256)
}

#[test]
fn detector_announces_and_withdraws_10k_rules_and_gobgpd_ends_with_exactly_the_set() {
    let (dir, exa_ip, g) = gobgp_setup("flow-detector", 221, EXA_AS, GOBGP_AS, &["ipv4-flowspec"]);
    let config = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("families = [\"ipv4 flow\"]")
        .build();
    let exa = Exabgp::start(&dir.path, &config, None);
    assert!(
        g.wait_established(exa_ip, WAIT),
        "session not established; log:\n{}",
        exa.log()
    );

    let mut script = String::new();
    for i in 0..RULES {
        script.push_str(&format!(
            "announce flow route destination {} protocol udp source-port =123 discard\n",
            dst(i)
        ));
    }
    for i in (0..RULES).step_by(2) {
        script.push_str(&format!(
            "withdraw flow route destination {} protocol udp source-port =123\n",
            dst(i)
        ));
    }
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--timeout", "20", "--socket"])
        .arg(dir.path.join("exabgp.sock"));
    let out = run_with_input(cmd, Some(&script), Duration::from_secs(300));
    assert_eq!(out.code, 0, "exabgpcli: {}", out.stderr);

    let want: BTreeSet<String> = (1..RULES)
        .step_by(2)
        .map(|i| {
            format!(
                "[destination: {}][protocol: ==udp][source-port: ==123]",
                dst(i)
            )
        })
        .collect();
    let rib = || -> BTreeSet<String> {
        g.json(&["global", "rib", "-a", "ipv4-flowspec"])
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default()
    };
    let done = wait_for(Duration::from_secs(120), || (rib() == want).then_some(()));
    let got = rib();
    assert!(
        done.is_some(),
        "gobgpd holds {} rules, want {}; missing {:?}; extra {:?}",
        got.len(),
        want.len(),
        want.difference(&got).take(5).collect::<Vec<_>>(),
        got.difference(&want).take(5).collect::<Vec<_>>()
    );
}

/// Writes the burst (the lines in BURST) at once, then logs every answer line.
const BURST_HELPER: &str = r#"#!/usr/bin/env python3
import sys, time
log = open(sys.argv[1], "w")
sys.stdout.write(open(sys.argv[1] + ".burst").read())
sys.stdout.flush()
for line in sys.stdin:
    log.write(line); log.flush()
time.sleep(300)
"#;

#[test]
fn a_helpers_burst_of_10k_rules_gets_every_ack_and_gobgpd_ends_with_exactly_the_set() {
    let (dir, exa_ip, g) = gobgp_setup("flow-burst", 225, EXA_AS, GOBGP_AS, &["ipv4-flowspec"]);
    let (helper, log) = write_helper(&dir.path, "burst", BURST_HELPER);
    let mut burst = String::new();
    for i in 0..RULES {
        burst.push_str(&format!(
            "announce flow route destination {} protocol udp source-port =123 discard\n",
            dst(i)
        ));
    }
    for i in (0..RULES).step_by(2) {
        burst.push_str(&format!(
            "withdraw flow route destination {} protocol udp source-port =123\n",
            dst(i)
        ));
    }
    let lines = burst.lines().count();
    std::fs::write(log.with_extension("log.burst"), &burst).unwrap();
    let config = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("families = [\"ipv4 flow\"]")
        .line(&helper_process("burst", &helper, &log, "text", ""))
        .build();
    let exa = Exabgp::start(&dir.path, &config, None);
    assert!(
        g.wait_established(exa_ip, WAIT),
        "session not established; log:\n{}",
        exa.log()
    );
    let answers = || std::fs::read_to_string(&log).unwrap_or_default();
    let all = wait_for(Duration::from_secs(120), || {
        (answers().lines().count() >= lines).then_some(())
    });
    let text = answers();
    assert!(
        all.is_some(),
        "{} answers of {lines}; daemon log:\n{}",
        text.lines().count(),
        exa.log()
    );
    let not_done: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l != "done")
        .take(5)
        .collect();
    assert!(not_done.is_empty(), "answers other than done: {not_done:?}");
    assert_eq!(text.lines().count(), lines, "one answer per line");

    let want: BTreeSet<String> = (1..RULES)
        .step_by(2)
        .map(|i| {
            format!(
                "[destination: {}][protocol: ==udp][source-port: ==123]",
                dst(i)
            )
        })
        .collect();
    let rib = || -> BTreeSet<String> {
        g.json(&["global", "rib", "-a", "ipv4-flowspec"])
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default()
    };
    let done = wait_for(Duration::from_secs(120), || (rib() == want).then_some(()));
    let got = rib();
    assert!(
        done.is_some(),
        "gobgpd holds {} rules, want {}; missing {:?}; extra {:?}",
        got.len(),
        want.len(),
        want.difference(&got).take(5).collect::<Vec<_>>(),
        got.difference(&want).take(5).collect::<Vec<_>>()
    );
}
