//! Hitless hand-over (issue 13) against a real gobgpd: an Established session is
//! handed over by one neighbor task and adopted by a fresh one over the same TCP
//! socket, with the state through its byte format. gobgpd's own counters and
//! timers say whether it noticed: no new OPEN, no reset of its established
//! time, and only the UPDATE for the route that changed in between.
//! A state that does not match the configuration, or a corrupted one, is
//! refused: a Cease goes to the peer and the session is opened again normally.

mod support;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use exabgp::bgp::{Family, PathAttributes, Prefix};
use exabgp::config::NeighborConfig;
use exabgp::control::event_channel;
use exabgp::rib::{NextHop, Route};
use exabgp::session::handover::{cease_and_close, HandoverState};
use exabgp::session::{NeighborCommand, NeighborHandle, Refusal};
use serde_json::Value;
use support::interop::{med_of, notifications_received, rib_prefixes};
use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

fn route(prefix: &str, med: u32, next_hop: NextHop) -> Route {
    Route {
        prefix: prefix.parse::<Prefix>().unwrap(),
        next_hop,
        attributes: Arc::new(PathAttributes {
            med: Some(med),
            ..Default::default()
        }),
    }
}

fn neighbor(gobgp: &Gobgp, exa_ip: IpAddr) -> NeighborConfig {
    NeighborConfig {
        address: gobgp.addr,
        peer_as: GOBGP_AS,
        local_as: EXA_AS,
        router_id: "192.0.2.1".parse().unwrap(),
        local_address: Some(exa_ip),
        port: gobgp.port,
        hold_time: 30,
        passive: false,
        families: vec![Family::IPV4_UNICAST],
        md5_password: None,
        description: None,
        max_prefix: None,
        graceful_restart: None,
    }
}

/// gobgp's counter of messages of `kind` received from us.
fn received(n: &Value, kind: &str) -> u64 {
    n.pointer(&format!("/state/messages/received/{kind}"))
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX)
}

/// When gobgp saw the session come up (its own clock: unchanged while the
/// session lives).
fn up_since(n: &Value) -> Value {
    n.pointer("/timers/state/uptime")
        .cloned()
        .unwrap_or(Value::Null)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts neighbor A (routes 10.1/24 MED 1, 10.2/24 MED 2) and announces the API
/// route 10.3/24 (next hop self); waits until gobgpd holds all three and hands
/// the session over. Returns the socket and the state (with the API route in it).
fn established_and_handed_over(
    rt: &tokio::runtime::Runtime,
    gobgp: &Gobgp,
    exa_ip: IpAddr,
) -> (std::net::TcpStream, HandoverState, Route) {
    let (events, _) = event_channel(1024, 1 << 20);
    let config_routes = [
        route(
            "10.1.0.0/24",
            1,
            NextHop::Address("192.0.2.10".parse().unwrap()),
        ),
        route(
            "10.2.0.0/24",
            2,
            NextHop::Address("192.0.2.10".parse().unwrap()),
        ),
    ];
    // An explicit next hop: gobgpd treats a loopback next hop (ours, for
    // "self") as withdraw.
    let api = route(
        "10.3.0.0/24",
        3,
        NextHop::Address("192.0.2.11".parse().unwrap()),
    );
    let a = {
        let _g = rt.enter();
        NeighborHandle::spawn(neighbor(gobgp, exa_ip), &config_routes, 2, events)
    };
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "not established: {}",
        gobgp.proc.log_text()
    );
    assert!(a.send(NeighborCommand::Announce(vec![api.clone()])));
    let all = wait_for(WAIT, || (rib_prefixes(gobgp).len() == 3).then_some(()));
    assert!(all.is_some(), "rib: {:?}", rib_prefixes(gobgp));
    let handed = rt
        .block_on(a.hand_over(Duration::from_secs(5)))
        .unwrap_or_else(|_| panic!("hand-over refused"));
    let mut state = handed.state;
    state.api_routes = vec![api.clone()];
    (handed.socket, state, api)
}

#[test]
fn gobgp_session_survives_a_hand_over_and_gets_only_the_changed_route() {
    let (_dir, exa_ip, gobgp) =
        gobgp_setup("handover_gobgp", 171, EXA_AS, GOBGP_AS, &["ipv4-unicast"]);
    let rt = runtime();
    let (socket, state, api) = established_and_handed_over(&rt, &gobgp, exa_ip);
    // gobgpd's view before the new task takes over (every initial UPDATE counted).
    std::thread::sleep(Duration::from_millis(500));
    let before = gobgp.neighbor(exa_ip).expect("gobgp neighbor");

    // Through the byte format, as through the fd store.
    let bytes = state.encode().expect("encode");
    let state = HandoverState::decode(&bytes).expect("decode");
    assert_eq!(state.api_routes, vec![api.clone()]);

    // The new configuration changed one route's MED; the API route is carried.
    let desired: Vec<Route> = [
        route(
            "10.1.0.0/24",
            1,
            NextHop::Address("192.0.2.10".parse().unwrap()),
        ),
        route(
            "10.2.0.0/24",
            22,
            NextHop::Address("192.0.2.10".parse().unwrap()),
        ),
    ]
    .into_iter()
    .chain(state.api_routes.iter().cloned())
    .collect();
    let (events, _) = event_channel(1024, 1 << 20);
    let b = {
        let _g = rt.enter();
        NeighborHandle::adopt(
            neighbor(&gobgp, exa_ip),
            &desired,
            desired.len(),
            &[],
            events,
            socket,
            state,
        )
        .unwrap_or_else(|e| panic!("adoption refused: {}", e.refusal))
    };
    let changed = wait_for(WAIT, || {
        (med_of(&gobgp, "10.2.0.0/24") == Some(22)).then_some(())
    });
    assert!(changed.is_some(), "changed route not received");
    // Time for anything else we might (wrongly) send to arrive and be counted.
    std::thread::sleep(Duration::from_secs(2));
    let after = gobgp.neighbor(exa_ip).expect("gobgp neighbor");
    assert!(gobgp.established(exa_ip));
    assert_eq!(
        received(&after, "open"),
        received(&before, "open"),
        "a new OPEN: {after}"
    );
    assert_eq!(
        received(&after, "notification"),
        received(&before, "notification")
    );
    assert_eq!(
        received(&after, "update"),
        received(&before, "update") + 1,
        "exactly one UPDATE expected: before {before}, after {after}"
    );
    assert!(!up_since(&before).is_null(), "no uptime in {before}");
    assert_eq!(up_since(&after), up_since(&before), "session uptime reset");
    assert!(received(&after, "keepalive") > received(&before, "keepalive"));
    // The API route and the unchanged one are still there, as they were.
    assert_eq!(med_of(&gobgp, "10.3.0.0/24"), Some(3));
    assert_eq!(med_of(&gobgp, "10.1.0.0/24"), Some(1));
    assert_eq!(rib_prefixes(&gobgp).len(), 3);
    // The adopted task is a normal neighbor: it answers and stops with a Cease.
    rt.block_on(b.stop(2, "test over", Duration::from_secs(2)));
}

/// Adopt `state` over `socket` with `config`; when refused, the Cease goes out,
/// and the neighbor starts normally; gobgpd sees a NOTIFICATION and a new
/// session. Returns the refusal.
fn refused_then_reestablished(
    rt: &tokio::runtime::Runtime,
    gobgp: &Gobgp,
    exa_ip: IpAddr,
    config: NeighborConfig,
    socket: std::net::TcpStream,
    state: Result<HandoverState, exabgp::session::handover::HandoverError>,
) -> String {
    let notes_before = notifications_received(gobgp, exa_ip);
    let opens_before = gobgp
        .neighbor(exa_ip)
        .map(|n| received(&n, "open"))
        .unwrap_or(0);
    let (events, _) = event_channel(1024, 1 << 20);
    let why = match state {
        Err(e) => {
            cease_and_close(socket, 6);
            e.to_string()
        }
        Ok(state) => {
            let _g = rt.enter();
            match NeighborHandle::adopt(config.clone(), &[], 0, &[], events.clone(), socket, state)
            {
                Ok(_) => panic!("adopted a state that does not match"),
                Err(e) => {
                    assert!(matches!(e.refusal, Refusal::Config(_)), "{}", e.refusal);
                    let why = e.refusal.to_string();
                    cease_and_close(e.socket, 6);
                    why
                }
            }
        }
    };
    let noted = wait_for(WAIT, || {
        (notifications_received(gobgp, exa_ip) > notes_before).then_some(())
    });
    assert!(noted.is_some(), "gobgpd got no Cease");
    let h = {
        let _g = rt.enter();
        NeighborHandle::spawn(config, &[], 0, events)
    };
    let again = wait_for(WAIT, || {
        let n = gobgp.neighbor(exa_ip)?;
        (gobgp.established(exa_ip) && received(&n, "open") > opens_before).then_some(())
    });
    assert!(
        again.is_some(),
        "not re-established: {}",
        gobgp.proc.log_text()
    );
    rt.block_on(h.stop(2, "test over", Duration::from_secs(2)));
    why
}

#[test]
fn gobgp_state_with_another_peer_as_is_refused_with_a_cease() {
    let (_dir, exa_ip, gobgp) = gobgp_setup(
        "handover_gobgp_as",
        173,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast"],
    );
    let rt = runtime();
    let (socket, mut state, _) = established_and_handed_over(&rt, &gobgp, exa_ip);
    // The state says another peer AS than the configuration now does.
    state.peer_as = 65099;
    let bytes = state.encode().unwrap();
    let why = refused_then_reestablished(
        &rt,
        &gobgp,
        exa_ip,
        neighbor(&gobgp, exa_ip),
        socket,
        HandoverState::decode(&bytes),
    );
    assert!(why.contains("peer AS"), "{why}");
}

#[test]
fn gobgp_corrupted_state_is_refused_cleanly() {
    let (_dir, exa_ip, gobgp) = gobgp_setup(
        "handover_gobgp_bad",
        65,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast"],
    );
    let rt = runtime();
    let (socket, state, _) = established_and_handed_over(&rt, &gobgp, exa_ip);
    let mut bytes = state.encode().unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x20;
    let decoded = HandoverState::decode(&bytes);
    assert!(decoded.is_err(), "corrupted state accepted");
    let why = refused_then_reestablished(
        &rt,
        &gobgp,
        exa_ip,
        neighbor(&gobgp, exa_ip),
        socket,
        decoded,
    );
    assert!(why.contains("checksum"), "{why}");
}

/// The daemon core hands its sessions over at a stop when the switch is set
/// (instead of a Cease), with the API's routes in the state; a new core adopts
/// them from the stored sessions, keeps the API routes, and sends only the
/// route its new configuration changed.
#[test]
fn gobgp_daemon_core_hands_over_and_adopts() {
    use exabgp::api::{parse_command, ApiCommand};
    use exabgp::control::ControlReply;
    use exabgp::daemon::hitless::{HandOverSwitch, Hitless, StoredSession};
    use support::inproc::InProcess;

    let (_dir, exa_ip, gobgp) = gobgp_setup(
        "handover_gobgp_core",
        177,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast"],
    );
    let text = |med: u32| {
        gobgp
            .exabgp_config(EXA_AS, exa_ip)
            .line("hold-time = 30")
            .route("10.1.0.0/24", "192.0.2.10")
            .line(&format!("med = {med}"))
            .build()
    };
    let config = exabgp::config::parse_str(&text(1), "first.toml").unwrap();
    let switch = HandOverSwitch::default();
    let (events, _) = event_channel(1024, 1 << 20);
    let mut first = InProcess::start_with(
        config,
        Vec::new(),
        events,
        Hitless {
            switch: switch.clone(),
            ..Default::default()
        },
    );
    assert!(gobgp.wait_established(exa_ip, WAIT), "not established");
    let Ok(ApiCommand::Control(announce)) =
        parse_command("announce route 10.3.0.0/24 next-hop 192.0.2.11 med 3")
    else {
        panic!("API line not parsed");
    };
    assert!(matches!(first.ctl.ask(announce), ControlReply::Done));
    let both = wait_for(WAIT, || (rib_prefixes(&gobgp).len() == 2).then_some(()));
    assert!(both.is_some(), "rib: {:?}", rib_prefixes(&gobgp));
    std::thread::sleep(Duration::from_millis(500));
    let before = gobgp.neighbor(exa_ip).expect("gobgp neighbor");

    switch.ask();
    first.shutdown.cancel();
    assert!(matches!(first.join(WAIT), Ok(Ok(Ok(())))));
    let mut handed = switch.take();
    assert_eq!(handed.len(), 1, "one session handed over");
    let h = handed.remove(0);
    assert_eq!(h.state.api_routes.len(), 1, "the API route travels");
    let bytes = h.state.encode().unwrap();
    let stored = StoredSession {
        address: gobgp.addr,
        socket: h.socket,
        state: HandoverState::decode(&bytes).map_err(|e| e.to_string()),
    };
    drop(first);
    // No Cease went out with the stop.
    assert_eq!(notifications_received(&gobgp, exa_ip), 0);

    let config = exabgp::config::parse_str(&text(11), "second.toml").unwrap();
    let (events, _) = event_channel(1024, 1 << 20);
    let second = InProcess::start_with(
        config,
        Vec::new(),
        events,
        Hitless {
            stored: vec![stored],
            ..Default::default()
        },
    );
    let changed = wait_for(WAIT, || {
        (med_of(&gobgp, "10.1.0.0/24") == Some(11)).then_some(())
    });
    assert!(changed.is_some(), "changed route not received");
    std::thread::sleep(Duration::from_secs(2));
    let after = gobgp.neighbor(exa_ip).expect("gobgp neighbor");
    assert_eq!(
        received(&after, "open"),
        received(&before, "open"),
        "{after}"
    );
    assert_eq!(
        received(&after, "update"),
        received(&before, "update") + 1,
        "before {before}, after {after}"
    );
    assert!(!up_since(&before).is_null());
    assert_eq!(up_since(&after), up_since(&before), "session uptime reset");
    assert_eq!(med_of(&gobgp, "10.3.0.0/24"), Some(3), "API route lost");
    // The new core knows the session as Established, and the API route as its
    // own: withdrawing it through the API reaches the peer.
    let status = second.ctl.neighbor(gobgp.addr);
    assert_eq!(status.state, exabgp::control::PeerState::Established);
    let Ok(ApiCommand::Control(withdraw)) = parse_command("withdraw route 10.3.0.0/24") else {
        panic!("API line not parsed");
    };
    assert!(matches!(second.ctl.ask(withdraw), ControlReply::Done));
    let gone = wait_for(WAIT, || {
        med_of(&gobgp, "10.3.0.0/24").is_none().then_some(())
    });
    assert!(gone.is_some(), "API route not withdrawn after adoption");
}
