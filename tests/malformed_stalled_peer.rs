//! A peer that completes the handshake and then stops reading: while exabgp is
//! blocked writing a large table to it, its Hold timer cannot run, so the write
//! itself is bounded by the hold time. The session must go down on its own
//! ("peer stopped reading"), and the daemon keeps serving commands meanwhile.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use exabgp::control::{Command, ControlReply};
use support::inproc::{distinct_routes, InProcess};
use support::raw::*;
use support::*;

#[test]
fn a_peer_that_stops_reading_is_dropped() {
    let exa_ip: IpAddr = loopback_addr(111).into();
    let raw_ip: IpAddr = loopback_addr(113).into();
    let listener = std::net::TcpListener::bind((exa_ip, 0)).unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let text = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("hold-time = 3")
        .build();
    let config = exabgp::config::parse_str(&text, "stall.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 20);
    let mut daemon = InProcess::start(config, vec![listener], events);

    let mut p = RawPeer::connect(raw_ip, addr);
    p.handshake_with(&open_body_with(4, RAW_AS, 3, [192, 0, 2, 77]));
    p.until_end_of_rib();
    // The peer stays alive: it sends a KEEPALIVE every second (it only stopped
    // reading), so the Hold timer never has a reason to expire and the session
    // can only end as "stopped reading". (Without them, under load, building the
    // 300k UPDATEs could take longer than the 3 s hold time and the Hold timer
    // expired first.) At most 90 KEEPALIVEs, or until the session is gone.
    let alive = p.s.try_clone().expect("clone the peer's socket");
    let keepalives = std::thread::spawn(move || {
        let mut alive = alive;
        for _ in 0..90 {
            if std::io::Write::write_all(&mut alive, &message(4, &[])).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });

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
    let status = status.expect("session with a peer that stopped reading never went down");
    let err = status.last_error.unwrap_or_default();
    assert!(err.contains("stopped reading"), "last error: {err}");
    // Closing both directions ends the KEEPALIVE thread's next write.
    let _ = p.s.shutdown(std::net::Shutdown::Both);
    drop(p);
    keepalives.join().expect("keepalive thread");

    assert_eq!(daemon.ctl.ask(Command::Shutdown), ControlReply::Done);
    let r = daemon.join(Duration::from_secs(15));
    assert!(matches!(r, Ok(Ok(Ok(())))), "{r:?}");
}
