//! `exabgp healthcheck` as the `[[process]]` helper of the built `exabgp server`,
//! peered with a real gobgpd: the service address arrives with --up-metric while
//! the check passes, gets --down-metric after --fall failures, comes back after
//! --rise successes, gets --disabled-metric while the --disable file exists, and a
//! check that hangs is killed at --timeout and counts as a failure. A SIGTERM to
//! the helper withdraws the route at gobgpd; the daemon restarts it. Then the
//! daemon stops: the helper withdraws and exits with it.

mod support;

use std::fs;

use support::binary::*;
use support::conf::*;
use support::interop::*;
use support::net::*;
use support::{free_addr, wait_for, Gobgp, TestDir, WAIT};

const SERVICE: &str = "203.0.113.50/32";

#[test]
fn healthcheck_helper_moves_the_route_at_gobgpd() {
    let dir = TestDir::new("hc-gobgpd");
    let local = addr(3, 10);
    let peer = addr(3, 100);
    let gobgp = Gobgp::with_peer(&dir.path, peer, 65000, local, 65001, &["ipv4-unicast"]);
    let healthy = dir.path.join("healthy");
    let hang = dir.path.join("hang");
    let disable = dir.path.join("disable");
    fs::write(&healthy, "").unwrap();
    // Fails while `healthy` is missing; hangs while `hang` exists.
    let check = format!(
        "if test -e {h}; then sleep 30; fi; test -e {ok}",
        h = hang.display(),
        ok = healthy.display()
    );
    let args = [
        "healthcheck",
        "--name",
        "svc",
        "--ip",
        SERVICE,
        "--no-ip-setup",
        "--cmd",
        &check,
        "--interval",
        "0.2",
        "--fast-interval",
        "0.2",
        "--rise",
        "2",
        "--fall",
        "2",
        "--timeout",
        "1",
        "--disable",
        &disable.to_string_lossy(),
        "--community",
        "65000:50",
        // gobgpd refuses a loopback next hop (next-hop self here).
        "--next-hop",
        "192.0.2.10",
    ];
    let run: Vec<String> = std::iter::once(exabgp_bin().to_string())
        .chain(args.iter().map(|s| s.to_string()))
        .map(|s| format!("{s:?}"))
        .collect();
    let cfg = daemon_config("192.0.2.1", peer, local, gobgp.port)
        + &format!(
            "\n[[process]]\nname = \"hc\"\nrun = [{}]\nencoder = \"json\"\nreceive = []\n",
            run.join(", ")
        );
    let name = instance_name("hc");
    let mut d = Daemon::start(&dir.path, &name, &cfg, Some(free_addr(local)));
    assert!(
        gobgp.wait_established(local, WAIT),
        "no session; daemon log:\n{}",
        d.proc.log_text()
    );
    let med_becomes = |want: Option<u64>, what: &str| {
        let got = wait_for(WAIT, || {
            let m = med_of(&gobgp, SERVICE);
            (m == want).then_some(())
        });
        assert!(
            got.is_some(),
            "{what}: MED at gobgpd is {:?}, want {want:?}; daemon log:\n{}",
            med_of(&gobgp, SERVICE),
            d.proc.log_text()
        );
    };
    med_becomes(Some(100), "UP after --rise successes");
    let attrs = gobgp.route_attrs("ipv4", SERVICE).unwrap();
    assert_eq!(
        gobgp_attr(&attrs, 8).map(|a| a["communities"].clone()),
        Some(serde_json::json!([65000u64 * 65536 + 50])),
        "{attrs:?}"
    );

    fs::remove_file(&healthy).unwrap();
    med_becomes(Some(1000), "DOWN after --fall failures");
    fs::write(&healthy, "").unwrap();
    med_becomes(Some(100), "UP again");

    fs::write(&disable, "").unwrap();
    med_becomes(Some(500), "DISABLED while the file exists");
    fs::remove_file(&disable).unwrap();
    med_becomes(Some(100), "UP after the file is gone");

    fs::write(&hang, "").unwrap();
    med_becomes(Some(1000), "DOWN: the hanging check is killed at --timeout");
    fs::remove_file(&hang).unwrap();
    med_becomes(Some(100), "UP once the check answers again");

    // The helper is stopped behind the daemon's back: it withdraws and exits 0
    // (gobgpd loses the route), the daemon starts it again, and the new one
    // announces after --rise. While `hang` exists the new helper's checks each
    // take the --timeout and fail, and INIT/FALLING print nothing, so the route
    // stays away at least 2 s (--fall 2 timeouts) for the test to see it gone.
    fs::write(&hang, "").unwrap();
    let first: Vec<u32> = helper_pids(&d.proc.log_text());
    assert_eq!(first.len(), 1, "{}", d.proc.log_text());
    // SAFETY: kill(2) on the helper's pid, read from the daemon's log.
    unsafe {
        libc::kill(first[0] as i32, libc::SIGTERM);
    }
    med_becomes(None, "withdrawn by the helper on SIGTERM");
    fs::remove_file(&hang).unwrap();
    let again = wait_for(WAIT, || {
        (helper_pids(&d.proc.log_text()).len() == 2).then_some(())
    });
    assert!(again.is_some(), "not restarted:\n{}", d.proc.log_text());
    med_becomes(Some(100), "UP after the helper was restarted");

    let log = d.proc.log_text();
    assert!(log.contains("exiting: withdrawing the routes"), "{log}");
    assert!(log.contains("timed out after 1s"), "{log}");
    assert!(log.contains("state FALLING -> DOWN"), "{log}");
    assert!(log.contains("healthcheck-svc"), "{log}");
    assert_eq!(d.terminate(), Some(0), "{}", d.proc.log_text());
}

/// The pids of `helper started helper=hc pid=N` lines of the daemon's log.
fn helper_pids(log: &str) -> Vec<u32> {
    log.lines()
        .filter(|l| l.contains("helper started") && l.contains("helper=hc"))
        .filter_map(|l| {
            l.rsplit("pid=")
                .next()?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect()
}
