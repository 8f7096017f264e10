//! ROUTE-REFRESH (RFC 2918, RFC 7313 subtypes) from a raw peer with IPv4 and IPv6
//! unicast negotiated: a request re-sends the routes of the requested family only;
//! a Beginning/End-of-RIB-Refresh marker and a request for a family the session
//! did not negotiate re-send nothing; the session stays up throughout.

mod support;

use std::io::ErrorKind;
use std::net::IpAddr;
use std::time::Duration;

use support::raw::*;
use support::*;

const EXA_AS: u32 = 65001;

/// OPEN from the raw peer: multiprotocol IPv4 and IPv6 unicast, route refresh,
/// 4-octet AS.
fn open_dual_stack() -> Vec<u8> {
    let mut caps = vec![1, 4, 0, 1, 0, 1, 1, 4, 0, 2, 0, 1, 2, 0, 65, 4];
    caps.extend_from_slice(&u32::from(RAW_AS).to_be_bytes());
    open_body_caps(&caps)
}

/// ROUTE-REFRESH for (afi, safi) with the RFC 7313 subtype.
fn refresh(afi: u16, subtype: u8, safi: u8) -> Vec<u8> {
    let mut body = afi.to_be_bytes().to_vec();
    body.push(subtype);
    body.push(safi);
    message(5, &body)
}

/// What one UPDATE announces: (IPv4 NLRI bytes, has MP_REACH_NLRI, is an
/// End-of-RIB of either family).
fn classify(body: &[u8]) -> (usize, bool, bool) {
    let wlen = u16::from_be_bytes([body[0], body[1]]) as usize;
    let alen = u16::from_be_bytes([body[2 + wlen], body[3 + wlen]]) as usize;
    let attrs = &body[4 + wlen..4 + wlen + alen];
    let nlri = body.len() - 4 - wlen - alen;
    let (mut reach, mut unreach_only) = (false, alen > 0);
    let mut i = 0;
    while i + 2 < attrs.len() {
        let (flags, code) = (attrs[i], attrs[i + 1]);
        let (len, head) = if flags & 0x10 != 0 {
            (u16::from_be_bytes([attrs[i + 2], attrs[i + 3]]) as usize, 4)
        } else {
            (attrs[i + 2] as usize, 3)
        };
        reach |= code == 14;
        unreach_only &= code == 15;
        i += head + len;
    }
    let eor = wlen == 0 && nlri == 0 && (alen == 0 || unreach_only);
    (nlri, reach, eor)
}

/// The UPDATEs exabgp sends until it has been silent (but for KEEPALIVEs) for
/// `quiet`; at most 100 messages.
fn updates_until_quiet(p: &mut RawPeer, quiet: Duration) -> Vec<Vec<u8>> {
    p.s.set_read_timeout(Some(quiet)).expect("read timeout");
    let mut got = Vec::new();
    for _ in 0..100 {
        match p.read() {
            Ok((2, body)) => got.push(body),
            Ok((4, _)) => {}
            Ok((t, body)) => panic!("unexpected message type {t}: {body:?}"),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("connection lost: {e}"),
        }
    }
    p.s.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout");
    got
}

#[test]
fn route_refresh_resends_the_requested_family_only() {
    let dir = TestDir::new("refresh");
    let exa_ip: IpAddr = loopback_addr(111).into();
    let raw_ip: IpAddr = loopback_addr(113).into();
    // Two IPv4 routes with different attributes (two UPDATEs), one IPv6 route.
    let config = ExaConfig::new(EXA_AS)
        .passive(raw_ip, RAW_AS.into())
        .line("families = [\"ipv4 unicast\", \"ipv6 unicast\"]")
        .route("203.0.113.0/24", "192.0.2.10")
        .line("med = 1")
        .route("198.51.100.0/24", "192.0.2.11")
        .line("med = 2")
        .route("2001:db8:100::/48", "2001:db8::10")
        .build();
    let (exa, dst) = Exabgp::start_listening(&dir.path, &config, exa_ip);
    let mut p = RawPeer::connect(raw_ip, dst);
    p.handshake_with(&open_dual_stack());
    exa.expect_log(&format!("session with {raw_ip} established"), "session up");

    // The initial table: 2 IPv4 UPDATEs, 1 IPv6 UPDATE, 2 End-of-RIBs.
    let initial = updates_until_quiet(&mut p, Duration::from_millis(1500));
    let kinds: Vec<(usize, bool, bool)> = initial.iter().map(|b| classify(b)).collect();
    assert_eq!(
        kinds.iter().filter(|(n, _, _)| *n > 0).count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|(_, r, _)| *r).count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|(_, _, e)| *e).count(), 2, "{kinds:?}");

    // IPv4 request: the two IPv4 UPDATEs again, nothing of IPv6.
    p.send(&refresh(1, 0, 1));
    let v4: Vec<_> = updates_until_quiet(&mut p, Duration::from_millis(1500))
        .iter()
        .map(|b| classify(b))
        .collect();
    assert_eq!(v4.len(), 2, "after an IPv4 refresh: {v4:?}\n{}", exa.log());
    assert!(v4.iter().all(|(n, r, _)| *n > 0 && !r), "{v4:?}");

    // IPv6 request: the IPv6 UPDATE only.
    p.send(&refresh(2, 0, 1));
    let v6: Vec<_> = updates_until_quiet(&mut p, Duration::from_millis(1500))
        .iter()
        .map(|b| classify(b))
        .collect();
    assert_eq!(v6.len(), 1, "after an IPv6 refresh: {v6:?}\n{}", exa.log());
    assert!(v6[0].1 && v6[0].0 == 0, "{v6:?}");

    // RFC 7313 BoRR / EoRR markers, and IPv4 multicast (not negotiated): nothing.
    p.send(&refresh(1, 1, 1));
    p.send(&refresh(1, 2, 1));
    p.send(&refresh(1, 0, 2));
    let none = updates_until_quiet(&mut p, Duration::from_millis(1500));
    assert!(
        none.is_empty(),
        "re-sent on a marker or an unknown family: {none:?}"
    );
    exa.expect_log("ROUTE-REFRESH marker received", "marker logged");
    exa.expect_log(
        "ROUTE-REFRESH for a family not negotiated",
        "unknown family logged",
    );
    p.assert_still_up();
    p.close();
}
