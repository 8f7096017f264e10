//! Hand-over (issue 13) against a raw scripted peer, for what a real BGP daemon
//! cannot be made to do on cue: half an UPDATE is on the wire when the session
//! is handed over. The half read by the old task travels in the state and the
//! adopted task completes it with the rest; the Adj-RIB-In, the message counters
//! and the uptime carry over; the adopted task sends a KEEPALIVE at once and
//! nothing else (no OPEN, no UPDATE: its routes did not change).
//! And a hand-over answered too late (the daemon gave up waiting while the task
//! wrote to a peer slow to read) ends the session with a Cease, not a bare close.

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
    // A KEEPALIVE went out just before the capture (the peer's hold timer
    // starts afresh at the gap), and the state counts it as our last.
    // It is in the socket when the answer comes; a periodic one (every 10 s)
    // is not due within the short read timeout.
    peer.s
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let (t, _) = peer.read().expect("a KEEPALIVE at the hand-over");
    assert_eq!(t, 4, "the hand-over's message is a KEEPALIVE");
    peer.s
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
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

/// The daemon asks for a hand-over while the task is stuck writing a big delta
/// to a peer that does not read; it gives up after 100 ms. When the peer reads
/// again, the task finds nobody waiting for the session: the peer must get a
/// NOTIFICATION (Cease), not a bare TCP close (which, with graceful restart,
/// leaves our routes in its table for a process that will not come).
#[test]
fn a_hand_over_answered_too_late_ends_with_a_cease() {
    use std::os::fd::AsRawFd;
    use std::sync::Arc;

    use exabgp::bgp::{PathAttributes, Prefix};
    use exabgp::rib::{NextHop, Route};

    let peer_ip: IpAddr = loopback_addr(183).into();
    let listener = TcpListener::bind((peer_ip, 0)).unwrap();
    // A small receive buffer (inherited by the accepted socket, no autotuning):
    // the delta below fills both ends and the task waits on its write.
    let size: libc::c_int = 4096;
    // SAFETY: setsockopt on a socket we own, with a c_int of the given size.
    let rc = unsafe {
        libc::setsockopt(
            listener.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    let port = listener.local_addr().unwrap().port();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (events, _) = event_channel(1024, 1 << 20);
    let a = {
        let _g = rt.enter();
        NeighborHandle::spawn(config(peer_ip, port), &[], 0, events)
    };
    let (s, _) = listener.accept().unwrap();
    let mut peer = RawPeer::from_stream(s);
    peer.handshake();
    assert!(peer.until_end_of_rib().is_empty());
    // One UPDATE per route (each its own MED): about 8 MB, more than the
    // send buffer (at most 4 MB here) and the peer's small window hold.
    let routes: Vec<Route> = (0..150_000u32)
        .map(|i| Route {
            prefix: format!("{}.{}.{}.0/24", 10 + (i >> 16), (i >> 8) & 0xff, i & 0xff)
                .parse::<Prefix>()
                .unwrap(),
            next_hop: NextHop::Address("192.0.2.77".parse().unwrap()),
            attributes: Arc::new(PathAttributes {
                med: Some(i),
                ..Default::default()
            }),
        })
        .collect();
    assert!(a.send(NeighborCommand::Announce(routes)));
    // The task is writing (or about to): the hand-over gets no answer in time.
    let a = match rt.block_on(a.hand_over(Duration::from_millis(100))) {
        Ok(_) => panic!("handed over while the peer did not read"),
        Err(a) => a,
    };
    // The peer reads again: UPDATEs, then the end of the session.
    let mut last = None;
    for _ in 0..1_000_000 {
        match peer.read() {
            Ok((3, body)) => {
                last = Some((body[0], body[1]));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    assert_eq!(
        last.map(|(code, _)| code),
        Some(6),
        "the session ended without a Cease"
    );
    drop(a);
}
