//! The codec against an independent implementation: a real gobgpd on loopback.
//! We speak BGP to it with nothing but `bgp::decode_message` / `encode_message` /
//! `pack_announce` over a blocking socket, then check (1) that what gobgpd sends
//! decodes to the attributes `gobgp global rib add` was given, and (2) that what
//! we pack shows up in `gobgp neighbor ... adj-in` with our attributes. Run once
//! as a NEW (4-octet AS) speaker and once as an OLD one, so gobgpd's AS4_PATH
//! handling checks ours in both directions.

mod support;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use exabgp::bgp::*;
use support::raw::connect_when_listening;
use support::{free_port, stdout_of, Proc};

/// A loopback address of our own, so parallel tests and helpers never collide.
fn loopback(last: u8) -> Ipv4Addr {
    let id = std::process::id();
    Ipv4Addr::new(127, 91, (id % 250) as u8 + 1, last)
}

struct Peer {
    _daemon: Proc,
    _dir: tempfile::TempDir,
    api: (Ipv4Addr, u16),
    stream: TcpStream,
    buf: Vec<u8>,
    opts: CodecOptions,
}

const AS: u32 = 65000;

impl Peer {
    fn gobgp(&self, args: &[&str]) -> String {
        stdout_of(
            Command::new("gobgp")
                .args(["-u", &self.api.0.to_string(), "-p", &self.api.1.to_string()])
                .args(args),
        )
        .unwrap_or_else(|e| panic!("gobgp {args:?}: {e}"))
    }

    /// The next message, waiting at most 15 s.
    fn recv(&mut self) -> Message {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some((m, n)) =
                decode_message(&self.buf, &self.opts).expect("gobgpd sent a message we reject")
            {
                self.buf.drain(..n);
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no complete message from gobgpd in 15 s"
            );
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read from gobgpd");
            assert!(n > 0, "gobgpd closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn send(&mut self, msg: &Message) {
        let mut out = Vec::new();
        encode_message(msg, &self.opts, &mut out).unwrap();
        self.stream.write_all(&out).unwrap();
    }

    /// Starts gobgpd (iBGP, AS 65000, passive toward us) and brings the session up.
    /// `new_speaker`: whether we advertise the 4-octet AS capability.
    fn start(new_speaker: bool) -> Peer {
        let theirs = loopback(if new_speaker { 1 } else { 3 });
        let ours = loopback(if new_speaker { 2 } else { 4 });
        let bgp_port = free_port(theirs.into());
        let api_port = free_port(theirs.into());
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            r#"[global.config]
  as = {AS}
  router-id = "{theirs}"
  port = {bgp_port}
  local-address-list = ["{theirs}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "{ours}"
    peer-as = {AS}
  [neighbors.transport.config]
    passive-mode = true
    local-address = "{theirs}"
  [neighbors.timers.config]
    hold-time = 30
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
"#
        );
        let path = dir.path().join("gobgpd.toml");
        std::fs::write(&path, config).unwrap();
        let mut cmd = Command::new("gobgpd");
        cmd.arg("-f")
            .arg(&path)
            .arg(format!("--api-hosts={theirs}:{api_port}"))
            .args(["--pprof-disable", "-p"]);
        let daemon = Proc::spawn("gobgpd", cmd, dir.path().join("gobgpd.log"));

        // Connect from our own address; gobgpd may need a moment to listen.
        let stream =
            connect_when_listening(ours.into(), SocketAddr::from((theirs, bgp_port)), "gobgpd");
        let mut peer = Peer {
            _daemon: daemon,
            _dir: dir,
            api: (theirs, api_port),
            stream,
            buf: Vec::new(),
            opts: CodecOptions::INITIAL,
        };

        let mut caps = vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
        ];
        if new_speaker {
            caps.push(Capability::FourOctetAs(AS));
        }
        peer.send(&Message::Open(Open {
            version: 4,
            my_as: AS,
            hold_time: 30,
            router_id: ours,
            capabilities: caps,
        }));
        let Message::Open(open) = peer.recv() else {
            panic!("expected OPEN from gobgpd")
        };
        assert_eq!(open.my_as, AS);
        assert!(open
            .capabilities
            .contains(&Capability::Multiprotocol(Family::IPV6_UNICAST)));
        assert!(open.capabilities.contains(&Capability::FourOctetAs(AS)));
        peer.opts.four_octet_as = new_speaker;
        peer.send(&Message::Keepalive);
        let m = peer.recv();
        assert_eq!(m, Message::Keepalive, "gobgpd should confirm the OPEN");
        peer
    }

    /// Reads until UPDATEs announced every wanted prefix; returns those UPDATEs.
    fn updates_for(&mut self, wanted: &[Prefix]) -> Vec<Update> {
        let mut got = Vec::new();
        let mut seen: Vec<Prefix> = Vec::new();
        for _ in 0..100 {
            if wanted.iter().all(|p| seen.contains(p)) {
                return got;
            }
            if let Message::Update(u) = self.recv() {
                assert_eq!(u.treat_as_withdraw, None, "{u:?}");
                seen.extend(&u.nlri);
                seen.extend(u.attributes.mp_reach.iter().flat_map(|m| m.nlri.iter()));
                got.push(u);
            }
        }
        panic!("gobgpd did not announce {wanted:?} within 100 messages");
    }

    /// Polls `gobgp neighbor OURS adj-in` until `prefix` is there; its attrs JSON.
    fn adj_in(&self, family: &str, prefix: &str) -> serde_json::Value {
        let ours = if self.opts.four_octet_as {
            loopback(2)
        } else {
            loopback(4)
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let out = self.gobgp(&["-j", "neighbor", &ours.to_string(), "adj-in", "-a", family]);
            let v: serde_json::Value =
                serde_json::from_str(&out).unwrap_or(serde_json::Value::Null);
            if let Some(paths) = v.get(prefix).and_then(|p| p.as_array()) {
                return paths[0]["attrs"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "gobgpd never accepted {prefix}: {out}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn attr(attrs: &serde_json::Value, type_code: u64) -> &serde_json::Value {
    attrs
        .as_array()
        .and_then(|a| a.iter().find(|x| x["type"] == type_code))
        .unwrap_or_else(|| panic!("attribute {type_code} missing in {attrs}"))
}

fn check_both_directions(new_speaker: bool) {
    let mut peer = Peer::start(new_speaker);

    // (1) gobgpd -> us.
    peer.gobgp(&[
        "global",
        "rib",
        "add",
        "10.0.0.0/24",
        "nexthop",
        "192.0.2.1",
        "community",
        "65000:1",
        "large-community",
        "65000:1:2",
        "med",
        "10",
        "origin",
        "igp",
        "aspath",
        "65010,4200000002",
        "rt",
        "65000:1",
        "-a",
        "ipv4",
    ]);
    peer.gobgp(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv6",
        "2001:db8:1::/48",
        "nexthop",
        "2001:db8::1",
        "local-pref",
        "200",
        "aspath",
        "4200000003",
    ]);
    let v4: Prefix = "10.0.0.0/24".parse().unwrap();
    let v6: Prefix = "2001:db8:1::/48".parse().unwrap();
    let updates = peer.updates_for(&[v4, v6]);
    let u4 = updates.iter().find(|u| u.nlri.contains(&v4)).unwrap();
    let a = &u4.attributes;
    assert_eq!(a.origin, Some(Origin::Igp));
    assert_eq!(
        a.as_path,
        Some(AsPath::sequence(vec![65010, 4_200_000_002])),
        "AS4 translation"
    );
    assert_eq!(a.next_hop, Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(a.med, Some(10));
    assert_eq!(a.communities, vec!["65000:1".parse().unwrap()]);
    assert_eq!(a.large_communities, vec!["65000:1:2".parse().unwrap()]);
    assert_eq!(a.ext_communities, vec!["target:65000:1".parse().unwrap()]);
    let u6 = updates
        .iter()
        .find(|u| {
            u.attributes
                .mp_reach
                .as_ref()
                .is_some_and(|m| m.nlri.contains(&v6))
        })
        .unwrap();
    let reach = u6.attributes.mp_reach.as_ref().unwrap();
    assert_eq!(reach.family, Family::IPV6_UNICAST);
    assert_eq!(reach.next_hops[0], "2001:db8::1".parse::<IpAddr>().unwrap());
    assert_eq!(u6.attributes.local_pref, Some(200));
    assert_eq!(
        u6.attributes.as_path,
        Some(AsPath::sequence(vec![4_200_000_003]))
    );

    // (2) us -> gobgpd, through pack_announce.
    let attrs = PathAttributes {
        origin: Some(Origin::Egp),
        as_path: Some(AsPath::sequence(vec![65010, 4_200_000_009])),
        med: Some(5),
        local_pref: Some(150),
        communities: vec!["65000:7".parse().unwrap(), Community::NO_EXPORT],
        large_communities: vec!["4200000000:7:8".parse().unwrap()],
        ext_communities: vec!["target:65000:7".parse().unwrap()],
        ..PathAttributes::default()
    };
    let prefixes: Vec<Prefix> = (0..600u32)
        .map(|i| Prefix::new(IpAddr::V4(Ipv4Addr::from(0xC633_0000 + (i << 4))), 28).unwrap())
        .collect();
    let mut msgs = Vec::new();
    let nh4 = [IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))];
    pack_announce(
        &attrs,
        Family::IPV4_UNICAST,
        &nh4,
        &prefixes,
        &peer.opts,
        &mut msgs,
    )
    .unwrap();
    let nh6 = ["2001:db8::7".parse().unwrap()];
    let p6: Prefix = "2001:db8:7::/48".parse().unwrap();
    pack_announce(
        &attrs,
        Family::IPV6_UNICAST,
        &nh6,
        &[p6],
        &peer.opts,
        &mut msgs,
    )
    .unwrap();
    for m in &msgs {
        peer.stream.write_all(m).unwrap();
    }
    for (family, prefix, nh) in [
        ("ipv4", prefixes[599].to_string(), "192.0.2.7"),
        ("ipv4", prefixes[0].to_string(), "192.0.2.7"),
        ("ipv6", p6.to_string(), "2001:db8::7"),
    ] {
        let got = peer.adj_in(family, &prefix);
        assert_eq!(attr(&got, 1)["value"], 1, "ORIGIN egp: {got}");
        assert_eq!(
            attr(&got, 2)["as_paths"][0]["asns"],
            serde_json::json!([65010, 4_200_000_009u32]),
            "AS_PATH (with AS4_PATH toward gobgpd when OLD): {got}"
        );
        assert_eq!(attr(&got, 4)["metric"], 5);
        assert_eq!(attr(&got, 5)["value"], 150);
        assert_eq!(
            attr(&got, 8)["communities"],
            serde_json::json!([0xFDE8_0007u32, 0xFFFF_FF01u32])
        );
        assert_eq!(attr(&got, 32)["value"][0]["ASN"], 4_200_000_000u32);
        let nh_attr = if family == "ipv4" {
            attr(&got, 3)["nexthop"].clone()
        } else {
            attr(&got, 14)["nexthop"].clone()
        };
        assert_eq!(nh_attr, nh, "{got}");
    }

    // (3) gobgpd's RFC 8203/9003 shutdown communication decodes to its text.
    let ours = if new_speaker {
        loopback(2)
    } else {
        loopback(4)
    };
    peer.gobgp(&[
        "neighbor",
        &ours.to_string(),
        "shutdown",
        "--reason",
        "maintenance ünd so",
    ]);
    for _ in 0..100 {
        if let Message::Notification(n) = peer.recv() {
            assert_eq!((n.code, n.subcode), (6, 2), "{n:?}");
            assert_eq!(n.shutdown_text().as_deref(), Some("maintenance ünd so"));
            return;
        }
    }
    panic!("no NOTIFICATION after 'gobgp neighbor shutdown'");
}

#[test]
fn gobgpd_as_new_speaker() {
    check_both_directions(true);
}

#[test]
fn gobgpd_as_old_speaker() {
    check_both_directions(false);
}
