//! Liveness below BGP, over real TCP with a raw peer and the daemon core running in
//! this process: the daemon's own sockets (found in /proc/self/fd by their
//! addresses) carry TCP keepalive and TCP_USER_TIMEOUT whichever way the connection
//! came, and with hold time 0 (the peer asked for it, so no Hold timer and no
//! KEEPALIVEs) a peer that stops reading is still dropped, within our configured
//! hold time.

mod common;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::Duration;

use common::inproc::InProcess;
use common::raw::*;
use common::*;
use exabgp::bgp::{Origin, PathAttributes, Prefix};
use exabgp::control::{Command, ControlReply, Event, PeerState, ShowDetail};
use exabgp::rib::{NextHop, Route};
use exabgp::session::tcp;
use tokio::sync::broadcast;

/// What the kernel says of the daemon's end of the connection whose other end is
/// `theirs`: (keepalive on, idle, interval, count, user timeout).
type Liveness = (bool, Duration, Duration, u32, Option<Duration>);

/// Finds, among this process's file descriptors, the socket connected from
/// `theirs`'s peer address to its local address, and reads its options.
fn daemon_side(theirs: &std::net::TcpStream) -> Option<Liveness> {
    let want_local: SocketAddr = theirs.peer_addr().ok()?;
    let want_peer: SocketAddr = theirs.local_addr().ok()?;
    for entry in std::fs::read_dir("/proc/self/fd").ok()? {
        let Some(fd) = entry
            .ok()
            .and_then(|e| e.file_name().to_str()?.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: only borrowed for the getsockopt calls below, never closed; the
        // daemon keeps the connection open while the session is Established.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        let s = socket2::SockRef::from(&b);
        let (Ok(l), Ok(p)) = (s.local_addr(), s.peer_addr()) else {
            continue;
        };
        if l.as_socket() != Some(want_local) || p.as_socket() != Some(want_peer) {
            continue;
        }
        return Some((
            s.keepalive().ok()?,
            s.tcp_keepalive_time().ok()?,
            s.tcp_keepalive_interval().ok()?,
            s.tcp_keepalive_retries().ok()?,
            s.tcp_user_timeout().ok()?,
        ));
    }
    None
}

fn expected(user_timeout: u64) -> Liveness {
    (
        true,
        tcp::KEEPALIVE_IDLE,
        tcp::KEEPALIVE_INTERVAL,
        tcp::KEEPALIVE_COUNT,
        Some(Duration::from_secs(user_timeout)),
    )
}

/// An outgoing connection (we connect to the raw peer) and an accepted one (the raw
/// peer connects to our listener) both have the options; a hold time longer than
/// the default user timeout raises it.
#[test]
fn bgp_sockets_have_keepalive_and_user_timeout_both_ways() {
    let exa_ip: IpAddr = loopback_addr(121).into();
    let raw_out: IpAddr = loopback_addr(122).into();
    let raw_in: IpAddr = loopback_addr(123).into();
    let ours = TcpListener::bind((exa_ip, 0)).unwrap();
    let ours_addr = ours.local_addr().unwrap();
    let theirs = TcpListener::bind((raw_out, 0)).unwrap();
    let port = theirs.local_addr().unwrap().port();
    let text = ExaConfig::new(65001)
        .connect_to(raw_out, RAW_AS.into(), exa_ip, port)
        .line("hold-time = 30")
        .passive(raw_in, RAW_AS.into())
        .line("hold-time = 600")
        .build();
    let config = exabgp::config::parse_str(&text, "liveness.toml").unwrap();
    let (events, _) = broadcast::channel::<Event>(16);
    let mut daemon = InProcess::start(config, vec![ours], events);

    // Outgoing: exabgp connects to us.
    theirs.set_nonblocking(false).unwrap();
    let (s, _) = theirs.accept().unwrap();
    let mut out_peer = RawPeer::from_stream(s);
    out_peer.handshake_with(&open_body_with(4, RAW_AS, 30, [192, 0, 2, 77]));
    // Incoming: we connect to exabgp.
    let mut in_peer = RawPeer::connect(raw_in, ours_addr);
    in_peer.handshake_with(&open_body_with(4, RAW_AS, 600, [192, 0, 2, 78]));

    assert_eq!(daemon_side(&out_peer.s), Some(expected(90)), "outgoing");
    assert_eq!(daemon_side(&in_peer.s), Some(expected(600)), "accepted");

    assert_eq!(daemon.ctl.ask(Command::Shutdown), ControlReply::Done);
    let r = daemon.join(Duration::from_secs(15));
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}

/// The peer asks for hold time 0, then stops reading while we send a large table:
/// no Hold timer runs, yet the write is bounded by our configured hold time (3 s
/// here) and the session goes down with "peer stopped reading". Without that bound
/// the write waits 4 minutes per chunk.
#[test]
fn hold_time_zero_peer_that_stops_reading_is_dropped() {
    let exa_ip: IpAddr = loopback_addr(124).into();
    let raw_ip: IpAddr = loopback_addr(125).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("hold-time = 3")
        .build();
    let config = exabgp::config::parse_str(&text, "stall0.toml").unwrap();
    let (events, _) = broadcast::channel::<Event>(16);
    let mut daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake_with(&open_body_with(4, RAW_AS, 0, [192, 0, 2, 77]));
    p.until_end_of_rib();
    assert_eq!(
        daemon.ctl.neighbor(raw_ip).state,
        PeerState::Established,
        "hold time 0 session"
    );

    // 300k routes with distinct MEDs: one UPDATE each, far more than the socket
    // buffers hold. We never read again.
    let routes: Vec<Route> = (0..300_000u32)
        .map(|i| Route {
            prefix: Prefix::new(IpAddr::V4((0x0a00_0000 + (i << 8)).into()), 24).unwrap(),
            next_hop: NextHop::Address("192.0.2.20".parse().unwrap()),
            attributes: Arc::new(PathAttributes {
                origin: Some(Origin::Igp),
                med: Some(i),
                ..Default::default()
            }),
        })
        .collect();
    assert_eq!(
        daemon.ctl.ask(Command::Announce {
            scope: None,
            routes
        }),
        ControlReply::Done
    );

    let status = wait_for(Duration::from_secs(60), || {
        match daemon.ctl.ask(Command::ShowNeighbor {
            detail: ShowDetail::Summary,
            address: Some(raw_ip),
        }) {
            ControlReply::Neighbors(v) => v
                .into_iter()
                .find(|s| s.state != PeerState::Established && s.last_error.is_some()),
            _ => None,
        }
    });
    let status = status.expect("hold-time-0 session with a stalled peer never went down");
    let err = status.last_error.unwrap_or_default();
    assert!(err.contains("stopped reading for 3s"), "last error: {err}");
    drop(p);

    assert_eq!(daemon.ctl.ask(Command::Shutdown), ControlReply::Done);
    let r = daemon.join(Duration::from_secs(15));
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}
