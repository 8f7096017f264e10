//! Reloads against a real gobgpd (daemon core in this process, configuration
//! applied as SIGHUP applies it): a change the session does not depend on (the
//! description, the order of the families) keeps the session — gobgpd sees no
//! NOTIFICATION and no new OPEN, exabgp's uptime goes on — and the new description
//! shows; a change it depends on (hold-time) still restarts it.

mod support;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use exabgp::control::{Command, ControlReply, PeerState};
use support::inproc::InProcess;
use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

/// What gobgpd counted from exabgp: (OPENs, NOTIFICATIONs) received, and the
/// session's uptime field (when it was established). gobgp leaves a zero count out.
fn gobgp_counts(g: &Gobgp, exa: IpAddr) -> (u64, u64, Option<i64>) {
    let n = g.neighbor(exa);
    let get = |p: &str| n.as_ref().and_then(|n| n.pointer(p)?.as_u64()).unwrap_or(0);
    (
        get("/state/messages/received/open"),
        get("/state/messages/received/notification"),
        n.as_ref()
            .and_then(|n| n.pointer("/timers/state/uptime/seconds")?.as_i64()),
    )
}

#[test]
fn reload_keeps_the_session_unless_it_changes_what_the_session_uses() {
    let (dir, exa_ip, g) = gobgp_setup(
        "reload-desc",
        141,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast", "ipv6-unicast"],
    );
    let _ = &dir;
    let text = |description: &str, families: &str, hold: u16| {
        g.exabgp_config(EXA_AS, exa_ip)
            .line(&format!(
                "description = \"{description}\"\nfamilies = {families}\nhold-time = {hold}"
            ))
            .build()
    };
    let v4_first = r#"["ipv4 unicast", "ipv6 unicast"]"#;
    let first = text("rack 1", v4_first, 30);
    let config = exabgp::config::parse_str(&first, "reload.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let mut daemon = InProcess::start(config, Vec::new(), events);
    let ctl = &daemon.ctl;
    assert!(g.wait_established(exa_ip, WAIT), "session not established");
    let before = gobgp_counts(&g, exa_ip);
    assert_eq!(before.0, 1, "gobgp counters: {before:?}");
    assert_eq!(before.1, 0, "gobgp counters: {before:?}");
    // Up for 3 s at least, so a restart later moves the session's start by more
    // than the tolerance of the uptime check below.
    let up = wait_for(WAIT, || {
        ctl.neighbor(g.addr)
            .uptime
            .filter(|u| *u >= Duration::from_secs(3))
    });
    let uptime_before = up.expect("exabgp sees the session established");
    let measured = Instant::now();

    // Only the description changes, then only the order of the families.
    let v6_first = r#"["ipv6 unicast", "ipv4 unicast"]"#;
    for (step, families) in [("description", v4_first), ("family order", v6_first)] {
        let next = exabgp::config::parse_str(&text("rack 2", families, 30), "reload.toml").unwrap();
        assert_eq!(
            ctl.ask(Command::ApplyConfig(Box::new(next))),
            ControlReply::Done
        );
        // The configuration shown is the new one: its description and, in the
        // order given, its families.
        let v6_shown_first = families == v6_first;
        let shown = wait_for(WAIT, || {
            let c = ctl.neighbor(g.addr).configuration;
            let fams = c.split("families").nth(1).unwrap_or("");
            let v6_first = match (fams.find("ipv6"), fams.find("ipv4")) {
                (Some(a), Some(b)) => a < b,
                _ => return None,
            };
            (c.contains("rack 2") && v6_first == v6_shown_first).then_some(())
        });
        assert!(
            shown.is_some(),
            "{step} change: new configuration not shown"
        );
        // For three seconds (bounded), gobgpd sees nothing new: no NOTIFICATION,
        // no second OPEN, the same session.
        let until = Instant::now() + Duration::from_secs(3);
        while Instant::now() < until {
            let now = gobgp_counts(&g, exa_ip);
            assert_eq!(now, before, "{step} change: gobgpd saw the session restart");
            std::thread::sleep(Duration::from_millis(300));
        }
        // Established (waited for, so that a session restarted and established
        // again is caught by its uptime, not only by its state).
        let n = wait_for(WAIT, || {
            let n = ctl.neighbor(g.addr);
            (n.state == PeerState::Established).then_some(n)
        });
        let Some(n) = n else {
            panic!("{step} change: the session is not established");
        };
        // The same session: its uptime grew by the time elapsed (within 1.5 s).
        let expected = uptime_before + measured.elapsed();
        assert!(
            n.uptime
                .is_some_and(|u| u + Duration::from_millis(1500) >= expected),
            "{step} change: exabgp's session restarted: uptime {:?}, expected about {expected:?}",
            n.uptime
        );
    }

    // hold-time changes: the session restarts (Cease to gobgpd, a new OPEN).
    let third = text("rack 2", v6_first, 60);
    let third = exabgp::config::parse_str(&third, "reload.toml").unwrap();
    assert_eq!(
        ctl.ask(Command::ApplyConfig(Box::new(third))),
        ControlReply::Done
    );
    let restarted = wait_for(WAIT, || {
        let n = ctl.neighbor(g.addr);
        (n.hold_time == 60 && n.state == PeerState::Established).then_some(())
    });
    assert!(restarted.is_some(), "no new session with hold-time 60");
    let after = wait_for(WAIT, || {
        let c = gobgp_counts(&g, exa_ip);
        (c.1 == 1).then_some(c)
    });
    assert!(
        after.is_some(),
        "gobgpd got no Cease: {:?}",
        gobgp_counts(&g, exa_ip)
    );

    assert_eq!(ctl.ask(Command::Shutdown), ControlReply::Done);
    let r = daemon.join(Duration::from_secs(15));
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}
