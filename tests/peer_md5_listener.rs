//! TCP MD5 (RFC 2385) on the listening side: a passive neighbor with a password
//! only accepts a peer that signs its segments with that password. The peer here is
//! a raw socket keyed with the same setsockopt the daemon uses.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use support::raw::*;
use support::*;

fn connect_signed(src: IpAddr, dst: SocketAddr, key: Option<&str>) -> std::io::Result<RawPeer> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    sock.bind(&SocketAddr::new(src, 0).into())?;
    if let Some(k) = key {
        exabgp::system::md5::set_md5(&sock, dst.ip(), k.as_bytes())?;
    }
    sock.connect_timeout(&dst.into(), Duration::from_secs(3))?;
    Ok(RawPeer::from_stream(sock.into()))
}

#[test]
fn passive_neighbor_with_md5_accepts_only_signed_peers() {
    let dir = TestDir::new("md5listen");
    let exa_ip: IpAddr = loopback_addr(101).into();
    let raw_ip: IpAddr = loopback_addr(103).into();
    let config = ExaConfig::new(65001)
        .passive(raw_ip, RAW_AS.into())
        .line("md5-password = \"listen-key\"")
        .build();
    let (exa, dst) = Exabgp::start_listening(&dir.path, &config, exa_ip);

    // Unsigned and wrongly signed SYNs are dropped by the kernel: no connection.
    assert!(
        connect_signed(raw_ip, dst, None).is_err(),
        "unsigned connection accepted"
    );
    assert!(
        connect_signed(raw_ip, dst, Some("wrong")).is_err(),
        "wrong key accepted"
    );

    let mut p = connect_signed(raw_ip, dst, Some("listen-key")).expect("signed connection");
    p.handshake();
    exa.expect_log(
        &format!("session with {raw_ip} established"),
        "signed session",
    );
    p.close();
}
