//! `[[flow]]` tables: the model they build (rule, actions as extended
//! communities, scope) and every error with its `file:line:col`.

use std::sync::Arc;

use exabgp::bgp::flow::FlowAction;
use exabgp::bgp::PathAttributes;
use exabgp::bgp::{AsPath, Community, ExtCommunity, Family, FlowNlri, FlowRule, Origin};
use exabgp::config::parse_str;
use exabgp::rib::FlowRoute;

/// [global] + one neighbor with both flow families, 9 lines; cases from line 10.
const BASE: &str = r#"[global]
router-id = "192.0.2.1"
local-as = 65001

[[neighbor]]
address = "192.0.2.254"
peer-as = 65000
families = ["ipv4 unicast", "ipv4 flow", "ipv6 flow"]

"#;

fn errors(rest: &str) -> Vec<String> {
    match parse_str(&format!("{BASE}{rest}"), "t.toml") {
        Ok(c) => panic!("expected errors, got {:?}", c.flows),
        Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
    }
}

fn nlri(text: &str) -> FlowNlri {
    FlowNlri {
        rd: None,
        rule: FlowRule::parse(text, None).unwrap(),
    }
}

#[test]
fn rules_and_actions_build_the_model() {
    let text = format!(
        "{BASE}[[flow]]\n\
         match = {{ source = \"10.0.0.1/32\", destination-port = [\"=80\", \">=8080&<=8088\"], protocol = \"tcp\", dscp = 46 }}\n\
         then = {{ rate-limit = 9600, mark = 10, action = \"sample\", redirect = \"65000:100\", community = [\"65000:1\"], extended-community = [\"target:65000:1\"] }}\n\
         neighbors = [\"192.0.2.254\"]\n\
         [[flow]]\n\
         match = {{ destination = \"2001:db8::/48\", next-header = \"udp\" }}\n\
         then = {{ discard = true }}\n\
         [[flow]]\n\
         match = {{ destination = \"192.0.2.9/32\" }}\n\
         [flow.then]\n\
         redirect = \"192.0.2.1\"\n"
    );
    let c = parse_str(&text, "t.toml").unwrap();
    assert_eq!(c.flows.len(), 3);
    let base = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    };
    let a = &c.flows[0];
    assert_eq!(
        a.neighbors,
        vec!["192.0.2.254".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(
        a.route,
        FlowRoute {
            nlri: nlri(
                "source 10.0.0.1/32 protocol =tcp destination-port [ =80 >=8080&<=8088 ] dscp =46"
            ),
            next_hop: None,
            attributes: Arc::new(PathAttributes {
                communities: vec![Community::new(65000, 1)],
                ext_communities: vec![
                    FlowAction::RateBytes {
                        asn: 0,
                        rate: 9600.0
                    }
                    .to_ext_community(),
                    FlowAction::Mark { dscp: 10 }.to_ext_community(),
                    FlowAction::Action {
                        sample: true,
                        terminal: false
                    }
                    .to_ext_community(),
                    FlowAction::RedirectAs2 {
                        asn: 65000,
                        value: 100
                    }
                    .to_ext_community(),
                    ExtCommunity([0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 1]),
                ],
                ..base.clone()
            }),
        }
    );
    let b = &c.flows[1];
    assert_eq!(b.route.family(), Family::IPV6_FLOW);
    assert!(b.neighbors.is_empty());
    assert_eq!(
        b.route.attributes.ext_communities,
        vec![FlowAction::DISCARD.to_ext_community()]
    );
    // ExaBGP: `redirect ADDRESS` is redirect-to-nexthop with that next hop.
    let r = &c.flows[2].route;
    assert_eq!(r.next_hop, Some("192.0.2.1".parse().unwrap()));
    assert_eq!(
        r.attributes.ext_communities,
        vec![FlowAction::RedirectToNexthop { copy: false }.to_ext_community()]
    );
}

#[test]
fn errors_point_at_the_value() {
    assert_eq!(
        errors(
            "[[flow]]\n\
             match = { destination-port = \"=99999\", protocol = [\"tcp\", 3.5], sauce = \"x\" }\n\
             then = { discard = 1, mark = 64, action = \"loud\", redirect = \"x\" }\n"
        ),
        vec![
            "t.toml:11:30: destination-port: invalid flow match '=99999': value over 65535",
            "t.toml:11:59: wrong type for protocol: found a float, expected a string, an integer or an array of them, e.g. \"=80\" or [\">=1024&<=65535\", \"=80\"]",
            "t.toml:11:65: unknown key 'sauce' in [[flow]] match (did you mean 'source'?), expected one of: source, destination, protocol, next-header, port, destination-port, source-port, icmp-type, icmp-code, tcp-flags, packet-length, dscp, fragment, flow-label",
            "t.toml:12:20: wrong type for discard: found an integer, expected true or false",
            "t.toml:12:30: mark 64 is out of range, expected a DSCP value from 0 to 63",
            "t.toml:12:43: invalid flow action 'action loud': action takes sample, terminal or sample-terminal",
            "t.toml:12:62: invalid flow action 'redirect x': redirect takes ASN:NN or IPV4:NN here (an address alone sets the next hop: config/API)",
        ]
    );
}

#[test]
fn missing_tables_and_families() {
    assert_eq!(
        errors("[[flow]]\nneighbors = [\"192.0.2.254\"]\n"),
        vec![
            "t.toml:10:1: [[flow]] is missing 'match', expected the traffic to match, e.g. match = { destination = \"192.0.2.1/32\", destination-port = \"=80\" }",
            "t.toml:10:1: [[flow]] is missing 'then', expected the actions, e.g. then = { discard = true } or then = { rate-limit = 9600 }",
        ]
    );
    // A rule mixing families, and one no neighbor negotiates.
    let text = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\
                [[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65000\n\
                [[flow]]\nmatch = { destination = \"10.0.0.0/8\", source = \"2001:db8::/32\" }\nthen = { discard = true }\n\
                [[flow]]\nmatch = { destination = \"10.0.0.0/8\" }\nthen = { discard = true }\n";
    let got: Vec<String> = match parse_str(text, "t.toml") {
        Ok(_) => panic!("accepted"),
        Err(e) => e.diagnostics().iter().map(ToString::to_string).collect(),
    };
    assert_eq!(
        got,
        vec![
            "t.toml:8:9: match: invalid flow match '2001:db8::/32': mixes IPv4 and IPv6",
            "t.toml:10:1: no neighbor this rule goes to negotiates \"ipv4 flow\", expected \"ipv4 flow\" in their families",
        ]
    );
}
