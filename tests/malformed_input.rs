//! Malformed input over real TCP: this test is the peer, with a raw socket. For each
//! kind of damage it completes OPEN/KEEPALIVE with the running `exabgp server`, sends
//! the bad bytes and checks the exact NOTIFICATION that comes back (RFC 4271 §6,
//! RFC 7606) — or, for treat-as-withdraw, that the session stays up and the prefix
//! leaves the Adj-RIB-In. Throughout, exabgp must stay alive and its session with a
//! real gobgpd (a second neighbor) must stay Established, without a flap.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use common::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;
const RAW_AS: u16 = 65002;

fn message(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(msg_type);
    m.extend_from_slice(body);
    m
}

fn open_body() -> Vec<u8> {
    // Capabilities: multiprotocol ipv4 unicast, 4-octet AS.
    let mut caps = vec![1, 4, 0, 1, 0, 1, 65, 4];
    caps.extend_from_slice(&u32::from(RAW_AS).to_be_bytes());
    let mut b = vec![4];
    b.extend_from_slice(&RAW_AS.to_be_bytes());
    b.extend_from_slice(&30u16.to_be_bytes());
    b.extend_from_slice(&[192, 0, 2, 77]);
    b.push(caps.len() as u8 + 2);
    b.push(2);
    b.push(caps.len() as u8);
    b.extend_from_slice(&caps);
    b
}

fn update_body(attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0];
    b.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    b.extend_from_slice(attrs);
    b.extend_from_slice(nlri);
    b
}

const ORIGIN_IGP: [u8; 4] = [0x40, 1, 1, 0];
/// AS_PATH, one AS_SEQUENCE of [65002], 4-octet.
const AS_PATH: [u8; 9] = [0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea];
const NEXT_HOP: [u8; 7] = [0x40, 3, 4, 192, 0, 2, 77];

fn valid_attrs() -> Vec<u8> {
    [&ORIGIN_IGP[..], &AS_PATH, &NEXT_HOP].concat()
}

/// The raw peer.
struct RawPeer {
    s: TcpStream,
}

impl RawPeer {
    fn connect(src: IpAddr, dst: SocketAddr) -> RawPeer {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        sock.bind(&SocketAddr::new(src, 0).into())
            .expect("bind source address");
        sock.connect_timeout(&dst.into(), Duration::from_secs(10))
            .expect("connect to exabgp");
        let s: TcpStream = sock.into();
        s.set_read_timeout(Some(Duration::from_secs(15)))
            .expect("read timeout");
        RawPeer { s }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).expect("write to exabgp");
    }

    /// One message: (type, body). Err on EOF or timeout.
    fn read(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut h = [0u8; 19];
        self.s.read_exact(&mut h)?;
        let len = u16::from_be_bytes([h[16], h[17]]) as usize;
        let mut body = vec![0u8; len.saturating_sub(19)];
        self.s.read_exact(&mut body)?;
        Ok((h[18], body))
    }

    /// OPEN from exabgp, our OPEN and KEEPALIVE, then exabgp's KEEPALIVE: Established.
    fn handshake(&mut self) {
        let (t, _) = self.read().expect("exabgp OPEN");
        assert_eq!(t, 1, "first message is OPEN");
        self.send(&message(1, &open_body()));
        self.send(&message(4, &[]));
        for _ in 0..10 {
            let (t, body) = self.read().expect("exabgp KEEPALIVE");
            assert_ne!(t, 3, "NOTIFICATION during handshake: {body:?}");
            if t == 4 {
                return;
            }
        }
        panic!("no KEEPALIVE from exabgp");
    }

    /// Reads until a NOTIFICATION (skipping KEEPALIVE/UPDATE) and returns (code,
    /// subcode); then checks exabgp closed the connection.
    fn notification(&mut self) -> (u8, u8) {
        for _ in 0..100 {
            let (t, body) = self.read().expect("NOTIFICATION from exabgp");
            if t == 3 {
                let mut rest = Vec::new();
                let closed = self.s.read_to_end(&mut rest).is_ok();
                assert!(
                    closed,
                    "exabgp did not close the connection after its NOTIFICATION"
                );
                return (body[0], body[1]);
            }
        }
        panic!("no NOTIFICATION from exabgp");
    }

    /// Reads for a second: only UPDATE/KEEPALIVE may arrive, no NOTIFICATION, no EOF.
    fn assert_still_up(&mut self) {
        self.s
            .set_read_timeout(Some(Duration::from_secs(1)))
            .expect("read timeout");
        loop {
            match self.read() {
                Ok((t, body)) => assert!(t == 2 || t == 4, "unexpected message type {t}: {body:?}"),
                Err(e) => {
                    let timeout = matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    );
                    assert!(timeout, "connection closed by exabgp: {e}");
                    break;
                }
            }
        }
        self.s
            .set_read_timeout(Some(Duration::from_secs(15)))
            .expect("read timeout");
    }

    /// Leaves politely (Cease) and waits for exabgp to close, so the next
    /// connection does not collide with this one.
    fn close(mut self) {
        self.send(&message(3, &[6, 2]));
        let mut rest = Vec::new();
        let _ = self.s.read_to_end(&mut rest);
    }
}

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
