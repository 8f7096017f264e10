//! Hand-over (issue 13) against a raw scripted peer, for what a real BGP daemon
//! cannot be made to do on cue: half an UPDATE is on the wire when the session
//! is handed over. The half read by the old task travels in the state and the
//! adopted task completes it with the rest; the Adj-RIB-In, the message counters
//! and the uptime carry over; the adopted task sends a KEEPALIVE at once and
//! nothing else (no OPEN, no UPDATE: its routes did not change).

mod support;

use std::net::{IpAddr, TcpListener};
use std::time::Duration;

use exabgp::bgp::Family;
use exabgp::config::NeighborConfig;
use exabgp::control::{event_channel, NeighborStatus, PeerState, RibDirection};
use exabgp::session::handover::HandoverState;
use exabgp::session::{NeighborCommand, NeighborHandle};
use support::raw::*;
use support::*;
use tokio::sync::oneshot;

fn config(peer: IpAddr, port: u16) -> NeighborConfig {
    NeighborConfig {
        address: peer,
        peer_as: u32::from(RAW_AS),
        local_as: 65001,
        router_id: "192.0.2.1".parse().unwrap(),
        local_address: None,
        port,
        hold_time: 30,
        passive: false,
        families: vec![Family::IPV4_UNICAST],
        md5_password: None,
        description: None,
        max_prefix: None,
        graceful_restart: None,
    }
}

fn status(rt: &tokio::runtime::Runtime, h: &NeighborHandle) -> NeighborStatus {
    let (tx, rx) = oneshot::channel();
    assert!(h.send(NeighborCommand::Status(tx)));
    rt.block_on(async { tokio::time::timeout(WAIT, rx).await })
        .unwrap()
        .unwrap()
}

fn rib_in(rt: &tokio::runtime::Runtime, h: &NeighborHandle) -> Vec<String> {
    let (tx, rx) = oneshot::channel();
    assert!(h.send(NeighborCommand::Rib(RibDirection::In, tx)));
    let mut v: Vec<String> = rt
        .block_on(async { tokio::time::timeout(WAIT, rx).await })
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|e| e.prefix.to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn half_an_update_read_before_the_hand_over_is_completed_after_adoption() {
    let peer_ip: IpAddr = loopback_addr(181).into();
    let listener = TcpListener::bind((peer_ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (events, _) = event_channel(1024, 1 << 20);
    let a = {
        let _g = rt.enter();
        NeighborHandle::spawn(config(peer_ip, port), &[], 0, events.clone())
    };
    let (s, _) = listener.accept().unwrap();
    let mut peer = RawPeer::from_stream(s);
    peer.handshake();
    assert!(peer.until_end_of_rib().is_empty());
    // A whole UPDATE (10.6.0.0/24) and then the first 30 octets of a second
    // (10.5.0.0/24).
    let whole = message(2, &update_body(&valid_attrs(), &[24, 10, 6, 0]));
    let second = message(2, &update_body(&valid_attrs(), &[24, 10, 5, 0]));
    // One write, so the task reads both parts in one go: the whole UPDATE is
    // applied only once the half is in its buffer (two writes could let the
    // hand-over come between them, the half then still in the socket).
    peer.send(&[&whole[..], &second[..30]].concat());
    let held = wait_for(WAIT, || (rib_in(&rt, &a) == ["10.6.0.0/24"]).then_some(()));
    assert!(held.is_some(), "first UPDATE not received");
    let before = status(&rt, &a);
    assert_eq!(before.state, PeerState::Established);

    let handed = rt
        .block_on(a.hand_over(Duration::from_secs(5)))
        .unwrap_or_else(|_| panic!("hand-over refused"));
    assert_eq!(
        handed.state.unread,
        second[..30].to_vec(),
        "the half read travels"
    );
    let bytes = handed.state.encode().unwrap();
    let state = HandoverState::decode(&bytes).unwrap();

    let b = {
        let _g = rt.enter();
        NeighborHandle::adopt(
            config(peer_ip, port),
            &[],
            0,
            &[],
            events,
            handed.socket,
            state,
        )
        .unwrap_or_else(|e| panic!("adoption refused: {}", e.refusal))
    };
    // A KEEPALIVE at once, not an OPEN nor an UPDATE.
    let (t, _) = peer.read().expect("a message after adoption");
    assert_eq!(t, 4, "the adopted session's first message is a KEEPALIVE");
    // The rest of the second UPDATE completes the half the old task read.
    peer.send(&second[30..]);
    let both = wait_for(WAIT, || {
        (rib_in(&rt, &b) == ["10.5.0.0/24", "10.6.0.0/24"]).then_some(())
    });
    assert!(both.is_some(), "Adj-RIB-In: {:?}", rib_in(&rt, &b));
    let after = status(&rt, &b);
    assert_eq!(after.state, PeerState::Established);
    assert_eq!(after.received.open, 1);
    assert_eq!(after.received.update, before.received.update + 1);
    assert_eq!(after.sent.open, 1, "no second OPEN counted");
    assert!(after.uptime >= before.uptime, "uptime went back: {after:?}");
    peer.assert_still_up();
    rt.block_on(b.stop(2, "test over", Duration::from_secs(2)));
}
