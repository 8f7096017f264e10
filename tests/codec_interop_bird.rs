//! The packer against a second independent implementation: a real BIRD 2 on
//! loopback, with RFC 8654 extended messages negotiated. UPDATEs from
//! `pack_announce` larger than 4096 octets must be accepted whole, every prefix
//! must land in BIRD's table with our attributes, and `pack_withdraw` must empty
//! it again. Our Cease / Administrative Shutdown text must reach BIRD.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use exabgp::bgp::*;
use support::raw::connect_when_listening;
use support::{free_port, Bird};

fn loopback(last: u8) -> Ipv4Addr {
    let id = std::process::id();
    Ipv4Addr::new(127, 93, (id % 250) as u8 + 1, last)
}

/// `birdc CMD`: its output, or what it said went wrong.
fn birdc(bird: &Bird, cmd: &str) -> String {
    bird.birdc(&[cmd]).unwrap_or_else(|e| e)
}

/// Route count of one table from `show route count`, e.g. "3 of 3 routes for 3
/// networks in table master4".
fn route_count(bird: &Bird, table: &str) -> Option<usize> {
    let out = birdc(bird, &format!("show route count table {table}"));
    out.lines()
        .find(|l| l.contains(" routes for "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Polls until `table` holds `want` routes (at most 20 s).
fn wait_count(bird: &Bird, table: &str, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = route_count(bird, table);
        if got == Some(want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{table}: {got:?} routes, want {want}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn read_message(stream: &mut TcpStream, buf: &mut Vec<u8>, opts: &CodecOptions) -> Message {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some((m, n)) = decode_message(buf, opts).expect("BIRD sent a message we reject") {
            buf.drain(..n);
            return m;
        }
        assert!(Instant::now() < deadline, "no message from BIRD in 15 s");
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).expect("read from BIRD");
        assert!(n > 0, "BIRD closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[test]
fn bird_takes_extended_updates_and_withdraws() {
    let theirs = loopback(1);
    let ours = loopback(2);
    let port = free_port(theirs.into());
    let dir = tempfile::tempdir().unwrap();
    let bird = Bird::start(
        dir.path(),
        &format!(
            "router id 192.0.2.250;
protocol device {{ }}
protocol bgp peer {{
  local {theirs} port {port} as 65000;
  neighbor {ours} as 65000;
  passive on;
  # Listen on the local address only: the default, all addresses, collides with
  # any socket that happens to hold the same port number on any address.
  strict bind on;
  enable extended messages on;
  ipv4 {{ import all; export none; }};
  ipv6 {{ import all; export none; }};
}}
"
        ),
    );
    let mut stream = connect_when_listening(ours.into(), SocketAddr::from((theirs, port)), "BIRD");

    // OPEN exchange; the options come from both OPENs.
    let local = Open {
        version: 4,
        my_as: 65000,
        hold_time: 60,
        router_id: ours,
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::FourOctetAs(65000),
            Capability::ExtendedMessage,
        ],
    };
    let mut out = Vec::new();
    encode_message(
        &Message::Open(local.clone()),
        &CodecOptions::INITIAL,
        &mut out,
    )
    .unwrap();
    stream.write_all(&out).unwrap();
    let mut buf = Vec::new();
    let Message::Open(remote) = read_message(&mut stream, &mut buf, &CodecOptions::INITIAL) else {
        panic!("expected OPEN from BIRD")
    };
    let opts = CodecOptions::negotiate(&local, &remote);
    assert_eq!(
        opts,
        CodecOptions {
            four_octet_as: true,
            extended_message: true
        }
    );
    out.clear();
    encode_message(&Message::Keepalive, &opts, &mut out).unwrap();
    stream.write_all(&out).unwrap();
    assert_eq!(
        read_message(&mut stream, &mut buf, &opts),
        Message::Keepalive
    );

    // Announce: 30000 IPv4 /32 and 6000 IPv6 /64, in UPDATEs up to 65535 octets.
    let attrs = PathAttributes {
        origin: Some(Origin::Incomplete),
        as_path: Some(AsPath::sequence(vec![65010, 4_200_000_009])),
        med: Some(77),
        local_pref: Some(150),
        communities: vec!["65000:7".parse().unwrap(), Community::NO_EXPORT],
        large_communities: vec!["4200000000:7:8".parse().unwrap()],
        ext_communities: vec!["target:65000:7".parse().unwrap()],
        ..PathAttributes::default()
    };
    let v4: Vec<Prefix> = (0..30_000u32)
        .map(|i| Prefix::new(IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + i)), 32).unwrap())
        .collect();
    let v6: Vec<Prefix> = (0..6_000u128)
        .map(|i| {
            Prefix::new(
                IpAddr::V6(Ipv6Addr::from((0x2001_0db8u128 << 96) + (i << 64))),
                64,
            )
            .unwrap()
        })
        .collect();
    let mut msgs = Vec::new();
    let nh4 = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))];
    pack_announce(&attrs, Family::IPV4_UNICAST, &nh4, &v4, &opts, &mut msgs).unwrap();
    let nh6 = ["2001:db8::7".parse().unwrap()];
    pack_announce(&attrs, Family::IPV6_UNICAST, &nh6, &v6, &opts, &mut msgs).unwrap();
    assert!(
        msgs.iter().any(|m| m.len() > 60_000),
        "extended messages were used"
    );
    assert!(msgs.iter().all(|m| m.len() <= 65_535));
    for m in &msgs {
        stream.write_all(m).unwrap();
    }
    wait_count(&bird, "master4", v4.len());
    wait_count(&bird, "master6", v6.len());

    let route = birdc(&bird, "show route 10.0.117.47/32 all");
    for want in [
        "BGP.origin: Incomplete",
        "BGP.as_path: 65010 4200000009",
        "BGP.next_hop: 192.0.2.7",
        "BGP.med: 77",
        "BGP.local_pref: 150",
        "BGP.community: (65000,7) (65535,65281)",
        "BGP.ext_community: (rt, 65000, 7)",
        "BGP.large_community: (4200000000, 7, 8)",
    ] {
        assert!(route.contains(want), "missing {want:?} in:\n{route}");
    }

    // Withdraw everything.
    msgs.clear();
    pack_withdraw(Family::IPV4_UNICAST, &v4, &opts, &mut msgs).unwrap();
    pack_withdraw(Family::IPV6_UNICAST, &v6, &opts, &mut msgs).unwrap();
    for m in &msgs {
        stream.write_all(m).unwrap();
    }
    wait_count(&bird, "master4", 0);
    wait_count(&bird, "master6", 0);

    // RFC 9003 shutdown communication, as BIRD reports it.
    out.clear();
    let bye = Notification::cease_shutdown(2, "codec test done");
    encode_message(&Message::Notification(bye), &opts, &mut out).unwrap();
    stream.write_all(&out).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = birdc(&bird, "show protocols all peer");
        if status.contains("codec test done") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "BIRD did not report our shutdown text:\n{status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
