//! A neighbor's command queue is bounded: a raw peer takes the session and stops
//! reading, so its neighbor task blocks writing a large table; a flood of API
//! commands for it is then refused with "neighbor X is not accepting commands"
//! once the queue is full, while another neighbor keeps answering, and shutdown
//! still reaches both (the Cease is not queued behind the flood).

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use exabgp::control::{Command, ControlReply, PeerState};
use exabgp::session::COMMAND_QUEUE;
use support::inproc::{distinct_routes, numbered_route, InProcess};
use support::raw::*;
use support::*;

#[test]
fn a_flood_for_a_stuck_neighbor_is_refused_and_nobody_else_waits() {
    let exa_ip: IpAddr = loopback_addr(131).into();
    let stuck_ip: IpAddr = loopback_addr(133).into();
    let other_ip: IpAddr = loopback_addr(135).into();
    let listener = std::net::TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    // A long hold time: the blocked write is not cut short during the test.
    let text = ExaConfig::new(65001)
        .passive(stuck_ip, RAW_AS.into())
        .line("hold-time = 240")
        .passive(other_ip, RAW_AS.into())
        .build();
    let config = exabgp::config::parse_str(&text, "queue.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let mut daemon = InProcess::start(config, vec![listener], events);

    let mut stuck = RawPeer::connect(stuck_ip, addr);
    stuck.handshake_with(&open_body_with(4, RAW_AS, 240, [192, 0, 2, 77]));
    stuck.until_end_of_rib();
    let mut other = RawPeer::connect(other_ip, addr);
    other.handshake_with(&open_body_with(4, RAW_AS, 240, [192, 0, 2, 78]));
    other.until_end_of_rib();

    // A table far larger than the socket buffers (one UPDATE per route), which
    // the stuck peer never reads: its task blocks writing it.
    let table = distinct_routes(200_000);
    let only_stuck = Some(vec![stuck_ip]);
    assert_eq!(
        daemon.ctl.ask(Command::Announce {
            scope: only_stuck.clone(),
            routes: table,
        }),
        ControlReply::Done
    );

    // The flood: one small command after another, until one is refused. The task
    // may take one batch before it blocks, so the bound is the queue plus that.
    let bound = 3 * COMMAND_QUEUE;
    let mut accepted = 0usize;
    let refusal = loop {
        assert!(accepted < bound, "{accepted} commands queued, none refused");
        match daemon.ctl.ask(Command::Announce {
            scope: only_stuck.clone(),
            routes: vec![numbered_route(300_000, accepted as u32)],
        }) {
            ControlReply::Done => accepted += 1,
            other => break other,
        }
    };
    assert_eq!(
        refusal,
        ControlReply::Error(format!("neighbor {stuck_ip} is not accepting commands"))
    );
    assert!(accepted >= COMMAND_QUEUE, "refused after only {accepted}");

    // The other neighbor answers and takes commands at once; a show of every
    // neighbor leaves the stuck one out rather than waiting for it.
    let s = daemon.ctl.neighbor(other_ip);
    assert_eq!(s.state, PeerState::Established);
    assert_eq!(
        daemon.ctl.ask(Command::Announce {
            scope: Some(vec![other_ip]),
            routes: vec![numbered_route(400_000, 1)],
        }),
        ControlReply::Done
    );
    let (t, _) = other.read().expect("the announced route");
    assert_eq!(t, 2);
    let started = Instant::now();
    match daemon.ctl.ask(Command::ShowNeighbor {
        detail: exabgp::control::ShowDetail::Summary,
        address: None,
    }) {
        ControlReply::Neighbors(v) => {
            assert!(v.iter().any(|s| s.peer_address == other_ip), "{v:?}");
            assert!(v.iter().all(|s| s.peer_address != stuck_ip), "{v:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "show waited");

    // Shutdown: the stuck peer starts reading again; its Cease comes after the
    // table, ahead of the thousands of queued commands.
    assert_eq!(daemon.ctl.ask(Command::Shutdown), ControlReply::Done);
    let deadline = Instant::now() + WAIT;
    let mut cease = None;
    for _ in 0..2_000_000 {
        assert!(Instant::now() < deadline, "no Cease for the stuck peer");
        match stuck.read() {
            Ok((3, body)) => {
                cease = Some((body[0], body[1]));
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("stuck peer: connection ended without a Cease: {e}"),
        }
    }
    assert_eq!(cease, Some((6, 2)));
    assert_eq!(other.notification(), (6, 2));
    let r = daemon.join(Duration::from_secs(15));
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}

/// `neighbor X teardown` reaches a stuck neighbor whose API queue is full: it is
/// accepted (not "not accepting commands"), and once the peer reads again the
/// Cease comes; a flood of teardowns meanwhile is accepted too (merged into the
/// pending one).
#[test]
fn teardown_reaches_a_stuck_neighbor_with_a_full_queue() {
    let exa_ip: IpAddr = loopback_addr(137).into();
    let stuck_ip: IpAddr = loopback_addr(139).into();
    let listener = std::net::TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(stuck_ip, RAW_AS.into())
        .line("hold-time = 240")
        .build();
    let config = exabgp::config::parse_str(&text, "teardown.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut stuck = RawPeer::connect(stuck_ip, addr);
    stuck.handshake_with(&open_body_with(4, RAW_AS, 240, [192, 0, 2, 77]));
    stuck.until_end_of_rib();
    let table = distinct_routes(200_000);
    let only_stuck = Some(vec![stuck_ip]);
    assert_eq!(
        daemon.ctl.ask(Command::Announce {
            scope: only_stuck.clone(),
            routes: table,
        }),
        ControlReply::Done
    );
    let bound = 3 * COMMAND_QUEUE;
    let mut accepted = 0usize;
    loop {
        assert!(accepted < bound, "{accepted} commands queued, none refused");
        match daemon.ctl.ask(Command::Announce {
            scope: only_stuck.clone(),
            routes: vec![numbered_route(300_000, accepted as u32)],
        }) {
            ControlReply::Done => accepted += 1,
            _ => break,
        }
    }
    for _ in 0..1000 {
        assert_eq!(
            daemon.ctl.ask(Command::Teardown {
                address: stuck_ip,
                code: 4
            }),
            ControlReply::Done,
            "teardown refused while the API queue is full"
        );
    }
    // The peer reads again: the table's UPDATEs, then the Cease (subcode 4,
    // administrative reset), then the end of the connection.
    let deadline = Instant::now() + WAIT;
    let mut cease = None;
    for _ in 0..2_000_000 {
        assert!(Instant::now() < deadline, "no Cease for the stuck peer");
        match stuck.read() {
            Ok((3, body)) => {
                cease = Some((body[0], body[1]));
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("stuck peer: connection ended without a Cease: {e}"),
        }
    }
    assert_eq!(cease, Some((6, 4)));
}
