//! max-prefix against a scripted raw peer over real TCP, with the daemon core
//! in-process: the count follows withdraws and re-announces, one prefix over the
//! limit gets Cease subcode 1 with AFI/SAFI/limit (RFC 4486), the neighbor then
//! stays idle (no connection out, the peer's refused) until `restart-after`, and
//! warning-only keeps the session with `prefix-limit` events.

mod support;

use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use exabgp::api::events::{encode_json, Origin};
use exabgp::control::{Event, EventKind, PeerState, PrefixLimit};
use support::inproc::InProcess;
use support::raw::*;
use support::*;

/// An UPDATE withdrawing `withdrawn` and announcing `nlri` (each a /24 given by its
/// three first octets) with the raw peer's usual attributes.
fn update(withdrawn: &[[u8; 3]], nlri: &[[u8; 3]]) -> Vec<u8> {
    let enc = |ps: &[[u8; 3]]| -> Vec<u8> {
        ps.iter()
            .flat_map(|p| [24, p[0], p[1], p[2]])
            .collect::<Vec<u8>>()
    };
    let w = enc(withdrawn);
    let attrs = if nlri.is_empty() {
        Vec::new()
    } else {
        valid_attrs()
    };
    let mut b = (w.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(&w);
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(&attrs);
    b.extend_from_slice(&enc(nlri));
    message(2, &b)
}

/// Waits (bounded) until the neighbor holds `n` prefixes while Established.
fn wait_prefixes_in(daemon: &InProcess, peer: IpAddr, n: u64) {
    let got = wait_for(WAIT, || {
        let s = daemon.ctl.neighbor(peer);
        (s.state == PeerState::Established && s.prefixes_in == n).then_some(())
    });
    assert!(
        got.is_some(),
        "never {n} prefixes in: {:?}",
        daemon.ctl.neighbor(peer)
    );
}

/// The next `prefix-limit` event (bounded wait), skipping others.
fn next_limit(daemon: &InProcess, rx: &mut exabgp::control::EventReceiver) -> (Event, PrefixLimit) {
    daemon.rt.block_on(async {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Ok(ev)) => {
                    if let EventKind::PrefixLimit(l) = ev.kind {
                        return (ev, l);
                    }
                }
                other => panic!("no prefix-limit event: {other:?}"),
            }
        }
    })
}

/// Reads the NOTIFICATION (skipping KEEPALIVE/UPDATE): (code, subcode, data).
fn notification(p: &mut RawPeer) -> (u8, u8, Vec<u8>) {
    for _ in 0..100 {
        let (t, body) = p.read().expect("NOTIFICATION from exabgp");
        if t == 3 {
            return (body[0], body[1], body[2..].to_vec());
        }
    }
    panic!("no NOTIFICATION from exabgp");
}

#[test]
fn over_the_limit_gets_cease_1_and_idle_until_restart_after() {
    let exa_ip: IpAddr = loopback_addr(121).into();
    let raw_ip: IpAddr = loopback_addr(123).into();
    let exa_listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let exa_addr: SocketAddr = exa_listener.local_addr().unwrap();
    // The raw peer listens: exabgp connects to it (an active neighbor).
    let peer_listener = TcpListener::bind((raw_ip, 0)).unwrap();
    let port = peer_listener.local_addr().unwrap().port();
    let restart = Duration::from_secs(5);
    let text = ExaConfig::new(65001)
        .connect_to(raw_ip, RAW_AS.into(), exa_ip, port)
        .line("max-prefix = 3")
        .line(&format!("max-prefix-restart-after = {}", restart.as_secs()))
        .build();
    let config = exabgp::config::parse_str(&text, "limit.toml").unwrap();
    let (events, mut rx) = exabgp::control::event_channel(1024, 1 << 30);
    let daemon = InProcess::start(config, vec![exa_listener], events);

    let (s, _) = peer_listener.accept().unwrap();
    let mut p = RawPeer::from_stream(s);
    p.handshake();
    p.until_end_of_rib();

    // A and B; both again (a re-announce does not count); B withdrawn; C and D:
    // 3 prefixes, at the limit, the session is up.
    p.send(&update(&[], &[[10, 0, 1], [10, 0, 2]]));
    p.send(&update(&[], &[[10, 0, 1], [10, 0, 2]]));
    wait_prefixes_in(&daemon, raw_ip, 2);
    p.send(&update(&[[10, 0, 2]], &[]));
    p.send(&update(&[], &[[10, 0, 3], [10, 0, 4]]));
    wait_prefixes_in(&daemon, raw_ip, 3);
    // E: one over the limit.
    p.send(&update(&[], &[[10, 0, 5]]));
    let (code, subcode, data) = notification(&mut p);
    let ceased = Instant::now();
    assert_eq!(
        (code, subcode),
        (6, 1),
        "Cease, Maximum Number of Prefixes Reached"
    );
    assert_eq!(data, [0, 1, 1, 0, 0, 0, 3], "AFI 1, SAFI 1, upper bound 3");
    let mut rest = Vec::new();
    assert!(p.s.read_to_end(&mut rest).is_ok(), "connection not closed");

    let (ev, limit) = next_limit(&daemon, &mut rx);
    assert_eq!((limit.prefixes, limit.maximum), (4, 3));
    assert!(limit.exceeded && limit.cease);
    let json = encode_json(&ev, 1, &Origin::current());
    assert!(
        json.contains(r#""type": "prefix-limit""#)
            && json.contains(r#""prefix-limit": {"afi": "ipv4", "safi": "unicast", "prefixes": 4, "maximum": 3, "exceeded": true, "action": "cease"}"#),
        "{json}"
    );
    let s = daemon.ctl.neighbor(raw_ip);
    assert_eq!(s.state, PeerState::Idle);
    let err = s.last_error.unwrap_or_default();
    assert!(err.contains("maximum number of prefixes"), "{err}");

    // Meanwhile the peer's own connection is closed without an OPEN.
    let mut again = RawPeer::connect(raw_ip, exa_addr);
    let refused = again.read();
    assert!(refused.is_err(), "idle neighbor answered: {refused:?}");
    assert!(
        ceased.elapsed() < restart,
        "the machine was too slow to check the idle time"
    );

    // exabgp connects again only after restart-after (bounded wait).
    peer_listener.set_nonblocking(true).unwrap();
    let s = wait_for(WAIT + restart, || peer_listener.accept().ok());
    let (s, _) = s.expect("no reconnect after restart-after");
    assert!(
        ceased.elapsed() >= restart,
        "reconnected {:?} after the Cease, before restart-after",
        ceased.elapsed()
    );
    s.set_nonblocking(false).unwrap();
    let mut p = RawPeer::from_stream(s);
    p.handshake();
    p.until_end_of_rib();
    wait_prefixes_in(&daemon, raw_ip, 0);
}

#[test]
fn warning_only_keeps_the_session_and_warns_once_per_crossing() {
    let exa_ip: IpAddr = loopback_addr(125).into();
    let raw_ip: IpAddr = loopback_addr(127).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("max-prefix = { \"ipv4 unicast\" = 2 }")
        .line("max-prefix-warning-only = true")
        .line("max-prefix-warning-threshold = 50")
        .build();
    let config = exabgp::config::parse_str(&text, "warn.toml").unwrap();
    let (events, mut rx) = exabgp::control::event_channel(1024, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake();
    p.until_end_of_rib();
    // 1 of 2: the 50 % threshold.
    p.send(&update(&[], &[[10, 1, 1]]));
    let (_, l) = next_limit(&daemon, &mut rx);
    assert_eq!(
        (l.prefixes, l.maximum, l.exceeded, l.cease),
        (1, 2, false, false)
    );
    // 3 of 2: exceeded, a warning only; a fourth prefix gives no second warning.
    p.send(&update(&[], &[[10, 1, 2], [10, 1, 3]]));
    let (ev, l) = next_limit(&daemon, &mut rx);
    assert_eq!((l.prefixes, l.exceeded, l.cease), (3, true, false));
    let json = encode_json(&ev, 1, &Origin::current());
    assert!(
        json.contains(r#""exceeded": true, "action": "warning""#),
        "{json}"
    );
    p.send(&update(&[], &[[10, 1, 4]]));
    wait_prefixes_in(&daemon, raw_ip, 4);
    // Back to the limit and over it again: no new warning (hysteresis: 1 prefix
    // below the limit re-arms it); down to 1, then over it again: a new warning.
    p.send(&update(&[[10, 1, 3], [10, 1, 4]], &[]));
    wait_prefixes_in(&daemon, raw_ip, 2);
    p.send(&update(&[], &[[10, 1, 5]]));
    wait_prefixes_in(&daemon, raw_ip, 3);
    p.send(&update(&[[10, 1, 2], [10, 1, 5]], &[]));
    wait_prefixes_in(&daemon, raw_ip, 1);
    p.send(&update(&[], &[[10, 1, 6], [10, 1, 7]]));
    let (_, l) = next_limit(&daemon, &mut rx);
    assert_eq!((l.prefixes, l.exceeded), (3, true));
    p.send(&message(4, &[]));
    p.assert_still_up();
    wait_prefixes_in(&daemon, raw_ip, 3);
}

#[test]
fn without_restart_after_idle_until_a_teardown() {
    let exa_ip: IpAddr = loopback_addr(129).into();
    let raw_ip: IpAddr = loopback_addr(131).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("max-prefix = 1")
        .build();
    let config = exabgp::config::parse_str(&text, "idle.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(1024, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake();
    p.until_end_of_rib();
    p.send(&update(&[], &[[10, 2, 1], [10, 2, 2]]));
    let (code, subcode, data) = notification(&mut p);
    assert_eq!((code, subcode, data), (6, 1, vec![0, 1, 1, 0, 0, 0, 1]));
    // Refused, twice, some time apart.
    for _ in 0..2 {
        let mut again = RawPeer::connect(raw_ip, addr);
        let r = again.read();
        assert!(r.is_err(), "idle neighbor answered: {r:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        daemon.ctl.ask(exabgp::control::Command::Teardown {
            address: raw_ip,
            code: 4
        }),
        exabgp::control::ControlReply::Done
    );
    // Accepted again (the teardown may be taken just after this connection
    // arrives: a few bounded attempts).
    let up = wait_for(WAIT, || {
        let mut p = RawPeer::connect(raw_ip, addr);
        p.read().ok().map(|(t, _)| {
            assert_eq!(t, 1, "OPEN");
            p
        })
    });
    let mut p = up.expect("not accepted after the teardown");
    p.send(&message(1, &open_body()));
    p.keepalive_until_established();
    wait_prefixes_in(&daemon, raw_ip, 0);
}

/// MP_REACH_NLRI for IPv6 unicast announcing `n` /48s (extended length).
fn mp_reach_ipv6(n: u16) -> Vec<u8> {
    let mut v = vec![0, 2, 1, 16];
    v.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    v.push(0);
    for i in 0..n {
        let [hi, lo] = i.to_be_bytes();
        v.extend_from_slice(&[48, 0x20, 0x01, 0x0d, 0xb8, hi, lo]);
    }
    let mut a = vec![0x90, 14];
    a.extend_from_slice(&(v.len() as u16).to_be_bytes());
    a.extend_from_slice(&v);
    a
}

/// A peer cannot get round max-prefix (nor fill the Adj-RIB-In) with a family the
/// session did not negotiate: 500 IPv6 prefixes on an IPv4-only session with a
/// limit of 3 are dropped (RFC 4760 §8), the session stays up, and the IPv4 count
/// still works.
#[test]
fn family_not_negotiated_is_dropped_not_stored() {
    let exa_ip: IpAddr = loopback_addr(133).into();
    let raw_ip: IpAddr = loopback_addr(135).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("max-prefix = 3")
        .build();
    let config = exabgp::config::parse_str(&text, "fam.toml").unwrap();
    let (events, mut rx) = exabgp::control::event_channel(1024, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake();
    p.until_end_of_rib();
    let attrs = [&ORIGIN_IGP[..], &AS_PATH, &mp_reach_ipv6(500)].concat();
    p.send(&message(2, &update_body(&attrs, &[])));
    // Then one IPv4 prefix: once it is in, the IPv6 UPDATE was handled.
    p.send(&update(&[], &[[10, 3, 1]]));
    wait_prefixes_in(&daemon, raw_ip, 1);
    p.send(&message(4, &[]));
    p.assert_still_up();
    let s = daemon.ctl.neighbor(raw_ip);
    assert_eq!((s.state, s.prefixes_in), (PeerState::Established, 1));
    // The update events carry no IPv6 prefix either.
    daemon.rt.block_on(async {
        while let Ok(Ok(ev)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            if let EventKind::Update(u) = &ev.kind {
                assert!(u.attributes.mp_reach.is_none(), "{u:?}");
            }
        }
    });
}

/// A peer hovering around a limit (one prefix over, back to the limit, over ...)
/// gets one warning and one event, not one per crossing: a warning is re-armed
/// only 5 % below the limit.
#[test]
fn hovering_around_the_limit_warns_once() {
    let exa_ip: IpAddr = loopback_addr(137).into();
    let raw_ip: IpAddr = loopback_addr(139).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("max-prefix = 40")
        .line("max-prefix-warning-only = true")
        .build();
    let config = exabgp::config::parse_str(&text, "hover.toml").unwrap();
    let (events, mut rx) = exabgp::control::event_channel(4096, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake();
    p.until_end_of_rib();
    let forty: Vec<[u8; 3]> = (0..40).map(|i| [10, 4, i]).collect();
    p.send(&update(&[], &forty));
    wait_prefixes_in(&daemon, raw_ip, 40);
    for _ in 0..10 {
        p.send(&update(&[], &[[10, 4, 200]]));
        p.send(&update(&[[10, 4, 200]], &[]));
    }
    // Once this one is in, every UPDATE before it was checked (and its events
    // sent).
    p.send(&update(&[[10, 4, 0]], &[]));
    wait_prefixes_in(&daemon, raw_ip, 39);
    let mut limits = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let EventKind::PrefixLimit(l) = ev.kind {
            limits.push(l);
        }
    }
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert_eq!((limits[0].prefixes, limits[0].exceeded), (41, true));
    // 2 below the limit (the margin for 40), then over it: warned again.
    p.send(&update(&[[10, 4, 1]], &[]));
    wait_prefixes_in(&daemon, raw_ip, 38);
    p.send(&update(&[], &[[10, 4, 0], [10, 4, 1], [10, 4, 200]]));
    let (_, l) = next_limit(&daemon, &mut rx);
    assert_eq!((l.prefixes, l.exceeded), (41, true));
}

/// A small limit's threshold rounds up: 5 % of 10 is 1 prefix, so an UPDATE that
/// leaves the table empty gives no warning (it used to: 0 >= 0), the first prefix
/// does.
#[test]
fn a_small_threshold_never_warns_at_zero_prefixes() {
    let exa_ip: IpAddr = loopback_addr(153).into();
    let raw_ip: IpAddr = loopback_addr(155).into();
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("max-prefix = 10")
        .line("max-prefix-warning-threshold = 5")
        .build();
    let config = exabgp::config::parse_str(&text, "small.toml").unwrap();
    let (events, mut rx) = exabgp::control::event_channel(1024, 1 << 30);
    let daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake();
    p.until_end_of_rib();
    // A withdraw of a prefix never announced: still 0 prefixes.
    p.send(&update(&[[10, 5, 9]], &[]));
    p.send(&update(&[], &[[10, 5, 1]]));
    let (_, l) = next_limit(&daemon, &mut rx);
    assert_eq!(
        (l.prefixes, l.maximum, l.exceeded),
        (1, 10, false),
        "the first warning is at 1 prefix"
    );
}
