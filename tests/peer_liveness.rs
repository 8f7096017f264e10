//! Liveness below BGP, over real TCP with a raw peer and the daemon core running in
//! this process: the daemon's own sockets (found in /proc/self/fd by their
//! addresses) carry TCP keepalive and TCP_USER_TIMEOUT whichever way the connection
//! came, and with hold time 0 (the peer asked for it, so no Hold timer and no
//! KEEPALIVEs) a peer that stops reading is still dropped, within our configured
//! hold time; and with a hold time, the KEEPALIVEs of a peer that reads slowly,
//! waiting unread behind one long write, keep its session when the write ends.

mod support;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use exabgp::bgp::{Community, Origin, PathAttributes, Prefix};
use exabgp::control::{Command, ControlReply, PeerState};
use exabgp::rib::{NextHop, Route};
use exabgp::session::tcp;
use support::inproc::{distinct_routes, InProcess};
use support::raw::*;
use support::*;

/// What the kernel says of the daemon's end of the connection whose other end is
/// `theirs`: (keepalive on, idle, interval, count, user timeout, not-sent low mark).
type Liveness = (bool, Duration, Duration, u32, Option<Duration>, u32);

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
            tcp::notsent_lowat(&b).ok()?,
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
        tcp::NOTSENT_LOWAT,
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
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
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
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
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
    let routes = distinct_routes(300_000);
    assert_eq!(
        daemon.ctl.ask(Command::Announce {
            scope: None,
            routes
        }),
        ControlReply::Done
    );

    let status = daemon.ctl.wait_down(raw_ip, Duration::from_secs(60));
    let status = status.expect("hold-time-0 session with a stalled peer never went down");
    let err = status.last_error.unwrap_or_default();
    assert!(err.contains("stopped reading for 3s"), "last error: {err}");
    drop(p);

    assert_eq!(daemon.ctl.ask(Command::Shutdown), ControlReply::Done);
    let r = daemon.join(Duration::from_secs(15));
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}

/// Hold time 3 s. The peer sends a KEEPALIVE every second from another thread and
/// reads our table in bursts of about 1 MB with 1.5 s pauses, so no single chunk
/// waits as long as the hold time but the whole write lasts longer, while its
/// KEEPALIVEs queue up unread. When the write ends, the expired Hold timer and the
/// waiting KEEPALIVEs are both ready: the KEEPALIVEs must count. Without that,
/// which one runs first is random, hence several rounds.
#[test]
fn keepalives_waiting_behind_a_long_write_keep_the_session() {
    let exa_ip: IpAddr = loopback_addr(126).into();
    let raw_ip: IpAddr = loopback_addr(127).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("hold-time = 3")
        .build();
    let config = exabgp::config::parse_str(&text, "slow.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let mut daemon = InProcess::start(config, vec![listener], events);

    // A fixed receive buffer (no autotuning), so the write waits on our reading.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(256 * 1024).unwrap();
    sock.bind(&SocketAddr::new(raw_ip, 0).into()).unwrap();
    sock.connect_timeout(&addr.into(), Duration::from_secs(10))
        .unwrap();
    let mut p = RawPeer::from_stream(sock.into());
    p.handshake_with(&open_body_with(4, RAW_AS, 3, [192, 0, 2, 77]));
    p.until_end_of_rib();

    let stop = Arc::new(AtomicBool::new(false));
    let mut ka = p.s.try_clone().unwrap();
    let ka_stop = stop.clone();
    let keepalives = std::thread::spawn(move || {
        use std::io::Write;
        for _ in 0..600 {
            if ka_stop.load(Ordering::Relaxed) || ka.write_all(&message(4, &[])).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1000));
        }
    });

    // 1200 UPDATEs of about 3.7 kB (900 communities each): about 4.4 MB a round,
    // beyond what the socket buffers hold, so each write lasts several bursts.
    const ROUTES: u32 = 1200;
    let communities: Vec<Community> = (0..900).map(|i| Community(0xfde9_0000 + i)).collect();
    for round in 0..6u32 {
        let routes: Vec<Route> = (0..ROUTES)
            .map(|i| Route {
                prefix: Prefix::new(IpAddr::V4((0x0a00_0000 + (i << 8)).into()), 24).unwrap(),
                next_hop: NextHop::Address("192.0.2.20".parse().unwrap()),
                attributes: Arc::new(PathAttributes {
                    origin: Some(Origin::Igp),
                    med: Some(round * ROUTES + i),
                    communities: communities.clone(),
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
        let (mut updates, mut burst) = (0u32, 0usize);
        for _ in 0..(ROUTES * 10) {
            let (t, body) = p.read().unwrap_or_else(|e| {
                let why = daemon.ctl.neighbor(raw_ip).last_error;
                panic!("round {round}, after {updates} UPDATEs: {e}; exabgp: {why:?}")
            });
            assert_ne!(t, 3, "round {round}: NOTIFICATION {body:?}");
            if t == 2 {
                updates += 1;
                if updates == ROUTES {
                    break;
                }
            }
            burst += 19 + body.len();
            if burst >= 1 << 20 {
                burst = 0;
                std::thread::sleep(Duration::from_millis(1500));
            }
        }
        assert_eq!(updates, ROUTES, "round {round}");
    }
    p.assert_still_up();
    stop.store(true, Ordering::Relaxed);
    let _ = keepalives.join();
    let n = daemon.ctl.neighbor(raw_ip);
    assert_eq!(n.state, PeerState::Established, "{:?}", n.last_error);

    assert_eq!(daemon.ctl.ask(Command::Shutdown), ControlReply::Done);
    let r = daemon.join(Duration::from_secs(15));
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}
