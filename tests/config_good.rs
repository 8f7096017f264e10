//! Valid configurations: the exact model they produce, the defaults, the examples,
//! the TOML rendering, and a property test that generated configs round-trip.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;

use exabgp::bgp::{
    Aggregator, AsPath, Community, ExtCommunity, Family, LargeCommunity, Origin, PathAttributes,
    Prefix,
};
use exabgp::config::{
    load, parse_str, Config, Encoder, Global, MaxPrefix, NeighborConfig, ProcessConfig,
    ReceiveKind, RouteConfig,
};
use exabgp::rib::{NextHop, Route};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}
fn prefix(s: &str) -> Prefix {
    s.parse().unwrap()
}

/// What a `[[route]]` table parses to.
fn route_config(
    p: &str,
    next_hop: NextHop,
    attributes: PathAttributes,
    neighbors: Vec<IpAddr>,
) -> RouteConfig {
    RouteConfig {
        route: Route {
            prefix: prefix(p),
            next_hop,
            attributes: Arc::new(attributes),
        },
        neighbors,
    }
}

fn examples_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
}

#[test]
fn defaults_are_applied() {
    let text = r#"
[global]
router-id = "192.0.2.1"
local-as = 65001

[[neighbor]]
address = "192.0.2.254"
peer-as = 65000

[[neighbor]]
address = "2001:db8::2"
peer-as = 4200000000

[[route]]
prefix = "203.0.113.0/24"
next-hop = "self"

[[process]]
name = "hc"
run = ["/bin/hc"]
"#;
    let c = parse_str(text, "t.toml").unwrap();
    let expected = Config {
        source: None,
        global: Global {
            router_id: v4("192.0.2.1"),
            local_as: 65001,
        },
        neighbors: vec![
            NeighborConfig {
                address: ip("192.0.2.254"),
                peer_as: 65000,
                local_as: 65001,
                router_id: v4("192.0.2.1"),
                local_address: None,
                port: 179,
                hold_time: 90,
                passive: false,
                families: vec![Family::IPV4_UNICAST],
                md5_password: None,
                description: None,
                max_prefix: None,
                graceful_restart: None,
            },
            NeighborConfig {
                address: ip("2001:db8::2"),
                peer_as: 4_200_000_000,
                local_as: 65001,
                router_id: v4("192.0.2.1"),
                local_address: None,
                port: 179,
                hold_time: 90,
                passive: false,
                families: vec![Family::IPV6_UNICAST],
                md5_password: None,
                description: None,
                max_prefix: None,
                graceful_restart: None,
            },
        ],
        routes: vec![route_config(
            "203.0.113.0/24",
            NextHop::SelfAddress,
            PathAttributes {
                origin: Some(Origin::Igp),
                as_path: Some(AsPath::default()),
                ..PathAttributes::default()
            },
            vec![],
        )],
        processes: vec![ProcessConfig {
            name: "hc".into(),
            run: vec!["/bin/hc".into()],
            encoder: Encoder::Json,
            receive: vec![ReceiveKind::Update, ReceiveKind::State],
            respawn_limit: 5,
            respawn_window: 60,
        }],
        flows: vec![],
    };
    assert_eq!(c, expected);
}

#[test]
fn dual_stack_example_gives_the_exact_model() {
    let path = examples_dir().join("dual-stack.toml");
    let c = load(&path).unwrap();
    assert_eq!(c.source.as_deref(), Some(path.as_path()));
    assert_eq!(
        c.global,
        Global {
            router_id: v4("192.0.2.1"),
            local_as: 65001
        }
    );
    assert_eq!(
        c.neighbors,
        vec![
            NeighborConfig {
                address: ip("192.0.2.254"),
                peer_as: 65000,
                local_as: 65001,
                router_id: v4("192.0.2.1"),
                local_address: Some(ip("192.0.2.1")),
                port: 179,
                hold_time: 90,
                passive: false,
                families: vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST],
                md5_password: Some("s3cret".into()),
                description: Some("edge router, IPv4 session carrying both families".into()),
                max_prefix: None,
                graceful_restart: None,
            },
            NeighborConfig {
                address: ip("2001:db8::fe"),
                peer_as: 65000,
                local_as: 65001,
                router_id: v4("192.0.2.1"),
                local_address: Some(ip("2001:db8::1")),
                port: 179,
                hold_time: 30,
                passive: false,
                families: vec![Family::IPV6_UNICAST],
                md5_password: None,
                description: Some("edge router, IPv6 session".into()),
                max_prefix: None,
                graceful_restart: None,
            },
            NeighborConfig {
                address: ip("198.51.100.10"),
                peer_as: 64999,
                local_as: 65002,
                router_id: v4("192.0.2.2"),
                local_address: None,
                port: 179,
                hold_time: 90,
                passive: true,
                families: vec![Family::IPV4_UNICAST],
                md5_password: None,
                description: None,
                max_prefix: None,
                graceful_restart: None,
            },
        ]
    );
    let full = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::sequence(vec![65001, 65010])),
        next_hop: None,
        med: Some(10),
        local_pref: Some(100),
        atomic_aggregate: true,
        aggregator: Some(Aggregator {
            asn: 65001,
            address: v4("192.0.2.1"),
        }),
        communities: vec![Community::new(65000, 1), Community::NO_EXPORT],
        originator_id: Some(v4("192.0.2.1")),
        cluster_list: vec![v4("192.0.2.1"), v4("192.0.2.2")],
        // target:65000:1 (RFC 4360 two-octet AS, subtype 2) and origin:192.0.2.1:5
        // (IPv4-address specific, subtype 3), octet by octet.
        ext_communities: vec![
            ExtCommunity([0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 1]),
            ExtCommunity([0x01, 0x03, 192, 0, 2, 1, 0, 5]),
        ],
        large_communities: vec![LargeCommunity {
            global: 65000,
            local1: 1,
            local2: 2,
        }],
        mp_reach: None,
        mp_unreach: None,
        flow_reach: None,
        flow_unreach: None,
        unknown: vec![],
        unnegotiated: vec![],
    };
    assert_eq!(
        c.routes,
        vec![
            route_config("203.0.113.0/24", NextHop::SelfAddress, full, vec![]),
            route_config(
                "2001:db8:100::/48",
                NextHop::Address(ip("2001:db8::1")),
                PathAttributes {
                    origin: Some(Origin::Incomplete),
                    as_path: Some(AsPath::default()),
                    ..PathAttributes::default()
                },
                vec![ip("2001:db8::fe"), ip("192.0.2.254")],
            ),
            route_config(
                "203.0.113.66/32",
                NextHop::Address(ip("192.0.2.66")),
                PathAttributes {
                    origin: Some(Origin::Igp),
                    as_path: Some(AsPath::default()),
                    communities: vec![Community::BLACKHOLE],
                    ..PathAttributes::default()
                },
                vec![ip("198.51.100.10")],
            ),
        ]
    );
    assert!(c.processes.is_empty());
}

#[test]
fn every_example_parses() {
    let mut n = 0;
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Err(e) = load(&path) {
                panic!("{} does not parse:\n{e}", path.display());
            }
            n += 1;
        }
    }
    assert!(n >= 3, "expected at least three examples, found {n}");
}

#[test]
fn healthcheck_example_process() {
    let c = load(&examples_dir().join("healthcheck.toml")).unwrap();
    assert_eq!(
        c.processes,
        vec![ProcessConfig {
            name: "healthcheck".into(),
            run: [
                "/usr/sbin/exabgp",
                "healthcheck",
                "--no-ip-setup",
                "--ip",
                "203.0.113.7/32",
                "--cmd",
                "curl -fsS -m 2 -o /dev/null http://127.0.0.1/health",
                "--interval",
                "5",
                "--fall",
                "3",
                "--rise",
                "2",
            ]
            .map(String::from)
            .to_vec(),
            encoder: Encoder::Json,
            receive: vec![ReceiveKind::State],
            respawn_limit: 5,
            respawn_window: 60,
        }]
    );
}

#[test]
fn neighbor_overrides_without_global() {
    let text = "[[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65000\nlocal-as = 65001\nrouter-id = \"192.0.2.1\"\n\
                [[process]]\nname = \"t\"\nrun = [\"/bin/t\"]\nencoder = \"text\"\nreceive = [\"update\", \"open\", \"update\"]\nrespawn-limit = 0\nrespawn-window = 1\n";
    let c = parse_str(text, "t.toml").unwrap();
    // The global identity falls back to the first neighbor's.
    assert_eq!(
        c.global,
        Global {
            router_id: v4("192.0.2.1"),
            local_as: 65001
        }
    );
    assert_eq!(c.processes[0].encoder, Encoder::Text);
    assert_eq!(
        c.processes[0].receive,
        vec![ReceiveKind::Update, ReceiveKind::Open]
    );
    assert_eq!(
        (c.processes[0].respawn_limit, c.processes[0].respawn_window),
        (0, 1)
    );
}

#[test]
fn neighbor_rendering_hides_the_password() {
    let c = load(&examples_dir().join("dual-stack.toml")).unwrap();
    let text = c.neighbors[0].to_toml_string();
    assert_eq!(
        text,
        "[[neighbor]]\n\
         address = \"192.0.2.254\"\n\
         description = \"edge router, IPv4 session carrying both families\"\n\
         peer-as = 65000\n\
         local-as = 65001\n\
         router-id = \"192.0.2.1\"\n\
         local-address = \"192.0.2.1\"\n\
         port = 179\n\
         hold-time = 90\n\
         passive = false\n\
         families = [\"ipv4 unicast\", \"ipv6 unicast\"]\n\
         # md5-password is set (not shown)\n"
    );
    assert!(!text.contains("s3cret"));
    // The whole-file rendering keeps it, so it re-parses to the same config.
    let again = parse_str(&c.to_toml_string(), "again.toml").unwrap();
    assert_eq!(again.neighbors, c.neighbors);
    assert_eq!(again.routes, c.routes);
    assert_eq!(again.global, c.global);
}

mod round_trip {
    use super::*;
    use proptest::prelude::*;

    fn asn() -> impl Strategy<Value = u32> {
        1..=u32::MAX
    }

    fn router_id() -> impl Strategy<Value = Ipv4Addr> {
        (1..=u32::MAX).prop_map(Ipv4Addr::from)
    }

    /// A unicast, specified address of the given family.
    fn host(v6: bool) -> BoxedStrategy<IpAddr> {
        if v6 {
            any::<u128>()
                .prop_map(|n| IpAddr::from(std::net::Ipv6Addr::from(n)))
                .prop_filter("unicast", |a| !a.is_unspecified() && !a.is_multicast())
                .boxed()
        } else {
            any::<u32>()
                .prop_map(|n| IpAddr::from(Ipv4Addr::from(n)))
                .prop_filter("unicast", |a| !a.is_unspecified() && !a.is_multicast())
                .boxed()
        }
    }

    fn text() -> impl Strategy<Value = String> {
        "\\PC{1,20}".prop_filter("not blank", |s| !s.trim().is_empty())
    }

    prop_compose! {
        fn neighbor(v6: bool)(
            address in host(v6),
            peer_as in asn(),
            local_as in asn(),
            router_id in router_id(),
            local_address in proptest::option::of(host(v6)),
            port in 1..=u16::MAX,
            hold_time in prop_oneof![Just(0u16), 3..=u16::MAX],
            passive in any::<bool>(),
            fams in prop_oneof![
                Just(vec![Family::IPV4_UNICAST]),
                Just(vec![Family::IPV6_UNICAST]),
                Just(vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]),
                Just(vec![Family::IPV6_UNICAST, Family::IPV4_UNICAST]),
            ],
            md5_password in proptest::option::of("[ -~]{1,80}"),
            description in proptest::option::of(text()),
            max_prefix in proptest::option::of((1..=u32::MAX, any::<bool>(), proptest::option::of(1..=u32::MAX), proptest::option::of(1..=100u8))),
            graceful_restart in proptest::option::of(0..=4095u16),
        ) -> NeighborConfig {
            let max_prefix = max_prefix.map(|(n, warning_only, restart, threshold)| MaxPrefix {
                // Sorted by family, as the parser keeps them.
                limits: {
                    let mut l: Vec<(Family, u32)> = fams.iter().enumerate().map(|(i, f)| (*f, n.saturating_sub(i as u32).max(1))).collect();
                    l.sort_unstable();
                    l
                },
                warning_only,
                restart_after: restart.filter(|_| !warning_only),
                warning_threshold: threshold,
            });
            NeighborConfig { address, peer_as, local_as, router_id, local_address, port, hold_time, passive,
                families: fams, md5_password, description, max_prefix, graceful_restart }
        }
    }

    fn attributes() -> impl Strategy<Value = PathAttributes> {
        (
            prop_oneof![
                Just(Origin::Igp),
                Just(Origin::Egp),
                Just(Origin::Incomplete)
            ],
            proptest::collection::vec(asn(), 0..5),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            any::<bool>(),
            proptest::option::of((asn(), any::<u32>())),
            proptest::collection::vec(any::<u32>(), 0..4),
            proptest::option::of(any::<u32>()),
            proptest::collection::vec(any::<u32>(), 0..3),
            proptest::collection::vec(any::<[u8; 8]>(), 0..3),
            proptest::collection::vec(any::<(u32, u32, u32)>(), 0..3),
        )
            .prop_map(
                |(origin, path, med, lp, atomic, aggr, comms, orig, cluster, ext, large)| {
                    PathAttributes {
                        origin: Some(origin),
                        as_path: Some(AsPath::sequence(path)),
                        med,
                        local_pref: lp,
                        atomic_aggregate: atomic,
                        aggregator: aggr.map(|(asn, a)| Aggregator {
                            asn,
                            address: Ipv4Addr::from(a),
                        }),
                        communities: comms.into_iter().map(Community).collect(),
                        originator_id: orig.map(Ipv4Addr::from),
                        cluster_list: cluster.into_iter().map(Ipv4Addr::from).collect(),
                        ext_communities: ext.into_iter().map(ExtCommunity).collect(),
                        large_communities: large
                            .into_iter()
                            .map(|(global, local1, local2)| LargeCommunity {
                                global,
                                local1,
                                local2,
                            })
                            .collect(),
                        ..PathAttributes::default()
                    }
                },
            )
    }

    /// A prefix of the family, any length, host bits cleared.
    fn prefix_of(v6: bool) -> BoxedStrategy<Prefix> {
        if v6 {
            (any::<u128>(), 0u8..=128)
                .prop_map(|(a, l)| {
                    Prefix::new(IpAddr::from(std::net::Ipv6Addr::from(a)), l).unwrap()
                })
                .boxed()
        } else {
            (any::<u32>(), 0u8..=32)
                .prop_map(|(a, l)| Prefix::new(IpAddr::from(Ipv4Addr::from(a)), l).unwrap())
                .boxed()
        }
    }

    fn route(
        v6: bool,
    ) -> impl Strategy<Value = (Prefix, NextHop, PathAttributes, Vec<prop::sample::Index>)> {
        (
            prefix_of(v6),
            prop_oneof![Just(None), host(v6).prop_map(Some)],
            attributes(),
            proptest::collection::vec(any::<prop::sample::Index>(), 0..3),
        )
            .prop_map(|(p, nh, a, scope)| {
                (
                    p,
                    nh.map_or(NextHop::SelfAddress, NextHop::Address),
                    a,
                    scope,
                )
            })
    }

    prop_compose! {
        fn process()(
            name in text(),
            run in proptest::collection::vec(text(), 1..4),
            json in any::<bool>(),
            receive in proptest::sample::subsequence(
                vec![ReceiveKind::Update, ReceiveKind::State, ReceiveKind::Notification, ReceiveKind::Open,
                     ReceiveKind::Keepalive, ReceiveKind::Refresh, ReceiveKind::Negotiated], 0..=7),
            respawn_limit in any::<u32>(),
            respawn_window in 1..=u32::MAX,
        ) -> ProcessConfig {
            ProcessConfig { name, run, encoder: if json { Encoder::Json } else { Encoder::Text }, receive,
                respawn_limit, respawn_window }
        }
    }

    prop_compose! {
        fn config()(
            global_id in router_id(),
            global_as in asn(),
            n4 in proptest::collection::vec(neighbor(false), 0..3),
            n6 in proptest::collection::vec(neighbor(true), 0..3),
            r4 in proptest::collection::vec(route(false), 0..4),
            r6 in proptest::collection::vec(route(true), 0..4),
            procs in proptest::collection::vec(process(), 0..3),
        ) -> Config {
            let mut neighbors: Vec<NeighborConfig> = Vec::new();
            for n in n4.into_iter().chain(n6) {
                if !neighbors.iter().any(|m| m.address == n.address) {
                    neighbors.push(n);
                }
            }
            let mut routes: Vec<RouteConfig> = Vec::new();
            for (prefix, next_hop, attrs, scope) in r4.into_iter().chain(r6) {
                let fam = prefix.family();
                let able: Vec<IpAddr> =
                    neighbors.iter().filter(|n| n.families.contains(&fam)).map(|n| n.address).collect();
                // A route needs a neighbor of its family, and a prefix at most once.
                if able.is_empty() || routes.iter().any(|r| r.route.prefix == prefix) {
                    continue;
                }
                let mut targets: Vec<IpAddr> = Vec::new();
                for i in scope {
                    let a = *i.get(&able);
                    if !targets.contains(&a) {
                        targets.push(a);
                    }
                }
                routes.push(RouteConfig {
                    route: Route { prefix, next_hop, attributes: Arc::new(attrs) },
                    neighbors: targets,
                });
            }
            let mut processes: Vec<ProcessConfig> = Vec::new();
            for p in procs {
                if !processes.iter().any(|q| q.name == p.name) {
                    processes.push(p);
                }
            }
            Config { source: None, global: Global { router_id: global_id, local_as: global_as }, neighbors, routes, processes, flows: vec![] }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any valid config, written out as TOML, parses without error to itself.
        #[test]
        fn render_then_parse_is_identity(c in config()) {
            let text = c.to_toml_string();
            match parse_str(&text, "generated.toml") {
                Ok(back) => prop_assert_eq!(back, c, "text was:\n{}", text),
                Err(e) => prop_assert!(false, "generated config rejected:\n{}\ntext was:\n{}", e, text),
            }
        }
    }
}

#[test]
fn validate_reports_ok_or_every_problem_with_exit_78() {
    let path = examples_dir().join("dual-stack.toml");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(exabgp::config::validate_to(&path, &mut out, &mut err), 0);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "{}: OK (3 neighbors, 3 routes, 0 processes)\n",
            path.display()
        )
    );
    assert!(err.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 0\nfoo = 1\n",
    )
    .unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(exabgp::config::validate_to(&bad, &mut out, &mut err), 78);
    assert!(out.is_empty());
    assert_eq!(
        String::from_utf8(err).unwrap(),
        format!(
            "{0}:3:12: local-as 0 is reserved, expected an AS number from 1 to 4294967295\n\
             {0}:4:1: unknown key 'foo' in [global], expected one of: router-id, local-as\n",
            bad.display()
        )
    );
}

#[test]
fn docs_list_every_key() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/configuration.md"
    ))
    .unwrap();
    for (section, keys) in exabgp::config::known_keys() {
        if section.is_empty() {
            continue;
        }
        let heading = if *section == "global" {
            format!("## `[{section}]`")
        } else {
            format!("## `[[{section}]]`")
        };
        let start = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("no section {heading}"));
        let end = doc[start + 1..]
            .find("\n## ")
            .map_or(doc.len(), |i| start + 1 + i);
        for key in *keys {
            assert!(
                doc[start..end].contains(&format!("| `{key}` |")),
                "docs/configuration.md: {heading} lacks {key}"
            );
        }
    }
}

#[test]
fn inline_tables_and_ipv6_only() {
    let text = "global = { router-id = \"192.0.2.1\", local-as = 65001 }\n\
                neighbor = [{ address = \"2001:db8::2\", peer-as = 65000, local-address = \"2001:db8::1\" }]\n\
                route = [{ prefix = \"2001:db8:7::/48\", next-hop = \"self\", as-path = [65001] }]\n";
    let c = parse_str(text, "t.toml").unwrap();
    assert_eq!(c.neighbors[0].families, vec![Family::IPV6_UNICAST]);
    assert_eq!(c.neighbors[0].local_address, Some(ip("2001:db8::1")));
    assert_eq!(c.routes[0].route.prefix, prefix("2001:db8:7::/48"));
    assert_eq!(
        c.routes[0].route.attributes.as_path,
        Some(AsPath::sequence(vec![65001]))
    );
}

/// `max-prefix` as one number applies to every family of the neighbor; as a table,
/// to the families it names; the options come along.
#[test]
fn max_prefix_number_or_table() {
    let base = "[global]\nrouter-id = \"192.0.2.1\"\nlocal-as = 65001\n\n[[neighbor]]\naddress = \"192.0.2.254\"\npeer-as = 65000\nfamilies = [\"ipv6 unicast\", \"ipv4 unicast\"]\n";
    let c = parse_str(&format!("{base}max-prefix = 500\n"), "t.toml").unwrap();
    assert_eq!(
        c.neighbors[0].max_prefix,
        Some(MaxPrefix {
            limits: vec![(Family::IPV4_UNICAST, 500), (Family::IPV6_UNICAST, 500)],
            warning_only: false,
            restart_after: None,
            warning_threshold: None,
        })
    );
    let text = format!(
        "{base}max-prefix = {{ \"ipv6 unicast\" = 20 }}\nmax-prefix-restart-after = 90\nmax-prefix-warning-threshold = 75\n"
    );
    let m = parse_str(&text, "t.toml").unwrap().neighbors[0]
        .max_prefix
        .clone()
        .unwrap();
    assert_eq!(m.limit(Family::IPV6_UNICAST), Some(20));
    assert_eq!(m.limit(Family::IPV4_UNICAST), None);
    assert_eq!((m.restart_after, m.warning_threshold), (Some(90), Some(75)));
    assert!(parse_str(base, "t.toml").unwrap().neighbors[0]
        .max_prefix
        .is_none());
}
