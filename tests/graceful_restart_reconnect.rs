//! Graceful restart (RFC 4724 §4.2) with a raw scripted peer over real TCP, for
//! what gobgpd and BIRD cannot be made to do: come back after a restart, send no
//! End-of-RIB, and go away again. The routes it never announced again must not
//! be kept stale once more (as BIRD does): they are purged at the second loss.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Command;

use support::raw::*;
use support::*;

const EXA_AS: u32 = 65001;

/// Our OPEN: ipv4 unicast, 4-octet AS, and Graceful Restart with a restart time
/// of 60 s and ipv4 unicast with the Forwarding State bit.
fn gr_open() -> Vec<u8> {
    let mut caps = vec![1, 4, 0, 1, 0, 1, 65, 4];
    caps.extend_from_slice(&u32::from(RAW_AS).to_be_bytes());
    caps.extend_from_slice(&[64, 6, 0x00, 60, 0, 1, 1, 0x80]);
    open_body_caps(&caps)
}

/// `exabgpcli show adj-rib in` of the daemon whose socket is in `dir`.
fn adj_rib_in(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_exabgpcli"))
        .arg("--socket")
        .arg(dir.join("exabgp.sock"))
        .args(["show", "adj-rib", "in"])
        .output()
        .expect("run exabgpcli");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_peer_back_without_end_of_rib_then_gone_again_loses_its_stale_routes() {
    let dir = TestDir::new("gr-reconnect");
    let exa_ip: IpAddr = loopback_addr(231).into();
    let raw_ip: IpAddr = loopback_addr(232).into();
    let port = free_port(exa_ip);
    let config = ExaConfig::new(EXA_AS)
        .passive(raw_ip, RAW_AS.into())
        .line("graceful-restart = 60")
        .build();
    let exa = Exabgp::start(&dir.path, &config, Some((exa_ip, port)));
    let exa_addr = SocketAddr::new(exa_ip, port);

    // 1. Up, one route, then the connection closes without a NOTIFICATION.
    let mut p = RawPeer::from_stream(connect_when_listening(raw_ip, exa_addr, "exabgp"));
    p.handshake_with(&gr_open());
    p.send(&message(2, &update_body(&valid_attrs(), &[24, 10, 76, 1])));
    let prefix = "10.76.1.0/24";
    let seen = wait_for(WAIT, || {
        adj_rib_in(&dir.path).contains(prefix).then_some(())
    });
    assert!(seen.is_some(), "route not received:\n{}", exa.log());
    drop(p);
    let stale = wait_for(WAIT, || {
        adj_rib_in(&dir.path).contains("(stale)").then_some(())
    });
    assert!(stale.is_some(), "not kept stale:\n{}", exa.log());

    // 2. Back (restarted, F bit set), no End-of-RIB, nothing announced: the route
    //    stays stale, waiting for End-of-RIB.
    let mut p = RawPeer::connect(raw_ip, exa_addr);
    let mut open = gr_open();
    let at = open.len() - 6;
    open[at] |= 0x80; // R bit
    p.handshake_with(&open);
    let up = format!("session with {raw_ip} established");
    let twice = wait_for(WAIT, || (exa.log().matches(&up).count() == 2).then_some(()));
    assert!(twice.is_some(), "not established again:\n{}", exa.log());
    assert!(adj_rib_in(&dir.path).contains("(stale)"));

    // 3. Gone again before its End-of-RIB: what it did not announce again goes
    //    now, not after another restart time (60 s, more than this wait).
    drop(p);
    let purged = wait_for(WAIT, || {
        (!adj_rib_in(&dir.path).contains(prefix)).then_some(())
    });
    assert!(
        purged.is_some(),
        "{prefix} kept stale across a second restart without End-of-RIB:\n{}\n{}",
        adj_rib_in(&dir.path),
        exa.log()
    );
    exa.expect_log("restarted again", "the purge was not logged");
}
