//! Connection collision (RFC 4271 §6.8) with a raw peer that both accepts exabgp's
//! connection and opens its own: the connection opened by the speaker with the
//! higher BGP identifier survives, the other gets Cease / Connection Collision
//! Resolution (6, 7).

mod support;

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::time::Duration;

use support::raw::*;
use support::*;

const EXA_AS: u32 = 65001;

/// Accepts exabgp's outbound connection (bounded wait).
fn accept(l: &TcpListener) -> RawPeer {
    l.set_nonblocking(true).unwrap();
    let s = wait_for(WAIT, || l.accept().ok().map(|(s, _)| s)).expect("exabgp connects to us");
    s.set_nonblocking(false).unwrap();
    RawPeer::from_stream(s)
}

#[test]
fn collision_keeps_the_connection_of_the_higher_identifier() {
    let dir = TestDir::new("collision");
    let exa_ip: IpAddr = loopback_addr(81).into();
    let raw_ip: IpAddr = loopback_addr(83).into();
    let listen_port = free_port(exa_ip);
    let raw_listener = TcpListener::bind((raw_ip, 0)).unwrap();
    let raw_port = raw_listener.local_addr().unwrap().port();
    let config = ExaConfig::new(EXA_AS)
        .connect_to(raw_ip, RAW_AS.into(), exa_ip, raw_port)
        .build();
    let mut exa = Exabgp::start(&dir.path, &config, Some((exa_ip, listen_port)));
    let exa_addr = SocketAddr::new(exa_ip, listen_port);

    // 1. Our identifier (192.0.2.200) is higher: exabgp must drop its own
    //    connection and continue on ours.
    let mut outbound = accept(&raw_listener);
    let (t, _) = outbound.read().expect("OPEN on exabgp's connection");
    assert_eq!(t, 1);
    let mut inbound = RawPeer::connect(raw_ip, exa_addr);
    std::thread::sleep(Duration::from_millis(300)); // let exabgp see both connections
    outbound.send(&message(
        1,
        &open_body_with(4, RAW_AS, 30, [192, 0, 2, 200]),
    ));
    assert_eq!(
        outbound.notification(),
        (6, 7),
        "exabgp log:\n{}",
        exa.log()
    );
    inbound.handshake_with(&open_body_with(4, RAW_AS, 30, [192, 0, 2, 200]));
    exa.expect_log(
        &format!("session with {raw_ip} established"),
        "session on our connection",
    );
    inbound.close();

    // 2. Our identifier (10.0.0.1) is lower: exabgp keeps its own connection and
    //    refuses ours.
    let mut outbound = accept(&raw_listener);
    let (t, _) = outbound.read().expect("OPEN on exabgp's connection");
    assert_eq!(t, 1);
    let mut inbound = RawPeer::connect(raw_ip, exa_addr);
    std::thread::sleep(Duration::from_millis(300));
    outbound.send(&message(1, &open_body_with(4, RAW_AS, 30, [10, 0, 0, 1])));
    assert_eq!(inbound.notification(), (6, 7), "exabgp log:\n{}", exa.log());
    outbound.keepalive_until_established();
    let established = wait_for(WAIT, || {
        (exa.log()
            .matches(&format!("session with {raw_ip} established"))
            .count()
            == 2)
            .then_some(())
    });
    assert!(established.is_some(), "{}", exa.log());
    exa.stop();
}
