//! Graceful restart (RFC 4724) against a real gobgpd, for the restarts a
//! hand-over cannot cover:
//! - exabgp is killed with SIGKILL and started again: gobgpd keeps our routes
//!   (stale) the whole time, we come back with the Restart State bit, and only the
//!   route removed from our configuration meanwhile is withdrawn, after our
//!   End-of-RIB;
//! - gobgpd is killed with SIGKILL and started again (`-r`): our Adj-RIB-In keeps
//!   its routes as stale, the helper's events show no withdraw until gobgpd's
//!   End-of-RIB, and then only of the route gobgpd no longer has.

mod support;

use std::fs;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

/// gobgpd's configuration: passive toward `peer`, graceful restart on (restart
/// time 120 s) for the session and for ipv4-unicast.
fn gobgpd_toml(addr: IpAddr, port: u16, peer: IpAddr) -> String {
    gobgpd_toml_gr(addr, port, peer, true)
}

/// As [`gobgpd_toml`]; without `family_gr`, gobgpd's capability lists no family
/// (a helper-only speaker: it keeps our routes, but preserves none of its own).
fn gobgpd_toml_gr(addr: IpAddr, port: u16, peer: IpAddr, family_gr: bool) -> String {
    let enabled = if family_gr { "true" } else { "false" };
    format!(
        "[global.config]\n  as = {GOBGP_AS}\n  router-id = \"192.0.2.254\"\n  port = {port}\n  local-address-list = [\"{addr}\"]\n\
         \n[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{peer}\"\n    peer-as = {EXA_AS}\n\
         \x20 [neighbors.transport.config]\n    passive-mode = true\n    local-address = \"{addr}\"\n\
         \x20 [neighbors.timers.config]\n    idle-hold-time-after-reset = 1\n\
         \x20 [neighbors.graceful-restart.config]\n    enabled = true\n    restart-time = 120\n\
         \x20 [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"ipv4-unicast\"\n\
         \x20   [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = {enabled}\n"
    )
}

/// Starts gobgpd on `conf` (with `-r`, the Restart State bit, when `restarting`)
/// and waits until its API answers.
fn start_gobgpd(
    dir: &Path,
    conf: &Path,
    addr: IpAddr,
    port: u16,
    api_port: u16,
    restarting: bool,
    log: &str,
) -> Gobgp {
    let mut cmd = Command::new("gobgpd");
    cmd.arg("-f")
        .arg(conf)
        .arg("--api-hosts")
        .arg(format!("{addr}:{api_port}"))
        .arg("-p")
        .arg("--pprof-disable");
    if restarting {
        cmd.arg("-r");
    }
    let g = Gobgp {
        proc: Proc::spawn("gobgpd", cmd, dir.join(log)),
        addr,
        asn: GOBGP_AS,
        port,
        api_port,
    };
    let up = wait_for(WAIT, || g.cli(&["-j", "global"]).ok());
    assert!(
        up.is_some(),
        "gobgpd API did not come up:\n{}",
        g.proc.log_text()
    );
    g
}

/// The prefixes of gobgpd's ipv4 RIB, each with whether its path is stale.
fn gobgp_routes(g: &Gobgp) -> Option<Vec<(String, bool)>> {
    let rib = g.json(&["global", "rib", "-a", "ipv4"])?;
    let map = rib.as_object()?;
    let mut v: Vec<(String, bool)> = map
        .iter()
        .map(|(prefix, paths)| {
            let stale = paths
                .as_array()
                .and_then(|a| a.first())
                .and_then(|p| p.get("stale"))
                .and_then(|s| s.as_bool())
                .unwrap_or(false);
            (prefix.clone(), stale)
        })
        .collect();
    v.sort();
    Some(v)
}

fn has(routes: &[(String, bool)], prefix: &str) -> bool {
    routes.iter().any(|(p, _)| p == prefix)
}

#[test]
fn gobgpd_keeps_our_routes_across_a_kill_9_until_our_end_of_rib() {
    let dir = TestDir::new("gr-exa-kill");
    let exa_ip: IpAddr = loopback_addr(211).into();
    let addr: IpAddr = loopback_addr(212).into();
    let (port, api_port) = (free_port(addr), free_port(addr));
    let conf = dir.path.join("gobgpd.toml");
    fs::write(&conf, gobgpd_toml(addr, port, exa_ip)).unwrap();
    let g = start_gobgpd(&dir.path, &conf, addr, port, api_port, false, "gobgpd.log");

    let (kept, dropped) = ("10.71.1.0/24", "10.71.2.0/24");
    let config = |routes: &[&str]| {
        let mut c = g
            .exabgp_config(EXA_AS, exa_ip)
            .line("graceful-restart = 60\nhold-time = 30");
        for r in routes {
            c = c.route(r, "192.0.2.1");
        }
        c.build()
    };
    let mut exa = Exabgp::start(&dir.path, &config(&[kept, dropped]), None);
    assert!(
        g.wait_established(exa_ip, WAIT),
        "not established:\n{}",
        exa.log()
    );
    let both = wait_for(WAIT, || {
        gobgp_routes(&g).filter(|r| has(r, kept) && has(r, dropped))
    });
    assert!(
        both.is_some(),
        "gobgpd never had our routes: {:?}",
        gobgp_routes(&g)
    );
    // gobgpd received our Graceful Restart capability for ipv4-unicast, and our
    // End-of-RIB; we did not restart, so no R bit.
    let n = g.neighbor(exa_ip).unwrap_or_default();
    let gr = n.pointer("/afi_safis/0/mp_graceful_restart/state");
    assert!(
        gr.and_then(|s| s.get("received")).and_then(|v| v.as_bool()) == Some(true)
            && gr
                .and_then(|s| s.get("end_of_rib_received"))
                .and_then(|v| v.as_bool())
                == Some(true),
        "gobgpd did not get our GR capability and End-of-RIB: {n}"
    );
    assert!(!exa.log().contains("R bit set"), "{}", exa.log());

    // SIGKILL: no Cease, the kernel closes the connection.
    exa.proc.signal(libc::SIGKILL);
    assert!(
        exa.proc.wait_exit(WAIT).is_some(),
        "exabgp survived SIGKILL"
    );
    let first_log = exa.log();
    let down = wait_for(WAIT, || (!g.established(exa_ip)).then_some(()));
    assert!(down.is_some(), "gobgpd did not see the session go");
    // While we are away (bounded: 3 s of polls), both routes stay, as stale.
    let gap_end = Instant::now() + Duration::from_secs(3);
    let mut stale_seen = false;
    while Instant::now() < gap_end {
        let r = gobgp_routes(&g).unwrap_or_default();
        assert!(
            has(&r, kept) && has(&r, dropped),
            "gobgpd dropped our routes while we were away: {r:?}\nexabgp log before the kill:\n{first_log}"
        );
        stale_seen |= r.iter().all(|(_, s)| *s);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        stale_seen,
        "gobgpd did not mark our routes stale: {:?}",
        gobgp_routes(&g)
    );

    // Back, without `dropped` in the configuration.
    let exa = Exabgp::start(&dir.path, &config(&[kept]), None);
    exa.expect_log("R bit set", "the restart was not noticed");
    let mut established = false;
    let mut gone = false;
    let until = Instant::now() + WAIT;
    while Instant::now() < until && !(established && gone) {
        let r = gobgp_routes(&g).unwrap_or_default();
        // `kept` never leaves gobgpd's RIB: no flap.
        assert!(
            has(&r, kept),
            "{kept} disappeared at gobgpd: {r:?}\n{}",
            exa.log()
        );
        established |= g.established(exa_ip);
        // `dropped` goes only once the session is back (after our End-of-RIB).
        if !has(&r, dropped) {
            assert!(
                established || g.established(exa_ip),
                "{dropped} withdrawn before the session was back"
            );
            gone = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(established, "session not re-established:\n{}", exa.log());
    assert!(
        gone,
        "{dropped} was never withdrawn: {:?}",
        gobgp_routes(&g)
    );
    let r = gobgp_routes(&g).unwrap_or_default();
    assert_eq!(r, vec![(kept.to_string(), false)], "fresh again");
}

#[test]
fn our_adj_rib_in_keeps_gobgpd_routes_across_its_kill_9_until_its_end_of_rib() {
    let dir = TestDir::new("gr-gobgp-kill");
    let exa_ip: IpAddr = loopback_addr(213).into();
    let addr: IpAddr = loopback_addr(214).into();
    let (port, api_port) = (free_port(addr), free_port(addr));
    let conf = dir.path.join("gobgpd.toml");
    fs::write(&conf, gobgpd_toml(addr, port, exa_ip)).unwrap();
    let mut g = start_gobgpd(&dir.path, &conf, addr, port, api_port, false, "gobgpd.log");
    let (kept, dropped) = ("10.72.1.0/24", "10.72.2.0/24");
    g.add_route(kept, "ipv4", "192.0.2.254", &[]);
    g.add_route(dropped, "ipv4", "192.0.2.254", &[]);

    // A helper that appends every JSON event to events.log.
    let events = dir.path.join("events.log");
    let helper = format!(
        "\n[[process]]\nname = \"rec\"\nrun = [\"/bin/sh\", \"-c\", \"exec cat >> {}\"]\nencoder = \"json\"\nreceive = [\"update\", \"state\"]\n",
        events.display()
    );
    let config = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("graceful-restart = 60\nhold-time = 30")
        .line(&helper)
        .build();
    let exa = Exabgp::start(&dir.path, &config, None);
    exa.wait_received(kept, "gobgpd");
    exa.wait_received(dropped, "gobgpd");
    assert!(
        wait_for(WAIT, || (count_eor(&events) > 0).then_some(())).is_some(),
        "no End-of-RIB event from gobgpd: {}",
        fs::read_to_string(&events).unwrap_or_default()
    );

    // SIGKILL gobgpd and start it again with -r (it restarted: R and F bits) on
    // the same configuration; its route `dropped` is not added back. gobgpd
    // sends End-of-RIB as soon as the session is up, so `kept` must be back in
    // its RIB first: gobgpd is started only after two failed connection attempts
    // of ours, when our ConnectRetry backoff (RFC 4271 §10) is 3 s at least, and
    // the test checks that the session was still down after the add.
    g.proc.signal(libc::SIGKILL);
    assert!(g.proc.wait_exit(WAIT).is_some(), "gobgpd survived SIGKILL");
    exa.expect_log(
        "down: peer closed the connection",
        "the session loss was not seen",
    );
    // gobgpd is away: our Adj-RIB-In still holds both routes (stale).
    let adj_in = adj_rib_in(&dir.path);
    assert!(
        adj_in.contains(kept) && adj_in.contains(dropped),
        "Adj-RIB-In emptied while gobgpd restarts: {adj_in}\n{}",
        exa.log()
    );
    assert_eq!(
        adj_in.matches("(stale)").count(),
        2,
        "marked stale: {adj_in}"
    );
    let before_restart = fs::read_to_string(&events).unwrap_or_default().len();
    drop(g);
    let failed_before = exa.log().matches("connect failed").count();
    let backed_off = wait_for(WAIT, || {
        (exa.log().matches("connect failed").count() >= failed_before + 2).then_some(())
    });
    assert!(
        backed_off.is_some(),
        "no connection attempts:\n{}",
        exa.log()
    );
    let g = start_gobgpd(&dir.path, &conf, addr, port, api_port, true, "gobgpd2.log");
    g.add_route(kept, "ipv4", "192.0.2.254", &[]);
    assert!(
        !g.established(exa_ip),
        "precondition: the session came back before gobgpd had its route again"
    );
    assert!(
        g.wait_established(exa_ip, WAIT),
        "not re-established:\n{}",
        exa.log()
    );

    // After gobgpd's End-of-RIB, `dropped` is withdrawn (an UPDATE event), and
    // never `kept`; before it, nothing was withdrawn.
    let withdrawn = wait_for(WAIT, || {
        let text = fs::read_to_string(&events).unwrap_or_default();
        let after = &text[before_restart.min(text.len())..];
        after.contains(dropped).then(|| after.to_string())
    });
    let Some(after) = withdrawn else {
        panic!(
            "{dropped} never withdrawn; events:\n{}\nlog:\n{}",
            fs::read_to_string(&events).unwrap_or_default(),
            exa.log()
        );
    };
    let lines: Vec<&str> = after.lines().collect();
    let eor_at = lines.iter().position(|l| l.contains("\"eor\""));
    let withdraw_at = lines
        .iter()
        .position(|l| l.contains("\"withdraw\"") && l.contains(dropped));
    let (Some(eor_at), Some(withdraw_at)) = (eor_at, withdraw_at) else {
        panic!("no End-of-RIB or no withdraw event:\n{after}");
    };
    assert!(
        lines[..eor_at].iter().all(|l| !l.contains("\"withdraw\"")),
        "withdraw before gobgpd's End-of-RIB:\n{after}"
    );
    assert!(withdraw_at > eor_at, "{after}");
    assert!(
        lines
            .iter()
            .all(|l| !(l.contains("\"withdraw\"") && l.contains(kept))),
        "{kept} withdrawn:\n{after}"
    );
    // What is left is `kept`, fresh.
    let adj_in = adj_rib_in(&dir.path);
    assert!(
        adj_in.contains(kept) && !adj_in.contains(dropped) && !adj_in.contains("(stale)"),
        "{adj_in}"
    );
}

/// `exabgpcli show adj-rib in` of the daemon whose socket is in `dir`.
fn adj_rib_in(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_exabgpcli"))
        .arg("--socket")
        .arg(dir.join("exabgp.sock"))
        .args(["show", "adj-rib", "in"])
        .output()
        .expect("run exabgpcli");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// End-of-RIB events in the helper's log.
fn count_eor(events: &Path) -> usize {
    fs::read_to_string(events)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"eor\""))
        .count()
}

/// After a kill -9 and a restart, a route a helper announces only some seconds
/// after the daemon started never leaves gobgpd's RIB: our End-of-RIB waits for
/// the helpers (`graceful::eor_settle`), so gobgpd does not purge the stale copy
/// before the helper announced it again.
#[test]
fn a_helper_route_does_not_flap_at_gobgpd_across_our_kill_9() {
    let dir = TestDir::new("gr-exa-helper");
    let exa_ip: IpAddr = loopback_addr(215).into();
    let addr: IpAddr = loopback_addr(216).into();
    let (port, api_port) = (free_port(addr), free_port(addr));
    let conf = dir.path.join("gobgpd.toml");
    fs::write(&conf, gobgpd_toml(addr, port, exa_ip)).unwrap();
    let g = start_gobgpd(&dir.path, &conf, addr, port, api_port, false, "gobgpd.log");

    let (configured, late) = ("10.73.1.0/24", "10.73.2.0/24");
    // The helper announces `late` 3 s after each session comes up (in a real
    // deployment: a health check that needs a few seconds to pass).
    let script = dir.path.join("late.sh");
    fs::write(
        &script,
        format!(
            "while read -r line; do\n  case \"$line\" in\n    *'\"up\"'*) sleep 3; echo 'announce route {late} next-hop 192.0.2.1' ;;\n  esac\ndone\n"
        ),
    )
    .unwrap();
    let helper = format!(
        "\n[[process]]\nname = \"late\"\nrun = [\"/bin/sh\", \"{}\"]\nreceive = [\"state\"]\n",
        script.display()
    );
    let config = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("graceful-restart = 60\nhold-time = 30")
        .route(configured, "192.0.2.1")
        .line(&helper)
        .build();
    let mut exa = Exabgp::start(&dir.path, &config, None);
    let both = wait_for(WAIT, || {
        gobgp_routes(&g).filter(|r| has(r, configured) && has(r, late))
    });
    assert!(
        both.is_some(),
        "gobgpd never had both routes: {:?}\n{}",
        gobgp_routes(&g),
        exa.log()
    );
    exa.proc.signal(libc::SIGKILL);
    assert!(
        exa.proc.wait_exit(WAIT).is_some(),
        "exabgp survived SIGKILL"
    );
    let down = wait_for(WAIT, || (!g.established(exa_ip)).then_some(()));
    assert!(down.is_some(), "gobgpd did not see the session go");

    let exa = Exabgp::start(&dir.path, &config, None);
    exa.expect_log("R bit set", "the restart was not noticed");
    // Until the session is back and both routes are fresh again, then 12 s more
    // (past the 10 s End-of-RIB settle time), `late` never leaves gobgpd's RIB.
    let until = Instant::now() + WAIT + Duration::from_secs(30);
    let mut fresh_since: Option<Instant> = None;
    while Instant::now() < until {
        let r = gobgp_routes(&g).unwrap_or_default();
        assert!(
            has(&r, late) && has(&r, configured),
            "a route disappeared at gobgpd: {r:?}\n{}",
            exa.log()
        );
        let fresh = g.established(exa_ip) && r.iter().all(|(_, s)| !*s);
        match (fresh, fresh_since) {
            (true, None) => fresh_since = Some(Instant::now()),
            (true, Some(t)) if t.elapsed() > Duration::from_secs(12) => break,
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = gobgp_routes(&g).unwrap_or_default();
    assert!(
        fresh_since.is_some_and(|t| t.elapsed() > Duration::from_secs(12)),
        "the routes did not come back fresh: {r:?}\n{}",
        exa.log()
    );
    exa.expect_log("End-of-RIB to", "End-of-RIB was not held back");
}

/// RFC 4724 §4.2: a peer whose capability lists no family (gobgpd with graceful
/// restart on, but not for ipv4-unicast) gets none of its routes kept: at its
/// kill -9 our Adj-RIB-In drops them at once, not after its restart time.
#[test]
fn routes_of_a_family_gobgpd_does_not_list_are_not_kept() {
    let dir = TestDir::new("gr-gobgp-nofam");
    let exa_ip: IpAddr = loopback_addr(217).into();
    let addr: IpAddr = loopback_addr(218).into();
    let (port, api_port) = (free_port(addr), free_port(addr));
    let conf = dir.path.join("gobgpd.toml");
    fs::write(&conf, gobgpd_toml_gr(addr, port, exa_ip, false)).unwrap();
    let mut g = start_gobgpd(&dir.path, &conf, addr, port, api_port, false, "gobgpd.log");
    let prefix = "10.74.1.0/24";
    g.add_route(prefix, "ipv4", "192.0.2.254", &[]);
    let config = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("graceful-restart = 60\nhold-time = 30")
        .build();
    let exa = Exabgp::start(&dir.path, &config, None);
    exa.wait_received(prefix, "gobgpd");
    g.proc.signal(libc::SIGKILL);
    assert!(g.proc.wait_exit(WAIT).is_some(), "gobgpd survived SIGKILL");
    exa.expect_log(
        "down: peer closed the connection",
        "the session loss was not seen",
    );
    let emptied = wait_for(WAIT, || {
        let a = adj_rib_in(&dir.path);
        (!a.contains(prefix)).then_some(())
    });
    assert!(
        emptied.is_some(),
        "{prefix} kept although gobgpd did not list ipv4-unicast: {}\n{}",
        adj_rib_in(&dir.path),
        exa.log()
    );
    assert!(!exa.log().contains("as stale"), "{}", exa.log());
}

/// gobgpd (graceful restart on) killed with SIGKILL while exabgp records the
/// `update` events: returns exabgp, the events file and
/// the prefix our Adj-RIB-In now holds as stale.
fn gobgpd_away_with_a_stale_route(dir: &TestDir, n: u8) -> (Exabgp, std::path::PathBuf, String) {
    let exa_ip: IpAddr = loopback_addr(219 + 2 * n).into();
    let addr: IpAddr = loopback_addr(220 + 2 * n).into();
    let (port, api_port) = (free_port(addr), free_port(addr));
    let conf = dir.path.join("gobgpd.toml");
    fs::write(&conf, gobgpd_toml(addr, port, exa_ip)).unwrap();
    let mut g = start_gobgpd(&dir.path, &conf, addr, port, api_port, false, "gobgpd.log");
    let prefix = format!("10.75.{n}.0/24");
    g.add_route(&prefix, "ipv4", "192.0.2.254", &[]);
    let events = dir.path.join("events.log");
    let helper = format!(
        "\n[[process]]\nname = \"rec\"\nrun = [\"/bin/sh\", \"-c\", \"exec cat >> {}\"]\nencoder = \"json\"\nreceive = [\"update\"]\n",
        events.display()
    );
    let config = g
        .exabgp_config(EXA_AS, exa_ip)
        .line("graceful-restart = 60\nhold-time = 30")
        .line(&helper)
        .build();
    let exa = Exabgp::start(&dir.path, &config, None);
    exa.wait_received(&prefix, "gobgpd");
    g.proc.signal(libc::SIGKILL);
    assert!(g.proc.wait_exit(WAIT).is_some(), "gobgpd survived SIGKILL");
    let stale = wait_for(WAIT, || {
        adj_rib_in(&dir.path).contains("(stale)").then_some(())
    });
    assert!(stale.is_some(), "not kept stale:\n{}", exa.log());
    (exa, events, prefix)
}

/// Waits for an `update` event withdrawing `prefix`.
fn wait_withdraw_event(events: &Path, prefix: &str, exa: &Exabgp) {
    let seen = wait_for(WAIT, || {
        let text = fs::read_to_string(events).unwrap_or_default();
        text.lines()
            .any(|l| l.contains("\"withdraw\"") && l.contains(prefix))
            .then_some(())
    });
    assert!(
        seen.is_some(),
        "no withdraw event for {prefix}; events:\n{}\nlog:\n{}",
        fs::read_to_string(events).unwrap_or_default(),
        exa.log()
    );
}

/// `clear adj-rib in` while gobgpd is away drops its stale routes and tells the
/// helpers, as every other purge does.
#[test]
fn clearing_the_adj_rib_in_publishes_the_stale_routes_as_withdrawn() {
    let dir = TestDir::new("gr-clear-in");
    let (exa, events, prefix) = gobgpd_away_with_a_stale_route(&dir, 0);
    let out = Command::new(env!("CARGO_BIN_EXE_exabgpcli"))
        .arg("--socket")
        .arg(dir.path.join("exabgp.sock"))
        .args(["clear", "adj-rib", "in"])
        .output()
        .expect("run exabgpcli");
    assert!(out.status.success(), "{out:?}");
    wait_withdraw_event(&events, &prefix, &exa);
    assert!(!adj_rib_in(&dir.path).contains(&prefix));
}

/// A reload that changes a session setting (hold-time) restarts the neighbor
/// while gobgpd is away: its stale routes go, and the helpers are told.
#[test]
fn a_reload_restarting_the_neighbor_publishes_the_stale_routes_as_withdrawn() {
    let dir = TestDir::new("gr-reload");
    let (exa, events, prefix) = gobgpd_away_with_a_stale_route(&dir, 1);
    let text = fs::read_to_string(&exa.config).unwrap();
    fs::write(
        &exa.config,
        text.replace("hold-time = 30", "hold-time = 60"),
    )
    .unwrap();
    exa.proc.signal(libc::SIGHUP);
    wait_withdraw_event(&events, &prefix, &exa);
}
