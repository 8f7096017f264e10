//! Malformed input over real TCP: this test is the peer, with a raw socket. For each
//! kind of damage it completes OPEN/KEEPALIVE with the running `exabgp server`, sends
//! the bad bytes and checks the exact NOTIFICATION that comes back (RFC 4271 §6,
//! RFC 7606) — or, for treat-as-withdraw, that the session stays up and the prefix
//! leaves the Adj-RIB-In. Throughout, exabgp must stay alive and its session with a
//! real gobgpd (a second neighbor) must stay Established, without a flap.

mod common;

use std::net::{IpAddr, SocketAddr};

use common::raw::*;
use common::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

/// gobgp's view of the session with exabgp: (established, uptime seconds).
fn gobgp_session(g: &Gobgp, exa: IpAddr) -> (bool, Option<i64>) {
    let n = g.neighbor(exa);
    let up = n
        .as_ref()
        .and_then(|n| n.pointer("/state/session_state"))
        .and_then(|v| v.as_i64())
        == Some(6);
    let uptime = n
        .as_ref()
        .and_then(|n| n.pointer("/timers/state/uptime/seconds"))
        .and_then(|v| v.as_i64());
    (up, uptime)
}

#[test]
fn malformed_messages_get_the_right_notification_and_hurt_nobody_else() {
    let dir = TestDir::new("malformed");
    let exa_ip: IpAddr = loopback_addr(31).into();
    let gobgp_ip: IpAddr = loopback_addr(32).into();
    let raw_ip: IpAddr = loopback_addr(33).into();
    let gobgp = Gobgp::start(
        &dir.path,
        gobgp_ip,
        GOBGP_AS,
        "192.0.2.254".parse().unwrap(),
        &[GobgpNeighbor {
            address: exa_ip,
            peer_as: EXA_AS,
            families: vec!["ipv4-unicast"],
            md5: None,
        }],
    );
    let listen_port = free_port(exa_ip);
    let config = format!(
        r#"
[global]
router-id = "192.0.2.1"
local-as = {EXA_AS}

[[neighbor]]
address = "{gobgp_ip}"
peer-as = {GOBGP_AS}
local-address = "{exa_ip}"
port = {port}

[[neighbor]]
address = "{raw_ip}"
peer-as = {RAW_AS}
passive = true

[[route]]
prefix = "203.0.113.0/24"
next-hop = "192.0.2.10"
"#,
        port = gobgp.port
    );
    let mut exa = Exabgp::start(&dir.path, &config, Some((exa_ip, listen_port)));
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "gobgp session not established; log:\n{}",
        exa.log()
    );
    let (_, uptime_before) = gobgp_session(&gobgp, exa_ip);
    let exa_addr = SocketAddr::new(exa_ip, listen_port);
    assert!(
        exa.proc.wait_log("accepting BGP connections", WAIT),
        "{}",
        exa.log()
    );

    let check_others = |exa: &mut Exabgp, case: &str| {
        assert!(
            exa.proc.alive(),
            "exabgp died after {case}; log:\n{}",
            exa.log()
        );
        let (up, uptime) = gobgp_session(&gobgp, exa_ip);
        assert!(up, "gobgp session dropped after {case}");
        assert!(
            uptime.is_some() && uptime == uptime_before,
            "gobgp session flapped after {case}"
        );
    };

    // 1. A valid UPDATE is held; then treat-as-withdraw cases (RFC 7606) keep the
    //    session up and take the prefix out of the Adj-RIB-In.
    let mut p = RawPeer::connect(raw_ip, exa_addr);
    p.handshake();
    p.send(&message(2, &update_body(&valid_attrs(), &[24, 10, 77, 0])));
    assert!(
        exa.proc
            .wait_log("10.77.0.0/24 withdraw= adj_rib_in=1", WAIT),
        "valid UPDATE not held:\n{}",
        exa.log()
    );
    // Bad attribute flags: ORIGIN marked optional (0xC0 instead of 0x40).
    let bad_flags = [&[0xC0, 1, 1, 0][..], &AS_PATH, &NEXT_HOP].concat();
    p.send(&message(2, &update_body(&bad_flags, &[24, 10, 77, 0])));
    assert!(
        exa.proc
            .wait_log("withdraw=10.77.0.0/24 adj_rib_in=0", WAIT),
        "bad attribute flags not treated as withdraw:\n{}",
        exa.log()
    );
    assert!(exa.log().contains("treated as withdraw"), "{}", exa.log());
    // Still up: what exabgp sent since is only UPDATE/KEEPALIVE, and it still
    // accepts our messages.
    p.send(&message(4, &[]));
    p.assert_still_up();
    check_others(&mut exa, "treat-as-withdraw");
    p.close();

    // 2. Errors that end the session, each on its own connection.
    let mut bad_marker = message(4, &[]);
    bad_marker[3] = 0;
    let mut bad_length = message(4, &[]);
    bad_length[17] = 18;
    let mut overrun = update_body(&valid_attrs(), &[24, 10, 79, 0]);
    overrun[3] += 10;
    let cases: Vec<(&str, Vec<u8>, (u8, u8))> = vec![
        ("bad marker", bad_marker, (1, 1)),
        ("bad length", bad_length, (1, 2)),
        ("unknown message type", message(9, &[]), (1, 3)),
        (
            "truncated NLRI",
            message(2, &update_body(&valid_attrs(), &[24, 10])),
            (3, 10),
        ),
        // The Total Path Attribute Length runs past the end of the message: the NLRI
        // cannot be located, so the session is reset (RFC 7606 §4, §5.3).
        ("attribute length overrun", message(2, &overrun), (3, 1)),
    ];
    for (case, bytes, expected) in cases {
        let mut p = RawPeer::connect(raw_ip, exa_addr);
        p.handshake();
        p.send(&bytes);
        let got = p.notification();
        assert_eq!(
            got,
            expected,
            "{case}: NOTIFICATION code/subcode; exabgp log:\n{}",
            exa.log()
        );
        check_others(&mut exa, case);
    }

    assert!(exa.log().contains("malformed message"), "{}", exa.log());
    let status = exa.terminate().expect("exabgp exits on SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_open_and_silent_peer_get_the_right_notification() {
    let dir = TestDir::new("badopen");
    let exa_ip: IpAddr = loopback_addr(61).into();
    let raw_ip: IpAddr = loopback_addr(63).into();
    let listen_port = free_port(exa_ip);
    let config = format!(
        r#"
[global]
router-id = "192.0.2.1"
local-as = {EXA_AS}

[[neighbor]]
address = "{raw_ip}"
peer-as = {RAW_AS}
passive = true
"#
    );
    let mut exa = Exabgp::start(&dir.path, &config, Some((exa_ip, listen_port)));
    assert!(
        exa.proc.wait_log("accepting BGP connections", WAIT),
        "{}",
        exa.log()
    );
    let exa_addr = SocketAddr::new(exa_ip, listen_port);

    // OPEN errors (RFC 4271 §6.2) and an UPDATE before OPEN (RFC 6608: FSM error in
    // OpenSent).
    let cases: Vec<(&str, Vec<u8>, (u8, u8))> = vec![
        (
            "version 3",
            message(1, &open_body_with(3, RAW_AS, 30, [192, 0, 2, 77])),
            (2, 1),
        ),
        (
            "wrong peer AS",
            message(1, &open_body_with(4, 65099, 30, [192, 0, 2, 77])),
            (2, 2),
        ),
        (
            "BGP identifier 0",
            message(1, &open_body_with(4, RAW_AS, 30, [0, 0, 0, 0])),
            (2, 3),
        ),
        (
            "hold time 1",
            message(1, &open_body_with(4, RAW_AS, 1, [192, 0, 2, 77])),
            (2, 6),
        ),
        (
            "hold time 2",
            message(1, &open_body_with(4, RAW_AS, 2, [192, 0, 2, 77])),
            (2, 6),
        ),
        (
            "UPDATE in OpenSent",
            message(2, &update_body(&valid_attrs(), &[24, 10, 1, 0])),
            (5, 1),
        ),
    ];
    for (case, bytes, expected) in cases {
        let mut p = RawPeer::connect(raw_ip, exa_addr);
        let (t, _) = p.read().expect("exabgp OPEN");
        assert_eq!(t, 1);
        p.send(&bytes);
        assert_eq!(
            p.notification(),
            expected,
            "{case}; exabgp log:\n{}",
            exa.log()
        );
        assert!(exa.proc.alive(), "exabgp died after {case}");
    }

    // A peer that negotiates a 3 s hold time and then goes silent: Hold Timer
    // Expired (4, 0) within a bounded wait.
    let mut p = RawPeer::connect(raw_ip, exa_addr);
    let (t, _) = p.read().expect("exabgp OPEN");
    assert_eq!(t, 1);
    p.send(&message(1, &open_body_with(4, RAW_AS, 3, [192, 0, 2, 77])));
    p.send(&message(4, &[]));
    assert_eq!(p.notification(), (4, 0), "exabgp log:\n{}", exa.log());
    assert!(
        exa.proc.wait_log("hold timer expired", WAIT),
        "{}",
        exa.log()
    );
    let status = exa.terminate().expect("exabgp exits on SIGTERM");
    assert!(status.success(), "{status:?}");
}
