//! `announce flow route ...` / `withdraw flow route ...` in ExaBGP's block and
//! one-line spellings, parsed into the daemon's commands.

mod support;

use std::sync::Arc;

use exabgp::api::command::{parse_command, ApiCommand};
use exabgp::bgp::flow::FlowAction;
use exabgp::bgp::{AsPath, Community, FlowNlri, FlowRule, Origin, PathAttributes};
use exabgp::control::Command;
use exabgp::rib::FlowRoute;

fn rule(text: &str) -> FlowNlri {
    FlowNlri {
        rd: None,
        rule: FlowRule::parse(text, None).unwrap(),
    }
}

fn announce(line: &str) -> (Option<Vec<std::net::IpAddr>>, Vec<FlowRoute>) {
    match parse_command(line) {
        Ok(ApiCommand::Control(Command::AnnounceFlow { scope, rules })) => (scope, rules),
        other => panic!("{line}: {other:?}"),
    }
}

fn discard(nlri: FlowNlri) -> FlowRoute {
    FlowRoute {
        nlri,
        next_hop: None,
        attributes: Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            ext_communities: vec![FlowAction::DISCARD.to_ext_community()],
            ..Default::default()
        }),
    }
}

#[test]
fn block_and_one_line_forms_are_the_same_rule() {
    let want = discard(rule("source 10.0.0.1/32 destination-port =80 protocol tcp"));
    let block = announce(
        "announce flow route { match { source 10.0.0.1/32; destination-port =80; protocol tcp; } then { discard; } }",
    );
    let line = announce(
        "announce flow route source 10.0.0.1/32 destination-port =80 protocol tcp discard",
    );
    assert_eq!(block, (None, vec![want.clone()]));
    assert_eq!(line, block);
    // Lists, AND chains, every action word.
    let (_, r) = announce(
        "announce flow route { match { destination 192.0.2.0/24; port [ >=137&<=139 =8080 ]; tcp-flags [ syn ack ]; fragment [ is-fragment ]; } then { rate-limit 9600; mark 10; action sample; redirect 65000:100; community [ 65000:1 ]; } }",
    );
    assert_eq!(
        r[0].nlri,
        rule("destination 192.0.2.0/24 port [ >=137&<=139 =8080 ] tcp-flags [ syn ack ] fragment [ is-fragment ]")
    );
    assert_eq!(
        r[0].attributes.ext_communities,
        vec![
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
        ]
    );
    assert_eq!(r[0].attributes.communities, vec![Community::new(65000, 1)]);
    // ExaBGP: redirect to an address is redirect-to-nexthop with that next hop.
    let (_, r) = announce("announce flow route destination 2001:db8::/64 redirect 2001:db8::1");
    assert_eq!(r[0].next_hop, Some("2001:db8::1".parse().unwrap()));
    assert!(r[0].nlri.rule.ipv6);
}

#[test]
fn scoped_and_withdraw() {
    let (scope, _) =
        announce("neighbor 192.0.2.254 announce flow route destination 192.0.2.1/32 discard");
    assert_eq!(scope, Some(vec!["192.0.2.254".parse().unwrap()]));
    match parse_command(
        "neighbor 192.0.2.254 withdraw flow route { match { destination 192.0.2.1/32; } }",
    ) {
        Ok(ApiCommand::Control(Command::WithdrawFlow { scope, rules })) => {
            assert_eq!(scope, Some(vec!["192.0.2.254".parse().unwrap()]));
            assert_eq!(rules, vec![rule("destination 192.0.2.1/32")]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_say_what_is_wrong() {
    for (line, needle) in [
        ("announce flow route discard", "at least one match"),
        (
            "announce flow route destination 192.0.2.1/32 explode",
            "unknown word 'explode'",
        ),
        (
            "announce flow route { match { destination 192.0.2.1/32; }",
            "'{' without '}'",
        ),
        ("announce flow route destination-port =99999", "65535"),
        (
            "announce flow route destination 10.0.0.0/8 source 2001:db8::/32",
            "mixes IPv4 and IPv6",
        ),
        ("announce flow route destination 10.0.0.0/8 mark 64", "0-63"),
        (
            "announce flow rule destination 10.0.0.0/8",
            "expected 'flow route'",
        ),
    ] {
        match parse_command(line) {
            Err(e) => assert!(e.to_string().contains(needle), "{line}: {e}"),
            Ok(c) => panic!("{line}: accepted {c:?}"),
        }
    }
}

/// A rule for a family no targeted neighbor has is refused with the reason, not
/// kept and never sent (review: `announce flow route destination 2001:db8::/64
/// discard` to an IPv4-flow-only neighbor answered done and went nowhere).
#[test]
fn a_rule_no_neighbor_can_carry_is_refused() {
    let text = format!(
        "{}families = [\"ipv4 flow\"]\n",
        support::conf::PASSIVE_ONLY
    );
    let config = exabgp::config::parse_str(&text, "flow.toml").unwrap();
    let (events, _) = exabgp::control::event_channel(16, 1 << 30);
    let daemon = support::inproc::InProcess::start(config, Vec::new(), events);
    let ask = |line: &str| match parse_command(line) {
        Ok(ApiCommand::Control(c)) => daemon.ctl.ask(c),
        other => panic!("{line}: {other:?}"),
    };
    match ask("announce flow route destination 2001:db8::/64 discard") {
        exabgp::control::ControlReply::Error(e) => {
            assert!(e.contains("ipv6 flow"), "{e}")
        }
        other => panic!("accepted: {other:?}"),
    }
    assert_eq!(
        ask("announce flow route destination 10.0.0.0/24 discard"),
        exabgp::control::ControlReply::Done
    );
}
