//! The daemon core driven through its control channel (what the API layer uses),
//! against a real gobgpd: announce / withdraw with dedup, show neighbor, show
//! adj-rib in/out, events, teardown (the session comes back), ApplyConfig (route
//! diff without a flap; a new neighbor comes up) and Shutdown (Cease, run returns).

mod support;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use exabgp::bgp::{Origin, PathAttributes};
use exabgp::control::{Command, ControlReply, EventKind, PeerState, RibDirection, SessionState};
use exabgp::rib::{NextHop, Route};
use support::inproc::InProcess;
use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

fn config_text(gobgp: &[(IpAddr, u16)], exa: IpAddr, routes: &str) -> String {
    let mut s = format!("[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = {EXA_AS}\n");
    for (addr, port) in gobgp {
        s.push_str(&format!(
            "\n[[neighbor]]\naddress = \"{addr}\"\npeer-as = {GOBGP_AS}\nlocal-address = \"{exa}\"\nport = {port}\nhold-time = 30\n"
        ));
    }
    s.push_str(routes);
    s
}

const ROUTE_A: &str =
    "\n[[route]]\nprefix = \"203.0.113.0/24\"\nnext-hop = \"192.0.2.10\"\nmed = 1\n";
const ROUTE_B: &str = "\n[[route]]\nprefix = \"198.51.100.0/24\"\nnext-hop = \"192.0.2.11\"\n";

fn route(prefix: &str, med: u32) -> Route {
    Route {
        prefix: prefix.parse().unwrap(),
        next_hop: NextHop::Address("192.0.2.20".parse().unwrap()),
        attributes: Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            med: Some(med),
            ..Default::default()
        }),
    }
}

fn has(g: &Gobgp, prefix: &str) -> bool {
    g.route_attrs("ipv4", prefix).is_some()
}

fn wait_has(g: &Gobgp, prefix: &str, present: bool) -> bool {
    wait_for(WAIT, || (has(g, prefix) == present).then_some(())).is_some()
}

#[test]
fn control_commands_drive_a_real_session() {
    let dir = TestDir::new("control");
    let exa_ip: IpAddr = loopback_addr(51).into();
    let g1_ip: IpAddr = loopback_addr(52).into();
    let g2_ip: IpAddr = loopback_addr(53).into();
    let mk = |ip| {
        let d = dir.subdir(&format!("{ip}"));
        Gobgp::with_peer(&d, ip, GOBGP_AS, exa_ip, EXA_AS, &["ipv4-unicast"])
    };
    let g1 = mk(g1_ip);
    let g2 = mk(g2_ip);
    g1.add_route("10.99.0.0/24", "ipv4", "192.0.2.99", &[]);

    let config = exabgp::config::parse_str(
        &config_text(&[(g1_ip, g1.port)], exa_ip, ROUTE_A),
        "test.toml",
    )
    .expect("valid config");
    let (events, mut ev_rx) = exabgp::control::event_channel(1024, 1 << 30);
    let mut daemon = InProcess::start(config, vec![], events);
    let ctl = &daemon.ctl;

    assert!(g1.wait_established(exa_ip, WAIT), "not established");
    assert!(
        wait_has(&g1, "203.0.113.0/24", true),
        "config route missing"
    );
    // Events: up, then the update from gobgp.
    let mut saw_up = false;
    let mut saw_update = false;
    let deadline = std::time::Instant::now() + WAIT;
    while !(saw_up && saw_update) && std::time::Instant::now() < deadline {
        match ev_rx.try_recv() {
            Ok(e) => match e.kind {
                EventKind::State {
                    state: SessionState::Up,
                    ..
                } => saw_up = true,
                EventKind::Update(u) => {
                    saw_update |= u.nlri.iter().any(|p| p.to_string() == "10.99.0.0/24")
                }
                _ => {}
            },
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    assert!(
        saw_up && saw_update,
        "events: up={saw_up} update={saw_update}"
    );

    // Announce; an identical re-announce sends no UPDATE; withdraw.
    assert_eq!(
        ctl.ask(Command::Announce {
            scope: None,
            routes: vec![route("192.0.2.128/25", 5)]
        }),
        ControlReply::Done
    );
    assert!(wait_has(&g1, "192.0.2.128/25", true));
    let sent = ctl.neighbor(g1_ip).sent.update;
    ctl.ask(Command::Announce {
        scope: Some(vec![g1_ip]),
        routes: vec![route("192.0.2.128/25", 5)],
    });
    let st = ctl.neighbor(g1_ip);
    assert_eq!(
        st.sent.update, sent,
        "identical re-announce must send nothing"
    );
    assert_eq!(st.state, PeerState::Established);
    assert_eq!(st.prefixes_out, 2);
    assert_eq!(st.peer_router_id, Some("192.0.2.254".parse().unwrap()));
    assert!(st.uptime.is_some());
    ctl.ask(Command::Withdraw {
        scope: None,
        prefixes: vec!["192.0.2.128/25".parse().unwrap()],
    });
    assert!(
        wait_has(&g1, "192.0.2.128/25", false),
        "withdraw did not reach gobgp"
    );
    assert_eq!(ctl.neighbor(g1_ip).prefixes_in, 1);

    // Adj-RIB-In holds what gobgp sent, Adj-RIB-Out what we announce.
    match ctl.ask(Command::ShowAdjRib {
        direction: RibDirection::In,
        address: None,
    }) {
        ControlReply::Routes(r) => {
            assert_eq!(r.len(), 1, "{r:?}");
            assert_eq!(r[0].prefix.to_string(), "10.99.0.0/24");
            assert_eq!(r[0].next_hop, Some("192.0.2.99".parse().unwrap()));
        }
        other => panic!("{other:?}"),
    }
    match ctl.ask(Command::ShowAdjRib {
        direction: RibDirection::Out,
        address: Some(g1_ip),
    }) {
        ControlReply::Routes(r) => {
            let p: Vec<String> = r.iter().map(|e| e.prefix.to_string()).collect();
            assert_eq!(p, vec!["203.0.113.0/24"]);
        }
        other => panic!("{other:?}"),
    }

    // Teardown: gobgp gets a Cease, the session comes back with the table. A session
    // established after the teardown has an uptime shorter than the time since it
    // (the old one's uptime is at least that long). Comparing with the uptime before
    // the teardown instead fails whenever the old session was younger than the
    // 200 ms poll interval.
    let torn_down_at = std::time::Instant::now();
    assert_eq!(
        ctl.ask(Command::Teardown {
            address: g1_ip,
            code: 4
        }),
        ControlReply::Done
    );
    let back = wait_for(WAIT, || {
        let st = ctl.neighbor(g1_ip);
        (st.state == PeerState::Established
            && st.uptime.is_some_and(|u| u < torn_down_at.elapsed()))
        .then_some(())
    });
    assert!(back.is_some(), "session did not come back after teardown");
    assert!(
        wait_has(&g1, "203.0.113.0/24", true),
        "table not re-sent after re-establishment"
    );
    let notif = g1
        .neighbor(exa_ip)
        .and_then(|n| n.pointer("/state/messages/received/notification")?.as_u64());
    assert_eq!(notif, Some(1));

    // ApplyConfig: route A replaced by B on the untouched session (no flap), and a
    // new neighbor g2 comes up with B.
    let uptime_before = ctl.neighbor(g1_ip).uptime.unwrap();
    let new = exabgp::config::parse_str(
        &config_text(&[(g1_ip, g1.port), (g2_ip, g2.port)], exa_ip, ROUTE_B),
        "test.toml",
    )
    .unwrap();
    assert_eq!(
        ctl.ask(Command::ApplyConfig(Box::new(new))),
        ControlReply::Done
    );
    assert!(
        wait_has(&g1, "198.51.100.0/24", true),
        "new route not announced"
    );
    assert!(
        wait_has(&g1, "203.0.113.0/24", false),
        "removed route not withdrawn"
    );
    assert!(
        ctl.neighbor(g1_ip).uptime.unwrap() >= uptime_before,
        "untouched session flapped"
    );
    assert!(
        g2.wait_established(exa_ip, WAIT),
        "new neighbor did not come up"
    );
    assert!(wait_has(&g2, "198.51.100.0/24", true));

    // Run-time routes survive reloads: one announced through the API stays on an
    // untouched session, and comes back on a session the reload restarts (g1's
    // hold-time changes).
    assert_eq!(
        ctl.ask(Command::Announce {
            scope: Some(vec![g1_ip, g2_ip]),
            routes: vec![route("198.18.7.0/24", 7)],
        }),
        ControlReply::Done
    );
    assert!(wait_has(&g1, "198.18.7.0/24", true));
    assert!(wait_has(&g2, "198.18.7.0/24", true));
    let changed = config_text(&[(g1_ip, g1.port), (g2_ip, g2.port)], exa_ip, ROUTE_B).replacen(
        "hold-time = 30",
        "hold-time = 60",
        1,
    );
    let changed = exabgp::config::parse_str(&changed, "test.toml").unwrap();
    let g2_uptime = ctl.neighbor(g2_ip).uptime.unwrap();
    assert_eq!(
        ctl.ask(Command::ApplyConfig(Box::new(changed))),
        ControlReply::Done
    );
    let restarted = wait_for(WAIT, || {
        let n = ctl.neighbor(g1_ip);
        (n.hold_time == 60 && n.state == PeerState::Established).then_some(())
    });
    assert!(
        restarted.is_some(),
        "g1 did not come back with hold-time 60"
    );
    assert!(
        wait_has(&g1, "198.18.7.0/24", true) && wait_has(&g1, "198.51.100.0/24", true),
        "the restarted session lost the run-time or the config route"
    );
    assert!(
        has(&g2, "198.18.7.0/24"),
        "untouched session lost the run-time route"
    );
    assert!(ctl.neighbor(g2_ip).uptime.unwrap() >= g2_uptime);

    // Shutdown: Cease to both, run() returns.
    assert_eq!(ctl.ask(Command::Shutdown), ControlReply::Done);
    let result = daemon.join(Duration::from_secs(15));
    assert!(
        matches!(result, Ok(Ok(Ok(())))),
        "daemon::run did not return cleanly: {result:?}"
    );
    for g in [&g1, &g2] {
        let down = wait_for(WAIT, || (!g.established(exa_ip)).then_some(()));
        assert!(down.is_some());
        assert!(wait_has(g, "198.51.100.0/24", false));
    }
    drop(daemon);
}

/// Scale run, for figures (not a speed assertion): one Announce of N routes sharing
/// attributes (N from EXABGP_SCALE_ROUTES, default 100000) must all reach gobgpd.
/// `cargo test --release --test interop_gobgp_control -- --ignored --nocapture`
#[test]
#[ignore = "scale run for figures; slow in debug builds"]
fn scale_announce_to_gobgp() {
    let n: u32 = std::env::var("EXABGP_SCALE_ROUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (_dir, exa_ip, g) = gobgp_setup("scale", 56, EXA_AS, GOBGP_AS, &["ipv4-unicast"]);
    let g_ip = g.addr;
    let config =
        exabgp::config::parse_str(&config_text(&[(g_ip, g.port)], exa_ip, ""), "scale.toml")
            .unwrap();
    let (events, _) = exabgp::control::event_channel(1024, 1 << 30);
    let mut daemon = InProcess::start(config, vec![], events);
    let ctl = &daemon.ctl;
    assert!(g.wait_established(exa_ip, WAIT));
    let attrs = Arc::new(PathAttributes {
        origin: Some(Origin::Igp),
        med: Some(7),
        ..Default::default()
    });
    let routes: Vec<Route> = (0..n)
        .map(|i| Route {
            prefix: exabgp::bgp::Prefix::new(IpAddr::V4((0x0a00_0000 + (i << 8)).into()), 24)
                .unwrap(),
            next_hop: NextHop::Address("192.0.2.20".parse().unwrap()),
            attributes: Arc::clone(&attrs),
        })
        .collect();
    let start = std::time::Instant::now();
    ctl.ask(Command::Announce {
        scope: None,
        routes,
    });
    let want = format!("Destination: {n},");
    let all = wait_for(Duration::from_secs(300), || {
        g.cli(&["global", "rib", "summary", "-a", "ipv4"])
            .ok()
            .filter(|s| s.contains(&want))
            .map(|_| ())
    });
    let elapsed = start.elapsed();
    assert!(all.is_some(), "gobgp did not get all {n} routes");
    let st = ctl.neighbor(g_ip);
    eprintln!(
        "scale: {n} routes announced and all in gobgpd's RIB after {elapsed:?}; {} UPDATE messages sent",
        st.sent.update
    );
    ctl.ask(Command::Shutdown);
    let _ = daemon.join(Duration::from_secs(30));
}
