//! The text command language: ExaBGP's syntax in, control::Command out; malformed
//! input gives an error whose text says what was wrong.

use std::net::IpAddr;
use std::sync::Arc;

use exabgp::api::{parse_command, parse_request, ApiCommand, ApiError};
use exabgp::bgp::{
    Aggregator, AsPath, AsSegment, Community, ExtCommunity, LargeCommunity, Origin, PathAttributes,
    Prefix,
};
use exabgp::control::{Command, RibDirection, ShowDetail};
use exabgp::rib::{NextHop, Route};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn pfx(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn base() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    }
}

fn announce(line: &str) -> (Option<Vec<IpAddr>>, Vec<Route>) {
    match parse_command(line) {
        Ok(ApiCommand::Control(Command::Announce { scope, routes })) => (scope, routes),
        other => panic!("{line}: {other:?}"),
    }
}

fn err(line: &str) -> String {
    match parse_command(line) {
        Err(e) => e.to_string(),
        Ok(c) => panic!("{line}: expected an error, got {c:?}"),
    }
}

#[test]
fn announce_route_minimal() {
    let (scope, routes) = announce("announce route 203.0.113.7/32 next-hop self");
    assert_eq!(scope, None);
    assert_eq!(
        routes,
        vec![Route {
            prefix: pfx("203.0.113.7/32"),
            next_hop: NextHop::SelfAddress,
            attributes: Arc::new(base()),
        }]
    );
}

#[test]
fn announce_route_every_attribute() {
    let (_, routes) = announce(
        "announce route 10.0.0.0/24 next-hop 192.0.2.1 origin egp as-path [ 65001 65010 ] \
         med 10 local-preference 200 community [65000:1 no-export] large-community [65000:1:2] \
         extended-community [target:65000:1 origin:192.0.2.1:5] atomic-aggregate \
         aggregator (65000:192.0.2.9) originator-id 192.0.2.7 cluster-list [192.0.2.8 192.0.2.9]",
    );
    let a = &routes[0].attributes;
    assert_eq!(routes[0].next_hop, NextHop::Address(ip("192.0.2.1")));
    assert_eq!(a.origin, Some(Origin::Egp));
    assert_eq!(a.as_path, Some(AsPath::sequence(vec![65001, 65010])));
    assert_eq!(a.med, Some(10));
    assert_eq!(a.local_pref, Some(200));
    assert_eq!(
        a.communities,
        vec![Community::new(65000, 1), Community::NO_EXPORT]
    );
    assert_eq!(
        a.large_communities,
        vec![LargeCommunity {
            global: 65000,
            local1: 1,
            local2: 2
        }]
    );
    assert_eq!(
        a.ext_communities,
        vec![
            "target:65000:1".parse::<ExtCommunity>().unwrap(),
            "origin:192.0.2.1:5".parse::<ExtCommunity>().unwrap()
        ]
    );
    assert!(a.atomic_aggregate);
    assert_eq!(
        a.aggregator,
        Some(Aggregator {
            asn: 65000,
            address: "192.0.2.9".parse().unwrap()
        })
    );
    assert_eq!(a.originator_id, Some("192.0.2.7".parse().unwrap()));
    assert_eq!(a.cluster_list.len(), 2);
}

#[test]
fn single_values_without_brackets_and_as_sets() {
    let (_, routes) = announce(
        "announce route 10.0.0.0/24 next-hop 192.0.2.1 as-path 65001 community 65000:7 \
         cluster-list 192.0.2.8 aggregator 1:192.0.2.1",
    );
    let a = &routes[0].attributes;
    assert_eq!(a.as_path, Some(AsPath::sequence(vec![65001])));
    assert_eq!(a.communities, vec![Community::new(65000, 7)]);
    assert_eq!(a.cluster_list.len(), 1);
    let (_, routes) =
        announce("announce route 10.0.0.0/24 next-hop 192.0.2.1 as-path [ 1 2 ( 3 4 ) 5 ]");
    assert_eq!(
        routes[0].attributes.as_path,
        Some(AsPath {
            segments: vec![
                AsSegment::Sequence(vec![1, 2]),
                AsSegment::Set(vec![3, 4]),
                AsSegment::Sequence(vec![5])
            ]
        })
    );
}

#[test]
fn ipv6_route() {
    let (_, routes) = announce("announce route 2001:db8:1::/48 next-hop 2001:db8::1 med 5");
    assert_eq!(routes[0].prefix, pfx("2001:db8:1::/48"));
    assert_eq!(routes[0].next_hop, NextHop::Address(ip("2001:db8::1")));
}

#[test]
fn neighbor_scoping() {
    let (scope, _) = announce("neighbor 192.0.2.254 announce route 10.0.0.0/8 next-hop self");
    assert_eq!(scope, Some(vec![ip("192.0.2.254")]));
    let (scope, _) =
        announce("neighbor 192.0.2.1,192.0.2.2 announce route 10.0.0.0/8 next-hop self");
    assert_eq!(scope, Some(vec![ip("192.0.2.1"), ip("192.0.2.2")]));
    // ExaBGP's selectors are accepted and ignored; their values are not addresses.
    let (scope, _) = announce(
        "neighbor 192.0.2.1 local-ip 192.0.2.100 local-as 65001 peer-as 65000 announce route \
         10.0.0.0/8 next-hop self",
    );
    assert_eq!(scope, Some(vec![ip("192.0.2.1")]));
    let (scope, _) = announce(
        "neighbor 192.0.2.1 local-as 65001, neighbor 2001:db8::2 announce route 10.0.0.0/8 next-hop self",
    );
    assert_eq!(scope, Some(vec![ip("192.0.2.1"), ip("2001:db8::2")]));
    assert_eq!(
        parse_command("neighbor 192.0.2.254 withdraw route 203.0.113.7/32").unwrap(),
        ApiCommand::Control(Command::Withdraw {
            scope: Some(vec![ip("192.0.2.254")]),
            prefixes: vec![pfx("203.0.113.7/32")]
        })
    );
}

#[test]
fn attributes_nlri_many_prefixes() {
    let (_, routes) = announce(
        "announce attributes next-hop 192.0.2.1 med 3 nlri 10.0.0.0/24 10.0.1.0/24 10.0.2.0/24",
    );
    assert_eq!(routes.len(), 3);
    assert!(routes.iter().all(|r| r.attributes.med == Some(3)));
    // One attribute set shared by every prefix of the line.
    assert!(Arc::ptr_eq(&routes[0].attributes, &routes[2].attributes));
    assert_eq!(
        parse_command("withdraw attributes nlri 10.0.0.0/24 10.0.1.0/24").unwrap(),
        ApiCommand::Control(Command::Withdraw {
            scope: None,
            prefixes: vec![pfx("10.0.0.0/24"), pfx("10.0.1.0/24")]
        })
    );
}

#[test]
fn withdraw_route_accepts_trailing_attributes() {
    assert_eq!(
        parse_command("withdraw route 10.0.0.0/24 next-hop 192.0.2.1").unwrap(),
        ApiCommand::Control(Command::Withdraw {
            scope: None,
            prefixes: vec![pfx("10.0.0.0/24")]
        })
    );
}

#[test]
fn show_commands() {
    let cases = [
        ("show neighbor", ShowDetail::Basic, None),
        ("show neighbor summary", ShowDetail::Summary, None),
        (
            "show neighbor extensive 192.0.2.1",
            ShowDetail::Extensive,
            Some(ip("192.0.2.1")),
        ),
        (
            "show neighbor 192.0.2.1 configuration",
            ShowDetail::Configuration,
            Some(ip("192.0.2.1")),
        ),
    ];
    for (line, detail, address) in cases {
        assert_eq!(
            parse_command(line).unwrap(),
            ApiCommand::Control(Command::ShowNeighbor { detail, address }),
            "{line}"
        );
    }
    assert_eq!(
        parse_command("show adj-rib out extensive").unwrap(),
        ApiCommand::Control(Command::ShowAdjRib {
            direction: RibDirection::Out,
            address: None
        })
    );
    assert_eq!(
        parse_command("show adj-rib in 192.0.2.1").unwrap(),
        ApiCommand::Control(Command::ShowAdjRib {
            direction: RibDirection::In,
            address: Some(ip("192.0.2.1"))
        })
    );
    let r = parse_request("show neighbor summary json").unwrap();
    assert!(r.json);
    assert!(!parse_request("show neighbor summary").unwrap().json);
}

#[test]
fn rib_and_session_commands() {
    assert_eq!(
        parse_command("flush adj-rib out").unwrap(),
        ApiCommand::Control(Command::FlushAdjRibOut { scope: None })
    );
    assert_eq!(
        parse_command("clear adj-rib in").unwrap(),
        ApiCommand::Control(Command::ClearAdjRib {
            scope: None,
            direction: RibDirection::In
        })
    );
    assert!(
        matches!(parse_command("clear adj-rib").unwrap(), ApiCommand::Batch(v) if v.len() == 2)
    );
    assert_eq!(
        parse_command("teardown 192.0.2.1").unwrap(),
        ApiCommand::Control(Command::Teardown {
            address: ip("192.0.2.1"),
            code: 2
        })
    );
    assert_eq!(
        parse_command("neighbor 192.0.2.1 teardown 4").unwrap(),
        ApiCommand::Control(Command::Teardown {
            address: ip("192.0.2.1"),
            code: 4
        })
    );
    assert_eq!(
        parse_command("shutdown").unwrap(),
        ApiCommand::Control(Command::Shutdown)
    );
    assert_eq!(parse_command("reload").unwrap(), ApiCommand::Reload);
    assert_eq!(parse_command("restart").unwrap(), ApiCommand::Restart);
    assert_eq!(parse_command("version").unwrap(), ApiCommand::Version);
    assert_eq!(parse_command("help").unwrap(), ApiCommand::Help);
}

#[test]
fn comments_and_blank_lines_are_nops() {
    for l in ["", "   ", "# a comment", "   # indented comment", "\t"] {
        assert_eq!(parse_command(l).unwrap(), ApiCommand::Nop, "{l:?}");
    }
}

#[test]
fn malformed_input_says_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        ("frobnicate", "unknown command 'frobnicate'"),
        (
            "announce route 10.0.0.1/24 next-hop self",
            "invalid prefix '10.0.0.1/24'",
        ),
        (
            "announce route 10.0.0.0/33 next-hop self",
            "invalid prefix '10.0.0.0/33'",
        ),
        (
            "announce route banana next-hop self",
            "invalid prefix 'banana'",
        ),
        ("announce route 10.0.0.0/24", "needs a next-hop"),
        (
            "announce route 10.0.0.0/24 next-hop 2001:db8::1",
            "is not of the family",
        ),
        (
            "announce route 10.0.0.0/24 next-hop nowhere",
            "invalid next-hop 'nowhere'",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self med ten",
            "invalid med 'ten'",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self med",
            "missing med value",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self origin bgp",
            "invalid origin 'bgp'",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self community [65536:1]",
            "invalid community '65536:1'",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self community [65000:1",
            "missing ']'",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self large-community 1:2",
            "invalid large community '1:2'",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self extended-community bogus:1:2",
            "invalid extended community",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self as-path [ 1 x ]",
            "invalid AS number 'x'",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self aggregator (65000)",
            "invalid aggregator",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self originator-id 2001:db8::1",
            "invalid originator-id",
        ),
        (
            "announce route 10.0.0.0/24 next-hop self split /25",
            "unknown attribute 'split'",
        ),
        ("announce attributes next-hop self", "needs 'nlri'"),
        (
            "announce flow route",
            "a flow route needs at least one match",
        ),
        (
            "neighbor banana announce route 10.0.0.0/8 next-hop self",
            "invalid IP address 'banana'",
        ),
        ("neighbor 192.0.2.1", "must be followed by"),
        ("show", "missing"),
        ("show adj-rib sideways", "expected 'in' or 'out'"),
        (
            "show neighbor sideways",
            "show neighbor: unexpected 'sideways'",
        ),
        ("teardown 192.0.2.1 999", "invalid teardown code '999'"),
        ("teardown 192.0.2.1 0", "invalid teardown code '0'"),
        ("teardown", "missing neighbor address"),
        ("shutdown now", "unexpected 'now'"),
        ("flush adj-rib in", "expected 'out'"),
    ];
    for (line, want) in cases {
        let got = err(line);
        assert!(
            got.contains(want),
            "{line:?}: got {got:?}, want it to contain {want:?}"
        );
    }
    assert!(matches!(
        parse_command("frobnicate"),
        Err(ApiError::Unknown(_))
    ));
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "\u{0}\u{1}\u{2}",
        "announce",
        "announce route",
        "[[[[",
        "]]]]",
        "neighbor , , , announce",
        "announce route 10.0.0.0/8 next-hop self as-path [ ( ( ]",
        "announce attributes nlri",
        "withdraw",
        "neighbor 1.2.3.4 local-as",
    ];
    for i in inputs {
        let _ = parse_command(i);
    }
}

/// `restart --hitless` (issue 13) is its own command; plain `restart` stays
/// ExaBGP's; anything else after `restart` is refused.
#[test]
fn restart_hitless() {
    for line in ["restart --hitless", "restart hitless", "RESTART --HITLESS"] {
        assert!(
            matches!(
                parse_command(line),
                Ok(ApiCommand::Control(Command::RestartHitless))
            ),
            "{line}"
        );
    }
    assert!(matches!(parse_command("restart"), Ok(ApiCommand::Restart)));
    assert!(parse_command("restart now").is_err());
    assert!(parse_command("restart --hitless now").is_err());
}
