//! Interop with a real BIRD 2 on loopback: the session comes up, the configured
//! routes (IPv4, and IPv6 over the IPv4 session) arrive with exactly the configured
//! attributes as `birdc show route all` prints them, the routes BIRD exports are
//! decoded and held, and SIGTERM sends a Cease (administrative shutdown) that BIRD
//! reports and after which it drops our routes.

mod support;

use std::net::IpAddr;

use support::*;

const EXA_AS: u32 = 65001;
const BIRD_AS: u32 = 65003;

fn bird_conf(dir: &std::path::Path, bird: IpAddr, port: u16, exa: IpAddr) -> String {
    format!(
        r#"
log "{log}" all;
router id 192.0.2.253;
protocol device {{ scan time 600; }}
# Routes BIRD sends to exabgp.
protocol static s4 {{ ipv4; route 10.98.0.0/24 blackhole; }}
protocol static s6 {{ ipv6; route 2001:db8:98::/48 blackhole; }}
protocol bgp exa {{
  local {bird} port {port} as {BIRD_AS};
  neighbor {exa} as {EXA_AS};
  passive on;
  # Listen on the local address only: the default, all addresses, collides with
  # any socket that happens to hold the same port number on any address.
  strict bind on;
  multihop;
  hold time 30;
  ipv4 {{ import all; export where proto = "s4"; next hop self; }};
  ipv6 {{ import all; export where proto = "s6"; next hop address 2001:db8::98; }};
}}
"#,
        log = dir.join("bird.log").display()
    )
}

fn exa_conf(exa: IpAddr, bird: IpAddr, port: u16) -> String {
    let rest = format!(
        r#"hold-time = 30
families = ["ipv4 unicast", "ipv6 unicast"]

[[route]]
prefix = "203.0.113.0/24"
next-hop = "192.0.2.10"
origin = "igp"
as-path = [65010]
med = 10
communities = ["65000:1", "no-export"]
large-communities = ["65000:1:2"]
extended-communities = ["target:65000:7"]

[[route]]
prefix = "198.51.100.0/24"
next-hop = "self"

[[route]]
prefix = "2001:db8:100::/48"
next-hop = "2001:db8::10"
origin = "egp"
as-path = [{EXA_AS}, 65020]
med = 20
communities = ["65000:2"]
large-communities = ["65000:3:4"]"#
    );
    ExaConfig::new(EXA_AS)
        .connect_to(bird, BIRD_AS, exa, port)
        .line(&rest)
        .build()
}

/// The `show route all` block of `prefix` (from its line to the next route).
fn route_block(all: &str, prefix: &str) -> Option<String> {
    let mut lines = all.lines().skip_while(|l| !l.starts_with(prefix));
    let first = lines.next()?;
    let mut block = vec![first.to_string()];
    block.extend(
        lines
            .take_while(|l| l.starts_with('\t') || l.starts_with(' '))
            .map(str::to_string),
    );
    Some(block.join("\n"))
}

#[test]
fn bird_session_routes_both_ways_and_cease_on_sigterm() {
    let dir = TestDir::new("bird");
    let exa_ip: IpAddr = loopback_addr(41).into();
    let bird_ip: IpAddr = loopback_addr(42).into();
    let port = free_port(bird_ip);
    let bird = Bird::start(&dir.path, &bird_conf(&dir.path, bird_ip, port, exa_ip));
    let mut exa = Exabgp::start(&dir.path, &exa_conf(exa_ip, bird_ip, port), None);
    let up = wait_for(WAIT, || bird.established("exa").then_some(()));
    assert!(
        up.is_some(),
        "BIRD session not established; exabgp log:\n{}\nbird: {:?}",
        exa.log(),
        bird.birdc(&["show", "protocols", "all", "exa"])
    );

    let show = |prefix: &str| {
        wait_for(WAIT, || {
            let all = bird
                .birdc(&["show", "route", "all", "protocol", "exa"])
                .ok()?;
            route_block(&all, prefix)
        })
        .unwrap_or_else(|| panic!("{prefix} not in BIRD; exabgp log:\n{}", exa.log()))
    };

    let v4 = show("203.0.113.0/24");
    for expected in [
        "BGP.origin: IGP",
        "BGP.as_path: 65001 65010",
        "BGP.next_hop: 192.0.2.10",
        "BGP.med: 10",
        "BGP.community: (65000,1) (65535,65281)",
        "BGP.ext_community: (rt, 65000, 7)",
        "BGP.large_community: (65000, 1, 2)",
    ] {
        assert!(v4.contains(expected), "missing {expected:?} in:\n{v4}");
    }
    // next-hop self: our local address on the session (local-address here).
    let own = show("198.51.100.0/24");
    assert!(
        own.contains(&format!("BGP.next_hop: {exa_ip}")),
        "next-hop self:\n{own}"
    );
    assert!(
        own.contains("BGP.origin: IGP") && own.contains("BGP.as_path: 65001\n"),
        "{own}"
    );
    let v6 = show("2001:db8:100::/48");
    for expected in [
        "BGP.origin: EGP",
        "BGP.as_path: 65001 65020",
        "BGP.next_hop: 2001:db8::10",
        "BGP.med: 20",
        "BGP.community: (65000,2)",
        "BGP.large_community: (65000, 3, 4)",
    ] {
        assert!(v6.contains(expected), "missing {expected:?} in:\n{v6}");
    }
    assert!(
        !v6.contains("ext_community"),
        "no extended community configured:\n{v6}"
    );

    // What BIRD exported to us was decoded and is held in the Adj-RIB-In.
    for prefix in ["10.98.0.0/24", "2001:db8:98::/48"] {
        exa.wait_received(prefix, "BIRD");
    }

    // ROUTE-REFRESH from BIRD (`reload in`): the whole table is sent again.
    bird.birdc(&["reload", "in", "exa"])
        .expect("birdc reload in");
    exa.expect_log("ROUTE-REFRESH received", "no ROUTE-REFRESH seen");
    let resent = wait_for(WAIT, || {
        (exa.log().matches("UPDATEs sent").count() >= 2).then_some(())
    });
    assert!(
        resent.is_some(),
        "table not re-sent after ROUTE-REFRESH:\n{}",
        exa.log()
    );

    // SIGTERM: exit 0; BIRD reports the administrative shutdown and drops our routes.
    exa.stop();
    let reported = wait_for(WAIT, || {
        let p = bird.birdc(&["show", "protocols", "all", "exa"]).ok()?;
        p.contains("Received: Administrative shutdown").then_some(p)
    });
    assert!(
        reported.is_some(),
        "BIRD did not report our Cease: {:?}\nbird log:\n{}",
        bird.birdc(&["show", "protocols", "all", "exa"]),
        std::fs::read_to_string(dir.path.join("bird.log")).unwrap_or_default()
    );
    let gone = wait_for(WAIT, || {
        let all = bird
            .birdc(&["show", "route", "all", "protocol", "exa"])
            .ok()?;
        route_block(&all, "203.0.113.0/24").is_none().then_some(())
    });
    assert!(gone.is_some(), "BIRD still has our route after the Cease");
}

/// An IPv6 transport (::1 on both sides): the session comes up over IPv6 and an
/// IPv6 route arrives with its configured next hop.
#[test]
fn bird_over_ipv6_transport() {
    let dir = TestDir::new("bird6");
    let ip: IpAddr = "::1".parse().unwrap();
    let port = free_port(ip);
    let conf = format!(
        r#"
log "{log}" all;
router id 192.0.2.252;
protocol device {{ scan time 600; }}
protocol bgp exa6 {{
  local ::1 port {port} as {BIRD_AS};
  neighbor ::1 as {EXA_AS};
  passive on;
  # Listen on the local address only: the default, all addresses, collides with
  # any socket that happens to hold the same port number on any address.
  strict bind on;
  multihop;
  ipv6 {{ import all; export none; }};
}}
"#,
        log = dir.path.join("bird.log").display()
    );
    let bird = Bird::start(&dir.path, &conf);
    let exa_conf = ExaConfig::new(EXA_AS)
        .neighbor(ip, BIRD_AS)
        .line(&format!("port = {port}\nfamilies = [\"ipv6 unicast\"]"))
        .route("2001:db8:600::/48", "2001:db8::60")
        .line("communities = [\"65000:6\"]")
        .build();
    let mut exa = Exabgp::start(&dir.path, &exa_conf, None);
    let up = wait_for(WAIT, || bird.established("exa6").then_some(()));
    assert!(
        up.is_some(),
        "not established over ::1; exabgp log:\n{}",
        exa.log()
    );
    let block = wait_for(WAIT, || {
        let all = bird
            .birdc(&["show", "route", "all", "protocol", "exa6"])
            .ok()?;
        route_block(&all, "2001:db8:600::/48")
    })
    .unwrap_or_else(|| panic!("route missing; exabgp log:\n{}", exa.log()));
    assert!(block.contains("BGP.next_hop: 2001:db8::60"), "{block}");
    assert!(block.contains("BGP.community: (65000,6)"), "{block}");
    exa.stop();
}
