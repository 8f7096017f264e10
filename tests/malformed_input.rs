//! Malformed input over real TCP: this test is the peer, with a raw socket. For each
//! kind of damage it completes OPEN/KEEPALIVE with the running `exabgp server`, sends
//! the bad bytes and checks the exact NOTIFICATION that comes back (RFC 4271 §6,
//! RFC 7606) — or, for treat-as-withdraw, that the session stays up and the prefix
//! leaves the Adj-RIB-In. Throughout, exabgp must stay alive and its session with a
//! real gobgpd (a second neighbor) must stay Established, without a flap.

mod support;

use std::net::IpAddr;

use support::raw::*;
use support::*;

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
    let (dir, exa_ip, gobgp) = gobgp_setup("malformed", 31, EXA_AS, GOBGP_AS, &["ipv4-unicast"]);
    let raw_ip: IpAddr = loopback_addr(33).into();
    let config = gobgp
        .exabgp_config(EXA_AS, exa_ip)
        .passive(raw_ip, RAW_AS.into())
        .route("203.0.113.0/24", "192.0.2.10")
        .build();
    let (mut exa, exa_addr) = Exabgp::start_listening(&dir.path, &config, exa_ip);
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "gobgp session not established; log:\n{}",
        exa.log()
    );
    let (_, uptime_before) = gobgp_session(&gobgp, exa_ip);

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
    // The initial table (the configured route, next hop as configured) then End-of-RIB.
    let table = p.until_end_of_rib();
    assert_eq!(table.len(), 1, "{table:?}");
    assert!(
        table[0].ends_with(&[24, 203, 0, 113]),
        "NLRI 203.0.113.0/24: {:?}",
        table[0]
    );
    assert!(
        table[0].windows(4).any(|w| w == [192, 0, 2, 10]),
        "next hop: {:?}",
        table[0]
    );
    p.send(&message(2, &update_body(&valid_attrs(), &[24, 10, 77, 0])));
    exa.expect_log(
        "10.77.0.0/24 withdraw= adj_rib_in=1",
        "valid UPDATE not held",
    );
    // Bad attribute flags: ORIGIN marked optional (0xC0 instead of 0x40).
    let bad_flags = [&[0xC0, 1, 1, 0][..], &AS_PATH, &NEXT_HOP].concat();
    p.send(&message(2, &update_body(&bad_flags, &[24, 10, 77, 0])));
    exa.expect_log(
        "withdraw=10.77.0.0/24 adj_rib_in=0",
        "bad attribute flags not treated as withdraw",
    );
    assert!(exa.log().contains("treated as withdraw"), "{}", exa.log());
    // RFC 7606 §4: the last attribute's length overruns the attribute block (the
    // Total Path Attribute Length is right, so the NLRI is found): treat-as-withdraw.
    p.send(&message(2, &update_body(&valid_attrs(), &[24, 10, 78, 0])));
    exa.expect_log(
        "10.78.0.0/24 withdraw= adj_rib_in=1",
        "valid UPDATE not held",
    );
    let overrun_attr = [&valid_attrs()[..], &[0x40, 5, 9, 0, 0, 0]].concat();
    p.send(&message(2, &update_body(&overrun_attr, &[24, 10, 78, 0])));
    exa.expect_log(
        "withdraw=10.78.0.0/24 adj_rib_in=0",
        "attribute overrunning the block not treated as withdraw",
    );
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
    exa.stop();
}

#[test]
fn bad_open_and_silent_peer_get_the_right_notification() {
    let dir = TestDir::new("badopen");
    let exa_ip: IpAddr = loopback_addr(61).into();
    let raw_ip: IpAddr = loopback_addr(63).into();
    let config = ExaConfig::new(EXA_AS)
        .passive(raw_ip, RAW_AS.into())
        .build();
    let (mut exa, exa_addr) = Exabgp::start_listening(&dir.path, &config, exa_ip);

    // A connection from an address that is not a neighbor is closed unanswered.
    let mut stranger = RawPeer::connect(loopback_addr(64).into(), exa_addr);
    let mut rest = Vec::new();
    let read = std::io::Read::read_to_end(&mut stranger.s, &mut rest);
    assert!(
        read.is_ok() && rest.is_empty(),
        "unknown peer got {read:?} {rest:?}"
    );
    exa.expect_log("unknown peer", "stranger not logged");

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
    let (notification, keepalives) = p.notification_counting_keepalives();
    assert_eq!(notification, (4, 0), "exabgp log:\n{}", exa.log());
    // KEEPALIVE every hold/3 = 1 s: the one ending OPEN handshake plus at least one
    // more before the 3 s hold timer expired.
    assert!(
        keepalives >= 2,
        "only {keepalives} KEEPALIVE(s) before hold timer expiry"
    );
    exa.expect_log("hold timer expired", "hold timer expiry not logged");
    exa.stop();
}

/// 200 UPDATEs of pseudo-random bytes (fixed seed, so a failure replays): each is
/// either survived — a ROUTE-REFRESH right after it is answered with our table — or
/// answered with a NOTIFICATION of a defined error code, after which we reconnect.
/// The daemon never dies.
#[test]
fn random_updates_never_kill_the_daemon() {
    let dir = TestDir::new("random");
    let exa_ip: IpAddr = loopback_addr(65).into();
    let raw_ip: IpAddr = loopback_addr(66).into();
    let config = ExaConfig::new(EXA_AS)
        .passive(raw_ip, RAW_AS.into())
        .route("203.0.113.0/24", "192.0.2.10")
        .build();
    let (mut exa, exa_addr) = Exabgp::start_listening(&dir.path, &config, exa_ip);

    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut peer: Option<RawPeer> = None;
    let (mut survived, mut reset) = (0, 0);
    for i in 0..200 {
        let p = peer.get_or_insert_with(|| {
            let mut p = RawPeer::connect(raw_ip, exa_addr);
            p.handshake();
            p.until_end_of_rib();
            p
        });
        // A third each: well-framed attributes with random flags/types/values and a
        // valid NLRI; random attribute bytes; pure noise.
        let body: Vec<u8> = match next() % 3 {
            0 => {
                let mut attrs = valid_attrs();
                for _ in 0..(1 + next() % 3) {
                    let flags = [0x40u8, 0x80, 0xC0, 0xE0, 0x00][(next() % 5) as usize];
                    let code = [1u8, 2, 3, 4, 5, 6, 7, 8, 16, 32, 99][(next() % 11) as usize];
                    let value: Vec<u8> = (0..(next() % 9)).map(|_| next() as u8).collect();
                    attrs.extend_from_slice(&[flags, code, value.len() as u8]);
                    attrs.extend_from_slice(&value);
                }
                update_body(&attrs, &[24, 10, 200, (i % 250) as u8])
            }
            1 => {
                let attrs: Vec<u8> = (0..(next() % 40)).map(|_| next() as u8).collect();
                let nlri: Vec<u8> = (0..(next() % 6)).map(|_| next() as u8).collect();
                update_body(&attrs, &nlri)
            }
            _ => (0..(next() % 60)).map(|_| next() as u8).collect(),
        };
        let _ = std::io::Write::write_all(&mut p.s, &message(2, &body));
        let _ = std::io::Write::write_all(&mut p.s, &message(5, &[0, 1, 0, 1]));
        let mut outcome = None;
        for _ in 0..20 {
            match p.read() {
                Ok((2, _)) => {
                    outcome = Some(true);
                    break;
                }
                Ok((3, n)) => {
                    assert!(
                        (1..=6).contains(&n[0]),
                        "case {i}: undefined error code {n:?} for {body:?}"
                    );
                    outcome = Some(false);
                    break;
                }
                Ok(_) => continue,
                Err(e) => {
                    panic!("case {i}: connection ended without NOTIFICATION ({e}) for {body:?}")
                }
            }
        }
        match outcome {
            Some(true) => survived += 1,
            Some(false) => {
                reset += 1;
                peer = None;
            }
            None => panic!("case {i}: no answer for {body:?}"),
        }
        assert!(
            exa.proc.alive(),
            "exabgp died on case {i}: {body:?}\n{}",
            exa.log()
        );
    }
    eprintln!(
        "random UPDATEs: {survived} survived (session up), {reset} answered with NOTIFICATION"
    );
    exa.stop();
}
