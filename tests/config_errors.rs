//! Every configuration error the parser reports, with its exact position and text.
//!
//! Each case is a small file; the expected `t.toml:LINE:COL: message` lines were
//! worked out by hand from the text (line and column of the offending key or value).

use exabgp::config::{load, parse_str, ConfigError};

/// The rendered diagnostics of a text that must fail.
fn errors(text: &str) -> Vec<String> {
    match parse_str(text, "t.toml") {
        Ok(c) => panic!("expected errors, got a config: {c:?}"),
        Err(e) => {
            assert_eq!(e.exit_code(), 78);
            // Display is the same lines joined by newlines.
            let lines: Vec<String> = e.diagnostics().iter().map(ToString::to_string).collect();
            assert_eq!(e.to_string(), lines.join("\n"));
            lines
        }
    }
}

/// [global] + one IPv4 neighbor, 8 lines; cases append from line 9.
const BASE: &str = r#"[global]
router-id = "192.0.2.1"
local-as = 65001

[[neighbor]]
address = "192.0.2.254"
peer-as = 65000

"#;

fn with_base(rest: &str) -> String {
    format!("{BASE}{rest}")
}

#[test]
fn base_is_valid() {
    assert!(parse_str(BASE, "t.toml").is_ok());
}

#[test]
fn unknown_top_level_key() {
    assert_eq!(
        errors(&format!("neighbour = 1\n{BASE}")),
        vec!["t.toml:1:1: unknown key 'neighbour' in the top level (did you mean 'neighbor'?), expected one of: global, neighbor, route, flow, process"]
    );
}

#[test]
fn unknown_section_points_at_its_name() {
    assert_eq!(
        errors(&with_base("[neighbour]\nx = 1\n")),
        vec!["t.toml:9:2: unknown key 'neighbour' in the top level (did you mean 'neighbor'?), expected one of: global, neighbor, route, flow, process"]
    );
}

#[test]
fn unknown_neighbor_key_with_suggestion() {
    let text = with_base(
        "[[neighbor]]\naddress = \"192.0.2.253\"\npeer-as = 65000\nhold_time = 30\nbogus = true\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:12:1: unknown key 'hold_time' in [[neighbor]] (did you mean 'hold-time'?), expected one of: address, description, peer-as, local-as, router-id, local-address, port, hold-time, passive, families, md5-password, max-prefix, max-prefix-warning-only, max-prefix-restart-after, max-prefix-warning-threshold, graceful-restart",
            "t.toml:13:1: unknown key 'bogus' in [[neighbor]], expected one of: address, description, peer-as, local-as, router-id, local-address, port, hold-time, passive, families, md5-password, max-prefix, max-prefix-warning-only, max-prefix-restart-after, max-prefix-warning-threshold, graceful-restart",
        ]
    );
}

#[test]
fn unknown_keys_in_global_route_process() {
    let text = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\nasn = 1\n\
                [[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65000\n\
                [[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\ncommunity = []\n\
                [[process]]\nname = \"a\"\nrun = [\"/bin/true\"]\nargs = []\n";
    assert_eq!(
        errors(text),
        vec![
            "t.toml:4:1: unknown key 'asn' in [global], expected one of: router-id, local-as",
            "t.toml:11:1: unknown key 'community' in [[route]] (did you mean 'communities'?), expected one of: prefix, next-hop, origin, as-path, med, local-preference, communities, large-communities, extended-communities, atomic-aggregate, aggregator, originator-id, cluster-list, neighbors",
            "t.toml:15:1: unknown key 'args' in [[process]], expected one of: name, run, encoder, receive, respawn-limit, respawn-window",
        ]
    );
}

#[test]
fn wrong_types() {
    let text = "[global]\nrouter-id = 3\nlocal-as = 65001\n\
                [[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = \"65000\"\npassive = \"yes\"\nfamilies = \"ipv4 unicast\"\n";
    assert_eq!(
        errors(text),
        vec![
            "t.toml:2:13: wrong type for router-id: found an integer, expected a non-zero IPv4 address as a string, e.g. \"192.0.2.1\"",
            "t.toml:6:11: wrong type for peer-as: found a string, expected an AS number from 1 to 4294967295",
            "t.toml:7:11: wrong type for passive: found a string, expected true or false",
            "t.toml:8:12: wrong type for families: found a string, expected an array of \"ipv4 unicast\", \"ipv6 unicast\", \"ipv4 flow\", \"ipv6 flow\", \"ipv4 flow-vpn\" or \"ipv6 flow-vpn\"",
        ]
    );
}

#[test]
fn wrong_section_shapes() {
    let text = "[[global]]\nrouter-id = \"192.0.2.1\"\n[neighbor]\naddress = \"192.0.2.254\"\n";
    assert_eq!(
        errors(text),
        vec![
            "t.toml:1:1: wrong type for global: found an array, expected a table: write [global]",
            "t.toml:3:1: wrong type for neighbor: found a table, expected an array of tables: write [[neighbor]]",
        ]
    );
}

#[test]
fn bad_ip_addresses() {
    let text = with_base(
        "[[neighbor]]\naddress = \"192.0.2.300\"\npeer-as = 65000\n\
         [[neighbor]]\naddress = \"192.0.2.9\"\npeer-as = 65000\nlocal-address = \"fe80::zz\"\nrouter-id = \"2001:db8::1\"\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:10:11: invalid IP address \"192.0.2.300\" for address, expected an IPv4 or IPv6 address such as 192.0.2.1 or 2001:db8::1",
            "t.toml:15:17: invalid IP address \"fe80::zz\" for local-address, expected an IPv4 or IPv6 address such as 192.0.2.1 or 2001:db8::1",
            "t.toml:16:13: router-id \"2001:db8::1\" is an IPv6 address, expected a non-zero IPv4 address as a string, e.g. \"192.0.2.1\"",
        ]
    );
}

#[test]
fn router_id_zero() {
    let text = "[global]\nrouter-id = \"0.0.0.0\"\nlocal-as = 65001\n";
    assert_eq!(
        errors(text),
        vec!["t.toml:2:13: router-id 0.0.0.0 is not allowed, expected a non-zero IPv4 address as a string, e.g. \"192.0.2.1\""]
    );
}

#[test]
fn bad_prefixes() {
    let text = with_base(
        "[[route]]\nprefix = \"203.0.113.1/24\"\nnext-hop = \"self\"\n\
         [[route]]\nprefix = \"203.0.113.0/33\"\nnext-hop = \"self\"\n\
         [[route]]\nprefix = \"2001:db8::/129\"\nnext-hop = \"self\"\n\
         [[route]]\nprefix = \"nonsense\"\nnext-hop = \"self\"\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:10:10: invalid prefix \"203.0.113.1/24\": host bits are set, expected \"203.0.113.0/24\"",
            "t.toml:13:10: invalid prefix \"203.0.113.0/33\": length \"33\" is not valid for IPv4, expected 0 to 32",
            "t.toml:16:10: invalid prefix \"2001:db8::/129\": length \"129\" is not valid for IPv6, expected 0 to 128",
            "t.toml:19:10: invalid prefix \"nonsense\", expected ADDRESS/LENGTH such as 203.0.113.0/24 or 2001:db8::/32",
        ]
    );
}

#[test]
fn next_hop_of_the_wrong_family() {
    let text = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\
                [[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65000\nfamilies = [\"ipv4 unicast\", \"ipv6 unicast\"]\n\
                [[route]]\nprefix = \"2001:db8::/32\"\nnext-hop = \"192.0.2.1\"\n\
                [[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"2001:db8::1\"\n\
                [[route]]\nprefix = \"2001:db8:1::/48\"\nnext-hop = \"self\"\n\
                [[route]]\nprefix = \"10.1.0.0/16\"\nnext-hop = \"0.0.0.0\"\n";
    assert_eq!(
        errors(text),
        vec![
            "t.toml:10:12: next-hop 192.0.2.1 is IPv4 but prefix 2001:db8::/32 is IPv6, expected an IPv6 address or \"self\"",
            "t.toml:13:12: next-hop 2001:db8::1 is IPv6 but prefix 10.0.0.0/8 is IPv4, expected an IPv4 address or \"self\"",
            "t.toml:19:12: next-hop 0.0.0.0 is not a usable address, expected a unicast address or \"self\"",
        ]
    );
}

#[test]
fn duplicate_neighbors_point_at_the_second() {
    let text = with_base("[[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65002\n");
    assert_eq!(
        errors(&text),
        vec!["t.toml:10:11: duplicate neighbor 192.0.2.254 (first defined at line 6), expected each neighbor address once"]
    );
}

#[test]
fn route_naming_an_unknown_neighbor() {
    let text = with_base("[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nneighbors = [\"192.0.2.254\", \"192.0.2.9\"]\n");
    assert_eq!(
        errors(&text),
        vec!["t.toml:12:29: neighbors names 192.0.2.9, which is not a configured neighbor, expected one of: 192.0.2.254"]
    );
}

#[test]
fn route_with_empty_neighbors() {
    let text =
        with_base("[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nneighbors = []\n");
    assert_eq!(
        errors(&text),
        vec!["t.toml:12:13: neighbors is empty, expected at least one neighbor address (omit it to send to every neighbor)"]
    );
}

#[test]
fn route_family_not_negotiated() {
    let text = with_base(
        "[[neighbor]]\naddress = \"2001:db8::2\"\npeer-as = 65002\n\
         [[route]]\nprefix = \"2001:db8:5::/48\"\nnext-hop = \"self\"\nneighbors = [\"192.0.2.254\"]\n\
         [[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nneighbors = [\"2001:db8::2\"]\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:13:10: route 2001:db8:5::/48 is ipv6 unicast but none of its neighbors (192.0.2.254) negotiates ipv6 unicast, expected \"ipv6 unicast\" in the families of one of them",
            "t.toml:17:10: route 10.0.0.0/8 is ipv4 unicast but none of its neighbors (2001:db8::2) negotiates ipv4 unicast, expected \"ipv4 unicast\" in the families of one of them",
        ]
    );
    // Unscoped: no neighbor at all has the family.
    let text = with_base("[[route]]\nprefix = \"2001:db8::/32\"\nnext-hop = \"self\"\n");
    assert_eq!(
        errors(&text),
        vec!["t.toml:10:10: route 2001:db8::/32 is ipv6 unicast but no neighbor negotiates ipv6 unicast, expected a [[neighbor]] whose families include \"ipv6 unicast\""]
    );
    // No neighbor at all.
    let text = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 1\n[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n";
    assert_eq!(
        errors(text),
        vec!["t.toml:5:10: route 10.0.0.0/8 has no neighbor to go to, expected a [[neighbor]] whose families include \"ipv4 unicast\""]
    );
}

#[test]
fn hold_time_one_or_two() {
    for n in [1, 2] {
        let text = with_base(&format!(
            "[[neighbor]]\naddress = \"192.0.2.9\"\npeer-as = 65000\nhold-time = {n}\n"
        ));
        assert_eq!(
            errors(&text),
            vec![format!("t.toml:12:13: hold-time {n} is not allowed, expected 0 (no keepalives) or 3 to 65535 seconds")]
        );
    }
    let text =
        with_base("[[neighbor]]\naddress = \"192.0.2.9\"\npeer-as = 65000\nhold-time = 65536\n");
    assert_eq!(
        errors(&text),
        vec!["t.toml:12:13: hold-time 65536 is out of range, expected 0 (no keepalives) or 3 to 65535 seconds"]
    );
    for ok in [0, 3, 65535] {
        let text = with_base(&format!(
            "[[neighbor]]\naddress = \"192.0.2.9\"\npeer-as = 65000\nhold-time = {ok}\n"
        ));
        let c = parse_str(&text, "t.toml").unwrap();
        assert_eq!(c.neighbors[1].hold_time, ok);
    }
}

/// RFC 4724 §3: the Restart Time is a 12-bit field.
#[test]
fn graceful_restart_time_range() {
    for bad in ["4096", "-1", "true"] {
        let text = with_base(&format!(
            "[[neighbor]]\naddress = \"192.0.2.9\"\npeer-as = 65000\ngraceful-restart = {bad}\n"
        ));
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{bad}: {e:?}");
        assert!(
            e[0].starts_with("t.toml:12:20: ") && e[0].contains("0 to 4095 seconds"),
            "{bad}: {e:?}"
        );
    }
    for ok in [0u16, 120, 4095] {
        let text = with_base(&format!(
            "[[neighbor]]\naddress = \"192.0.2.9\"\npeer-as = 65000\ngraceful-restart = {ok}\n"
        ));
        let c = parse_str(&text, "t.toml").unwrap();
        assert_eq!(c.neighbors[1].graceful_restart, Some(ok));
        assert_eq!(c.neighbors[0].graceful_restart, None, "off by default");
    }
}

#[test]
fn as_zero_and_out_of_range() {
    let text = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 0\n\
                [[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 4294967296\nlocal-as = -1\n\
                [[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\nas-path = [65000, 0]\naggregator = \"0:192.0.2.1\"\n";
    assert_eq!(
        errors(text),
        vec![
            "t.toml:3:12: local-as 0 is reserved, expected an AS number from 1 to 4294967295",
            "t.toml:6:11: peer-as 4294967296 is out of range, expected an AS number from 1 to 4294967295",
            "t.toml:7:12: local-as -1 is out of range, expected an AS number from 1 to 4294967295",
            "t.toml:11:19: as-path AS 0 is reserved, expected an AS number from 1 to 4294967295",
            "t.toml:12:14: aggregator AS 0 is reserved, expected an AS number from 1 to 4294967295",
        ]
    );
}

#[test]
fn missing_router_id_and_local_as() {
    // No [global], and the neighbor has no override: reported at its header.
    let text = "[[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65000\n";
    assert_eq!(
        errors(text),
        vec![
            "t.toml:1:1: [[neighbor]] is missing 'local-as', expected local-as = 65001 here or in [global]",
            "t.toml:1:1: [[neighbor]] is missing 'router-id', expected router-id = \"192.0.2.1\" here or in [global]",
        ]
    );
    // An empty file has nothing to take them from.
    assert_eq!(
        errors(""),
        vec![
            "t.toml:1:1: missing 'router-id', expected router-id = \"192.0.2.1\" in [global]",
            "t.toml:1:1: missing 'local-as', expected local-as = 65001 in [global]",
        ]
    );
    assert_eq!(
        errors("# nothing\n[global]\nlocal-as = 65001\n"),
        vec!["t.toml:2:1: [global] is missing 'router-id', expected router-id = \"192.0.2.1\" in [global]"]
    );
}

#[test]
fn missing_required_keys() {
    let text = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\
                [[neighbor]]\ndescription = \"x\"\n\
                [[route]]\nmed = 1\n\
                [[process]]\nencoder = \"text\"\n";
    assert_eq!(
        errors(text),
        vec![
            "t.toml:4:1: [[neighbor]] is missing 'address', expected the peer's IP address, e.g. address = \"192.0.2.254\"",
            "t.toml:4:1: [[neighbor]] is missing 'peer-as', expected the peer's AS number, e.g. peer-as = 65000",
            "t.toml:6:1: [[route]] is missing 'prefix', expected the prefix to announce, e.g. prefix = \"203.0.113.0/24\"",
            "t.toml:6:1: [[route]] is missing 'next-hop', expected next-hop = \"self\" or an address, e.g. next-hop = \"192.0.2.1\"",
            "t.toml:8:1: [[process]] is missing 'name', expected a name for logs, e.g. name = \"healthcheck\"",
            "t.toml:8:1: [[process]] is missing 'run', expected the program and its arguments, e.g. run = [\"/usr/bin/python3\", \"/etc/exabgp/healthcheck.py\"]",
        ]
    );
}

#[test]
fn bad_families() {
    let text = with_base(
        "[[neighbor]]\naddress = \"192.0.2.9\"\npeer-as = 65000\nfamilies = [\"ipv4 unicast\", \"ipv4 mpls-vpn\", \"ipv4 unicast\", \"bogus\"]\n\
         [[neighbor]]\naddress = \"192.0.2.10\"\npeer-as = 65000\nfamilies = []\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:12:29: unsupported family \"ipv4 mpls-vpn\", expected \"ipv4 unicast\", \"ipv6 unicast\", \"ipv4 flow\", \"ipv6 flow\", \"ipv4 flow-vpn\" or \"ipv6 flow-vpn\"",
            "t.toml:12:46: family \"ipv4 unicast\" is listed twice, expected each family once",
            "t.toml:12:62: unsupported family \"bogus\", expected \"ipv4 unicast\", \"ipv6 unicast\", \"ipv4 flow\", \"ipv6 flow\", \"ipv4 flow-vpn\" or \"ipv6 flow-vpn\"",
            "t.toml:16:12: families is empty, expected at least one of \"ipv4 unicast\", \"ipv6 unicast\", \"ipv4 flow\", \"ipv6 flow\", \"ipv4 flow-vpn\" or \"ipv6 flow-vpn\" (omit it for the family of the address)",
        ]
    );
}

#[test]
fn bad_communities() {
    let text = with_base(
        "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n\
         communities = [\"65000:1\", \"65536:1\", 7]\n\
         large-communities = [\"1:2\"]\n\
         extended-communities = [\"target:65000\"]\n\
         origin = \"bgp\"\n",
    );
    let e = errors(&text);
    assert_eq!(e.len(), 5, "{e:#?}");
    assert!(e[0].starts_with("t.toml:12:27: invalid community \"65536:1\", expected ASN:VALUE with two numbers 0-65535"), "{}", e[0]);
    assert_eq!(e[1], "t.toml:12:38: wrong type for an item of communities: found an integer, expected communities such as \"65000:1\" or \"no-export\"");
    assert!(
        e[2].starts_with(
            "t.toml:13:22: invalid large community \"1:2\", expected GLOBAL:LOCAL1:LOCAL2"
        ),
        "{}",
        e[2]
    );
    assert!(
        e[3].starts_with(
            "t.toml:14:25: invalid extended community \"target:65000\", expected target:ASN:N"
        ),
        "{}",
        e[3]
    );
    assert_eq!(
        e[4],
        "t.toml:15:10: invalid origin \"bgp\", expected igp, egp or incomplete"
    );
}

#[test]
fn bad_route_attribute_values() {
    let text = with_base(
        "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n\
         med = 4294967296\nlocal-preference = \"100\"\naggregator = \"65000\"\n\
         originator-id = \"2001:db8::1\"\ncluster-list = [\"192.0.2.1\", \"x\"]\natomic-aggregate = 1\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:12:7: med 4294967296 is out of range, expected an integer from 0 to 4294967295",
            "t.toml:13:20: wrong type for local-preference: found a string, expected an integer from 0 to 4294967295",
            "t.toml:14:14: invalid aggregator \"65000\", expected ASN:IPV4 such as \"65000:192.0.2.1\"",
            "t.toml:15:17: invalid IPv4 address \"2001:db8::1\" for originator-id, expected an IPv4 address such as 192.0.2.1",
            "t.toml:16:30: invalid IPv4 address \"x\" for cluster-list, expected an IPv4 address such as 192.0.2.1",
            "t.toml:17:20: wrong type for atomic-aggregate: found an integer, expected true or false",
        ]
    );
}

#[test]
fn duplicate_routes() {
    let text = with_base(
        "[[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"self\"\n\
         [[route]]\nprefix = \"10.0.0.0/8\"\nnext-hop = \"192.0.2.7\"\nneighbors = [\"192.0.2.254\"]\n",
    );
    assert_eq!(
        errors(&text),
        vec!["t.toml:13:10: duplicate route 10.0.0.0/8 (first defined at line 10) for the same neighbor, expected each prefix once per neighbor"]
    );
}

#[test]
fn process_errors() {
    let text = with_base(
        "[[process]]\nname = \"hc\"\nrun = [\"/bin/hc\"]\n\
         [[process]]\nname = \"hc\"\nrun = []\nencoder = \"xml\"\nreceive = [\"update\", \"updates\"]\n\
         [[process]]\nname = \"\"\nrun = [\"\", \"x\"]\nrespawn-window = 0\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:13:8: duplicate process name \"hc\" (first defined at line 10), expected unique names",
            "t.toml:14:7: run is empty, expected the program and its arguments, e.g. run = [\"/usr/bin/python3\", \"/etc/exabgp/healthcheck.py\"]",
            "t.toml:15:11: unknown encoder \"xml\", expected \"json\" or \"text\"",
            "t.toml:16:22: unknown receive value \"updates\", expected one of: update, state, notification, open, keepalive, refresh, negotiated",
            "t.toml:18:8: name is empty, expected a name for logs, e.g. \"healthcheck\"",
            "t.toml:19:8: the program name (first item of run) is empty, expected a program path",
            "t.toml:20:18: respawn-window 0 is out of range, expected a number of seconds from 1 to 4294967295",
        ]
    );
}

#[test]
fn neighbor_value_errors() {
    let text = with_base(
        "[[neighbor]]\naddress = \"192.0.2.9\"\npeer-as = 65000\nlocal-address = \"2001:db8::1\"\nport = 0\n\
         md5-password = \"\"\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:12:17: local-address 2001:db8::1 is IPv6 but the neighbor address 192.0.2.9 is IPv4, expected an IPv4 address",
            "t.toml:13:8: port 0 is out of range, expected a TCP port from 1 to 65535",
            "t.toml:14:16: md5-password is 0 bytes long, expected 1 to 80 bytes (omit the key for no password)",
        ]
    );
}

#[test]
fn toml_syntax_errors() {
    let text = "[global]\nrouter-id = 192.0.2.1\nlocal-as = 65001\n";
    assert_eq!(
        errors(text),
        vec!["t.toml:2:13: invalid TOML: invalid float, expected nothing (addresses, prefixes and names are strings: put them in double quotes)"]
    );
    let text = "[global]\nlocal-as = 1\nlocal-as = 2\n";
    assert_eq!(
        errors(text),
        vec!["t.toml:3:1: invalid TOML: duplicate key"]
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = with_base("[[neighbor]]\ndescription = \"h\u{e9}h\u{e9}\" ; address = 1\n");
    // The error is after two 2-byte characters: column by characters.
    let e = errors(&text);
    assert!(e[0].starts_with("t.toml:10:22: invalid TOML"), "{e:?}");
}

#[test]
fn all_errors_in_one_pass_in_file_order() {
    let text = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\
                [[route]]\nprefix = \"10.0.0.1/8\"\nnext-hop = \"self\"\n\
                [[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 0\nhold-time = 1\n";
    assert_eq!(
        errors(text),
        vec![
            "t.toml:5:10: invalid prefix \"10.0.0.1/8\": host bits are set, expected \"10.0.0.0/8\"",
            "t.toml:9:11: peer-as 0 is reserved, expected an AS number from 1 to 4294967295",
            "t.toml:10:13: hold-time 1 is not allowed, expected 0 (no keepalives) or 3 to 65535 seconds",
        ]
    );
}

#[test]
fn load_names_the_file_and_the_os_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let e = load(&missing).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
    assert_eq!(e.exit_code(), 78);
    assert_eq!(
        e.to_string(),
        format!(
            "{}: cannot read the configuration file: No such file or directory (os error 2)",
            missing.display()
        )
    );
    // A directory is unreadable as a file too.
    let e = load(dir.path()).unwrap_err();
    assert!(e.to_string().starts_with(&format!(
        "{}: cannot read the configuration file: ",
        dir.path().display()
    )));
}

#[test]
fn load_rejects_non_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("latin1.toml");
    std::fs::write(&p, b"[global]\nrouter-id = \"192.0.2.1\" # caf\xe9\n").unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:2:30: invalid UTF-8 (byte 0xe9), expected the file to be UTF-8 text",
            p.display()
        )
    );
}

#[test]
fn load_reports_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("edge1.toml");
    std::fs::write(&p, "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 0\n").unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:3:12: local-as 0 is reserved, expected an AS number from 1 to 4294967295",
            p.display()
        )
    );
}

#[test]
fn sub_tables_and_inline_tables_are_checked_too() {
    // A sub-table of a neighbor is an unknown key pointing at its name in the header.
    let text = with_base("[neighbor.timers]\nhold = 3\n");
    assert_eq!(
        errors(&text),
        vec!["t.toml:9:11: unknown key 'timers' in [[neighbor]], expected one of: address, description, peer-as, local-as, router-id, local-address, port, hold-time, passive, families, md5-password, max-prefix, max-prefix-warning-only, max-prefix-restart-after, max-prefix-warning-threshold, graceful-restart"]
    );
    let text = "neighbor = [{ address = \"192.0.2.254\", peer-as = 65000, local-as = 1, router-id = \"192.0.2.1\", hold-time = 2 }]\n";
    assert_eq!(
        errors(text),
        vec!["t.toml:1:108: hold-time 2 is not allowed, expected 0 (no keepalives) or 3 to 65535 seconds"]
    );
}

#[test]
fn neighbor_addresses_no_peer_can_have_are_refused() {
    for (addr, col) in [
        ("0.0.0.0", 11),
        ("224.0.0.1", 11),
        ("::", 11),
        ("255.255.255.255", 11),
    ] {
        let e = errors(&with_base(&format!(
            "[[neighbor]]\naddress = \"{addr}\"\npeer-as = 65000\n"
        )));
        assert_eq!(
            e,
            vec![format!("t.toml:10:{col}: \"{addr}\" cannot be a BGP peer's address (unspecified, multicast or broadcast), expected the address of the neighbor router")]
        );
    }
}

/// `::ffff:192.0.2.254` is the IPv4 peer 192.0.2.254: the same neighbor as the
/// one already defined (before, it was a second neighbor whose connections were
/// refused as coming from an unknown peer).
#[test]
fn an_ipv4_mapped_neighbor_address_is_the_ipv4_peer() {
    let e = errors(&with_base(
        "[[neighbor]]\naddress = \"::ffff:192.0.2.254\"\npeer-as = 65000\n",
    ));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("duplicate neighbor 192.0.2.254 (first defined at line 6)"),
        "{e:?}"
    );
}

#[test]
fn max_prefix_errors() {
    // Out of range, a wrong type, an option without the limit.
    assert_eq!(
        errors(&with_base("max-prefix = 0\n")),
        vec!["t.toml:9:14: max-prefix 0 is out of range, expected a number of prefixes from 1 to 4294967295, or a table of family = number, e.g. { \"ipv4 unicast\" = 1000 }"]
    );
    assert_eq!(
        errors(&with_base("max-prefix = \"many\"\n")),
        vec!["t.toml:9:14: wrong type for max-prefix: found a string, expected a number of prefixes from 1 to 4294967295, or a table of family = number, e.g. { \"ipv4 unicast\" = 1000 }"]
    );
    assert_eq!(
        errors(&with_base("max-prefix-restart-after = 60\n")),
        vec!["t.toml:9:28: max-prefix-restart-after has no effect without max-prefix, expected max-prefix = N in this [[neighbor]] too"]
    );
    // Per family: a family the neighbor does not negotiate, an unknown one, a bad
    // count; then options that contradict each other or are out of range.
    let text = with_base(
        "max-prefix = { \"ipv6 unicast\" = 10, \"ipv4 mpls-vpn\" = 1, \"ipv4 unicast\" = -1 }\n\
         max-prefix-warning-only = true\n\
         max-prefix-restart-after = 30\n\
         max-prefix-warning-threshold = 101\n\
         max-prefx = 1\n",
    );
    assert_eq!(
        errors(&text),
        vec![
            "t.toml:9:16: max-prefix for \"ipv6 unicast\", a family this neighbor does not negotiate, expected one of its families (see families)",
            "t.toml:9:37: in max-prefix: unsupported family \"ipv4 mpls-vpn\", expected \"ipv4 unicast\", \"ipv6 unicast\", \"ipv4 flow\", \"ipv6 flow\", \"ipv4 flow-vpn\" or \"ipv6 flow-vpn\"",
            "t.toml:9:75: max-prefix \"ipv4 unicast\" -1 is out of range, expected a number of prefixes from 1 to 4294967295",
            "t.toml:11:28: max-prefix-restart-after has no effect with max-prefix-warning-only = true (the session is kept), expected one of the two",
            "t.toml:12:32: max-prefix-warning-threshold 101 is out of range, expected a percentage of the limit from 1 to 100",
            "t.toml:13:1: unknown key 'max-prefx' in [[neighbor]] (did you mean 'max-prefix'?), expected one of: address, description, peer-as, local-as, router-id, local-address, port, hold-time, passive, families, md5-password, max-prefix, max-prefix-warning-only, max-prefix-restart-after, max-prefix-warning-threshold, graceful-restart",
        ]
    );
}
