//! Protocol error outcomes over real TCP, this test being the peer with a raw
//! socket and the daemon core running in this process:
//! - RFC 4271 §6.4: a malformed NOTIFICATION (bad length) is not answered; the
//!   connection is closed with no byte after it, in OpenSent and in Established;
//! - RFC 7606 §3: an attribute length overrun that may hide an MP_UNREACH_NLRI
//!   resets the session with UPDATE Message Error / Malformed Attribute List
//!   instead of a treat-as-withdraw that would drop the MP withdrawals.

mod support;

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::Duration;

use exabgp::control::{Command, ControlReply};
use support::inproc::InProcess;
use support::raw::*;
use support::*;

/// A daemon with one passive neighbor (`raw_ip`) listening on `exa_ip`.
fn daemon(exa_ip: IpAddr, raw_ip: IpAddr) -> (InProcess, SocketAddr) {
    let listener = TcpListener::bind((exa_ip, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001).passive(raw_ip, RAW_AS.into()).build();
    let config = exabgp::config::parse_str(&text, "protoerr.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    (InProcess::start(config, vec![listener], events), addr)
}

fn stop(mut d: InProcess) {
    assert_eq!(d.ctl.ask(Command::Shutdown), ControlReply::Done);
    let r = d.join(Duration::from_secs(15));
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}

/// Reads until exabgp closes the connection and returns every byte it sent first;
/// panics if it keeps the connection open for 15 s.
fn bytes_until_close(p: &mut RawPeer) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..1000 {
        match p.s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("exabgp did not close the connection: {e}; got {got:?}"),
        }
    }
    panic!("exabgp kept sending: {got:?}")
}

/// A NOTIFICATION of 20 octets (one short of the minimum, RFC 4271 §4.5).
fn short_notification() -> Vec<u8> {
    message(3, &[6])
}

#[test]
fn malformed_notification_in_open_sent_is_not_answered() {
    let raw_ip: IpAddr = loopback_addr(131).into();
    let (d, addr) = daemon(loopback_addr(130).into(), raw_ip);
    let mut p = RawPeer::connect(raw_ip, addr);
    let (t, _) = p.read().expect("exabgp OPEN");
    assert_eq!(t, 1);
    p.send(&short_notification());
    let after = bytes_until_close(&mut p);
    assert!(after.is_empty(), "exabgp answered: {after:?}");
    stop(d);
}

#[test]
fn malformed_notification_in_established_is_not_answered() {
    let raw_ip: IpAddr = loopback_addr(133).into();
    let (d, addr) = daemon(loopback_addr(132).into(), raw_ip);
    let mut p = RawPeer::connect(raw_ip, addr);
    // Hold time 0: no KEEPALIVE from exabgp can race with our message.
    p.handshake_with(&open_body_with(4, RAW_AS, 0, [192, 0, 2, 77]));
    p.until_end_of_rib();
    p.send(&short_notification());
    let after = bytes_until_close(&mut p);
    assert!(after.is_empty(), "exabgp answered: {after:?}");
    stop(d);
}

/// ORIGIN claims 12 octets; after its real value comes an MP_UNREACH_NLRI
/// withdrawing 203.0.113.0/24. Treat-as-withdraw would lose that withdrawal.
#[test]
fn overrun_hiding_an_mp_unreach_resets_the_session() {
    let raw_ip: IpAddr = loopback_addr(135).into();
    let (d, addr) = daemon(loopback_addr(134).into(), raw_ip);
    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake_with(&open_body_with(4, RAW_AS, 0, [192, 0, 2, 77]));
    p.until_end_of_rib();
    let attrs = [
        &[0x40, 1, 12, 0][..],
        &[0x80, 15, 7, 0, 1, 1, 24, 203, 0, 113],
    ]
    .concat();
    p.send(&message(2, &update_body(&attrs, &[])));
    assert_eq!(
        p.notification(),
        (3, 1),
        "UPDATE Message Error / Malformed Attribute List"
    );
    stop(d);
}
