//! AGGREGATOR text: the config's `aggregator = "..."` and the API's
//! `aggregator ( ... )` go through one parser (the codec's `FromStr`), so they
//! accept the same texts and read them as the same value. AS 0 is refused by both:
//! RFC 7607 forbids originating an AGGREGATOR with AS 0.

use exabgp::api::{parse_command, ApiCommand};
use exabgp::bgp::Aggregator;
use exabgp::control::Command;

/// What the config makes of `aggregator = "TEXT"`: the value, or None when refused.
fn from_config(text: &str) -> Option<Aggregator> {
    let file = format!(
        "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\n\
         [[neighbor]]\naddress = \"192.0.2.2\"\npeer-as = 65002\n\n\
         [[route]]\nprefix = \"10.0.0.0/24\"\nnext-hop = \"self\"\naggregator = \"{text}\"\n"
    );
    let config = exabgp::config::parse_str(&file, "t.toml").ok()?;
    config.routes[0].route.attributes.aggregator
}

/// What the API makes of `aggregator ( TEXT )`.
fn from_api(text: &str) -> Option<Aggregator> {
    let line = format!("announce route 10.0.0.0/24 next-hop self aggregator ( {text} )");
    match parse_command(&line) {
        Ok(ApiCommand::Control(Command::Announce { routes, .. })) => {
            routes[0].attributes.aggregator
        }
        _ => None,
    }
}

#[test]
fn config_and_api_accept_the_same_aggregator_texts() {
    let texts = [
        "65000:192.0.2.1",
        "1:10.0.0.1",
        "4294967295:198.51.100.7",
        "0:192.0.2.1",
        "4294967296:192.0.2.1",
        "65000",
        "65000:",
        ":192.0.2.1",
        "65000:2001:db8::1",
        "65000:192.0.2.256",
        "x:192.0.2.1",
        "-1:192.0.2.1",
        "+1:192.0.2.1",
        "0x10:192.0.2.1",
        "65000:192.0.2.1:1",
    ];
    for text in texts {
        assert_eq!(from_config(text), from_api(text), "{text}");
    }
    let a = Aggregator {
        asn: 65000,
        address: "192.0.2.1".parse().unwrap(),
    };
    assert_eq!(from_config("65000:192.0.2.1"), Some(a));
    assert_eq!(from_api("0:192.0.2.1"), None, "AS 0 is reserved (RFC 7607)");
}

/// The codec's text form prints every AGGREGATOR a peer can send (AS 0 included)
/// and parses it back: events show it in the form the config and API read.
#[test]
fn aggregator_text_parses_back() {
    for (asn, address) in [
        (65000, "192.0.2.1"),
        (0, "0.0.0.0"),
        (u32::MAX, "255.255.255.255"),
    ] {
        let a = Aggregator {
            asn,
            address: address.parse().unwrap(),
        };
        let text = a.to_string();
        assert_eq!(text, format!("{asn}:{address}"));
        assert_eq!(text.parse::<Aggregator>(), Ok(a));
        assert_eq!(exabgp::api::values::aggregator_text(&a), text);
    }
    let e = "65000".parse::<Aggregator>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid aggregator '65000': expected ASN:IPV4 such as \"65000:192.0.2.1\""
    );
}
