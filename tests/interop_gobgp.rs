//! Interop with a real GoBGP (gobgpd) on loopback: the session comes up, every
//! configured route (IPv4, and IPv6 over the IPv4 session with multiprotocol)
//! arrives with exactly the configured attributes, routes GoBGP sends are decoded
//! and held, and SIGTERM sends a Cease (administrative shutdown) that makes GoBGP
//! drop our routes.

mod support;

use std::net::IpAddr;

use serde_json::{json, Value};
use support::*;

const EXA_AS: u32 = 65001;
const GOBGP_AS: u32 = 65000;

fn config(gobgp: &Gobgp, exa: IpAddr) -> String {
    let rest = format!(
        r#"hold-time = 30
families = ["ipv4 unicast", "ipv6 unicast"]

[[route]]
prefix = "203.0.113.0/24"
next-hop = "192.0.2.10"
origin = "igp"
as-path = [{EXA_AS}, 65010]
med = 10
local-preference = 200
communities = ["65000:1", "no-export"]
large-communities = ["65000:1:2"]
extended-communities = ["target:65000:7"]

[[route]]
prefix = "198.51.100.128/25"
next-hop = "192.0.2.11"
origin = "incomplete"

[[route]]
prefix = "2001:db8:100::/48"
next-hop = "2001:db8::10"
origin = "egp"
as-path = [65020]
med = 20
communities = ["65000:2"]
large-communities = ["65000:3:4"]"#
    );
    gobgp.exabgp_config(EXA_AS, exa).line(&rest).build()
}

fn as_path(attrs: &[Value]) -> Vec<u64> {
    gobgp_attr(attrs, 2)
        .and_then(|a| a.pointer("/as_paths/0/asns"))
        .and_then(|v| v.as_array())
        .map(|v| v.iter().filter_map(|x| x.as_u64()).collect())
        .unwrap_or_default()
}

fn num(attrs: &[Value], code: i64, field: &str) -> Option<u64> {
    gobgp_attr(attrs, code)?.get(field)?.as_u64()
}

#[test]
fn gobgp_session_routes_both_ways_and_cease_on_sigterm() {
    let (dir, exa_ip, gobgp) = gobgp_setup(
        "gobgp",
        11,
        EXA_AS,
        GOBGP_AS,
        &["ipv4-unicast", "ipv6-unicast"],
    );
    // Routes GoBGP will send us.
    gobgp.add_route(
        "10.99.0.0/24",
        "ipv4",
        "192.0.2.99",
        &["community", "65000:99"],
    );
    gobgp.add_route("2001:db8:99::/48", "ipv6", "2001:db8::99", &[]);

    let mut exa = Exabgp::start(&dir.path, &config(&gobgp, exa_ip), None);
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "session not established; exabgp log:\n{}\ngobgpd log:\n{}",
        exa.log(),
        gobgp.proc.log_text()
    );

    // IPv4 route with every attribute: as configured (AS path already starts with
    // our AS, so nothing is prepended), except LOCAL_PREF.
    let attrs =
        wait_for(WAIT, || gobgp.route_attrs("ipv4", "203.0.113.0/24")).unwrap_or_else(|| {
            panic!(
                "203.0.113.0/24 not in gobgp rib; exabgp log:\n{}",
                exa.log()
            )
        });
    assert_eq!(num(&attrs, 1, "value"), Some(0), "origin igp: {attrs:?}");
    assert_eq!(as_path(&attrs), vec![65001, 65010], "{attrs:?}");
    assert_eq!(
        gobgp_attr(&attrs, 3).and_then(|a| a.get("nexthop")),
        Some(&json!("192.0.2.10"))
    );
    assert_eq!(num(&attrs, 4, "metric"), Some(10), "med: {attrs:?}");
    // LOCAL_PREF is configured (200) but RFC 4271 §5.1.5 keeps it off eBGP sessions.
    assert!(
        gobgp_attr(&attrs, 5).is_none(),
        "LOCAL_PREF sent to an eBGP peer: {attrs:?}"
    );
    let communities = gobgp_attr(&attrs, 8)
        .and_then(|a| a.get("communities"))
        .cloned();
    assert_eq!(
        communities,
        Some(json!([(65000u64 << 16) | 1, 0xFFFF_FF01u64])),
        "{attrs:?}"
    );
    let large = gobgp_attr(&attrs, 32).and_then(|a| a.get("value")).cloned();
    assert_eq!(
        large,
        Some(json!([{"ASN": 65000, "LocalData1": 1, "LocalData2": 2}])),
        "{attrs:?}"
    );
    // Route target (type 0 = 2-octet AS specific, subtype 2).
    let ext = gobgp_attr(&attrs, 16).and_then(|a| a.get("value")).cloned();
    assert_eq!(
        ext,
        Some(json!([{"type": 0, "subtype": 2, "value": "65000:7"}])),
        "{attrs:?}"
    );

    // Minimal IPv4 route: no AS path configured -> [local-as] on eBGP; no MED,
    // LOCAL_PREF or communities invented.
    let attrs = wait_for(WAIT, || gobgp.route_attrs("ipv4", "198.51.100.128/25"))
        .expect("198.51.100.128/25");
    assert_eq!(
        num(&attrs, 1, "value"),
        Some(2),
        "origin incomplete: {attrs:?}"
    );
    assert_eq!(as_path(&attrs), vec![65001]);
    for absent in [4, 5, 8, 16, 32] {
        assert!(
            gobgp_attr(&attrs, absent).is_none(),
            "attribute {absent} not configured: {attrs:?}"
        );
    }

    // IPv6 over the IPv4 session (MP_REACH): our AS prepended to the configured path.
    let attrs =
        wait_for(WAIT, || gobgp.route_attrs("ipv6", "2001:db8:100::/48")).unwrap_or_else(|| {
            panic!(
                "2001:db8:100::/48 not in gobgp rib; exabgp log:\n{}",
                exa.log()
            )
        });
    assert_eq!(num(&attrs, 1, "value"), Some(1), "origin egp: {attrs:?}");
    assert_eq!(as_path(&attrs), vec![65001, 65020]);
    assert_eq!(num(&attrs, 4, "metric"), Some(20));
    let nh = gobgp_attr(&attrs, 14)
        .and_then(|a| a.get("nexthop"))
        .cloned();
    assert_eq!(nh, Some(json!("2001:db8::10")), "{attrs:?}");
    let communities = gobgp_attr(&attrs, 8)
        .and_then(|a| a.get("communities"))
        .cloned();
    assert_eq!(communities, Some(json!([(65000u64 << 16) | 2])));
    let large = gobgp_attr(&attrs, 32).and_then(|a| a.get("value")).cloned();
    assert_eq!(
        large,
        Some(json!([{"ASN": 65000, "LocalData1": 3, "LocalData2": 4}]))
    );

    // What GoBGP sent us was decoded and is held in the Adj-RIB-In.
    for prefix in ["10.99.0.0/24", "2001:db8:99::/48"] {
        exa.wait_received(prefix, "gobgp");
    }

    // SIGTERM: Cease to the peer, exit 0, and GoBGP withdraws what we announced.
    exa.stop();
    let gone = wait_for(WAIT, || {
        gobgp
            .route_attrs("ipv4", "203.0.113.0/24")
            .is_none()
            .then_some(())
    });
    assert!(gone.is_some(), "gobgp still has our route after shutdown");
    assert!(!gobgp.established(exa_ip));
    let neighbor = gobgp.neighbor(exa_ip).expect("gobgp neighbor json");
    let notifications = neighbor
        .pointer("/state/messages/received/notification")
        .and_then(|v| v.as_u64());
    assert_eq!(
        notifications,
        Some(1),
        "gobgp received our Cease: {neighbor}"
    );
    let cease_logged =
        gobgp.proc.wait_log("administrative shutdown", WAIT) || gobgp.proc.wait_log("code 6", WAIT);
    assert!(
        cease_logged,
        "gobgpd did not log the Cease; log:\n{}",
        gobgp.proc.log_text()
    );
}

/// TCP MD5 (RFC 2385): with the right password the session comes up and carries
/// routes; with a wrong one the kernel drops our segments and it never does.
#[test]
fn gobgp_tcp_md5() {
    let dir = TestDir::new("md5");
    let exa_ip: IpAddr = loopback_addr(71).into();
    let gobgp_ip: IpAddr = loopback_addr(72).into();
    let gobgp = Gobgp::start(
        &dir.path,
        gobgp_ip,
        GOBGP_AS,
        "192.0.2.254".parse().unwrap(),
        &[GobgpNeighbor {
            address: exa_ip,
            peer_as: EXA_AS,
            families: vec!["ipv4-unicast"],
            md5: Some("s3cret-md5"),
        }],
    );
    let config = |password: &str| {
        gobgp
            .exabgp_config(EXA_AS, exa_ip)
            .line(&format!("md5-password = \"{password}\""))
            .route("203.0.113.0/24", "192.0.2.10")
            .build()
    };

    // Wrong password first: no session within a few connect attempts.
    let wrong_dir = dir.subdir("wrong");
    let mut wrong = Exabgp::start(&wrong_dir, &config("not-the-password"), None);
    let attempted = wrong.proc.wait_log("state change", WAIT);
    assert!(attempted, "{}", wrong.log());
    let up = wait_for(std::time::Duration::from_secs(5), || {
        gobgp.established(exa_ip).then_some(())
    });
    assert!(up.is_none(), "session came up with a wrong MD5 password");
    assert!(
        !wrong
            .log()
            .contains(&format!("session with {gobgp_ip} established")),
        "{}",
        wrong.log()
    );
    wrong.stop();

    let mut exa = Exabgp::start(&dir.path, &config("s3cret-md5"), None);
    assert!(
        gobgp.wait_established(exa_ip, WAIT),
        "session with MD5 not established; exabgp log:\n{}",
        exa.log()
    );
    assert!(wait_for(WAIT, || gobgp.route_attrs("ipv4", "203.0.113.0/24")).is_some());
    exa.stop();
}

/// iBGP: the AS path goes out as configured (nothing prepended) and LOCAL_PREF 100
/// is added when the route has none; a configured one is kept.
#[test]
fn gobgp_ibgp_attributes() {
    let (dir, exa_ip, gobgp) = gobgp_setup("ibgp", 75, EXA_AS, EXA_AS, &["ipv4-unicast"]);
    let config = gobgp
        .exabgp_config(EXA_AS, exa_ip)
        .route("203.0.113.0/24", "192.0.2.10")
        .line("as-path = [65010]")
        .route("198.51.100.0/24", "192.0.2.11")
        .line("local-preference = 300")
        .build();
    let mut exa = Exabgp::start(&dir.path, &config, None);
    assert!(gobgp.wait_established(exa_ip, WAIT), "{}", exa.log());
    let a = wait_for(WAIT, || gobgp.route_attrs("ipv4", "203.0.113.0/24")).expect("route a");
    assert_eq!(as_path(&a), vec![65010], "{a:?}");
    assert_eq!(num(&a, 5, "value"), Some(100), "{a:?}");
    let b = wait_for(WAIT, || gobgp.route_attrs("ipv4", "198.51.100.0/24")).expect("route b");
    assert_eq!(as_path(&b), Vec::<u64>::new(), "{b:?}");
    assert_eq!(num(&b, 5, "value"), Some(300), "{b:?}");
    exa.stop();
}
