//! ExaBGP's classic configuration syntax (src/config/classic/): each construct loads
//! to the expected model, each unsupported construct is an error naming it at
//! FILE:LINE:COL, and `exabgp migrate`'s TOML loads to exactly the same model.
//! The fixtures (tests/fixtures/classic/) follow ExaBGP's etc/exabgp examples; each
//! names the one it follows.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use exabgp::bgp::{
    Aggregator, AsPath, Community, ExtCommunity, Family, LargeCommunity, Origin, PathAttributes,
};
use exabgp::config::{
    classic, classic_to_toml, load, parse_str, Config, Encoder, NeighborConfig, ProcessConfig,
    ReceiveKind,
};
use exabgp::rib::NextHop;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}
fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/classic")
        .join(name)
}

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    v.sort();
    assert!(v.len() >= 5, "{v:?}");
    v
}

fn attrs() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        ..Default::default()
    }
}

/// The routes of a config as (prefix, next hop, attributes, scope) for comparison.
fn routes(c: &Config) -> Vec<(String, NextHop, PathAttributes, Vec<IpAddr>)> {
    c.routes
        .iter()
        .map(|r| {
            (
                r.route.prefix.to_string(),
                r.route.next_hop,
                (*r.route.attributes).clone(),
                r.neighbors.clone(),
            )
        })
        .collect()
}

/// Load classic text written to a temp file named NAME.conf; the error text or the model.
fn load_text(text: &str) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.conf");
    std::fs::write(&path, text).unwrap();
    load(&path).map_err(|e| e.to_string().replace(&path.display().to_string(), "t.conf"))
}

#[test]
fn split_follows_conf_split() {
    let c = load(&fixture("split.conf")).unwrap();
    assert_eq!(c.neighbors.len(), 1);
    let n = &c.neighbors[0];
    assert_eq!(
        n,
        &NeighborConfig {
            address: ip("127.0.0.1"),
            peer_as: 65533,
            local_as: 65533,
            router_id: v4("198.111.227.39"),
            local_address: Some(ip("127.0.0.1")),
            port: 179,
            hold_time: 180,
            passive: false,
            families: vec![Family::IPV4_UNICAST],
            md5_password: None,
            description: Some("will announce 8 /24".into()),
            max_prefix: None,
            graceful_restart: None,
        }
    );
    let a = PathAttributes {
        med: Some(200),
        communities: vec![Community::new(174, 666)],
        ..attrs()
    };
    let want: Vec<_> = (0..8)
        .map(|i| {
            (
                format!("172.10.{i}.0/24"),
                NextHop::Address(ip("192.0.2.1")),
                a.clone(),
                vec![ip("127.0.0.1")],
            )
        })
        .collect();
    assert_eq!(routes(&c), want);
    assert_eq!(c.global.router_id, v4("198.111.227.39"));
    assert_eq!(c.global.local_as, 65533);
}

#[test]
fn simple_v4_follows_parse_simple_v4() {
    let c = load(&fixture("simple-v4.conf")).unwrap();
    let got: Vec<(String, Vec<Community>, Option<u32>)> = routes(&c)
        .into_iter()
        .map(|r| (r.0, r.2.communities, r.2.local_pref))
        .collect();
    let c1 = Community::new(30740, 30740);
    let c0 = Community::new(30740, 0);
    assert_eq!(
        got,
        vec![
            ("10.0.1.0/24".into(), vec![Community(0)], None),
            ("10.0.2.0/24".into(), vec![c1], None),
            ("10.0.3.0/24".into(), vec![c1, c0], None),
            ("10.0.4.0/24".into(), vec![], Some(200)),
            ("10.0.5.0/24".into(), vec![], Some(200)),
            ("10.0.6.0/24".into(), vec![c1], None),
            ("10.0.7.0/24".into(), vec![c1], Some(200)),
            ("10.0.8.0/24".into(), vec![c0, c1], Some(200)),
        ]
    );
    // The original's repeated prefix is refused, by name and place.
    let text = std::fs::read_to_string(fixture("simple-v4.conf")).unwrap().replace(
        "\t\troute 10.0.8.0/24",
        "\t\troute 10.0.7.0/24 next-hop 10.0.255.254 local-preference 200 community [30740:0 30740:30740];\n\t\troute 10.0.8.0/24",
    );
    let e = load_text(&text).unwrap_err();
    assert!(
        e.contains("t.conf:35:9: route 10.0.7.0/24 is given twice to neighbor 127.0.0.1"),
        "{e}"
    );
}

#[test]
fn named_api_and_quoted_arguments_follow_example_healthcheck() {
    let c = load(&fixture("healthcheck.conf")).unwrap();
    let p = &c.processes[0];
    assert_eq!(p.name, "service-nginx");
    assert_eq!(p.run[4], "--cmd");
    assert_eq!(
        p.run[5],
        "curl --fail --verbose --max-time 2 http://localhost"
    );
    assert_eq!(p.encoder, Encoder::Text);
    // An api block without receive: the helper gets no events, as in ExaBGP.
    assert!(p.receive.is_empty());
    assert_eq!(c.neighbors[0].hold_time, 180);
}

#[test]
fn template_inherit_follows_conf_template() {
    let c = load(&fixture("template.conf")).unwrap();
    let n = &c.neighbors[0];
    assert_eq!(n.local_as, 65533);
    assert_eq!(n.peer_as, 65533);
    assert_eq!(n.hold_time, 180);
    assert_eq!(n.families, vec![Family::IPV4_UNICAST]);
    assert_eq!(n.router_id, v4("127.0.0.0"));
    let got: Vec<(String, NextHop)> = routes(&c).into_iter().map(|r| (r.0, r.1)).collect();
    assert_eq!(
        got,
        vec![
            ("1.0.0.0/8".into(), NextHop::Address(ip("1.1.1.1"))),
            ("2.0.0.0/8".into(), NextHop::Address(ip("1.1.1.1"))),
            ("3.0.0.0/8".into(), NextHop::Address(ip("1.2.3.4"))),
            ("4.0.0.0/8".into(), NextHop::Address(ip("2.2.2.2"))),
        ]
    );
}

#[test]
fn process_and_api_follow_api_announce() {
    let c = load(&fixture("api.conf")).unwrap();
    assert_eq!(
        c.processes,
        vec![ProcessConfig {
            name: "announce-routes".into(),
            run: vec![
                "/usr/bin/python3".into(),
                "/etc/exabgp/announce.py".into(),
                "--name".into(),
                "edge 1".into()
            ],
            encoder: Encoder::Json,
            receive: vec![
                ReceiveKind::Update,
                ReceiveKind::State,
                ReceiveKind::Notification
            ],
            respawn_limit: 5,
            respawn_window: 60,
        }]
    );
    let n = &c.neighbors[0];
    assert!(n.passive);
    assert_eq!(n.hold_time, 30);
    assert_eq!(n.md5_password.as_deref(), Some("s3cret; with spaces"));
    // No family block: every family exabgp-rs supports (ExaBGP: every family it knows).
    assert_eq!(n.families, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
}

#[test]
fn announce_block_and_every_attribute() {
    let c = load(&fixture("announce.conf")).unwrap();
    assert_eq!(c.neighbors.len(), 2);
    let (a, b) = (&c.neighbors[0], &c.neighbors[1]);
    assert_eq!(a.port, 1179);
    assert_eq!(a.router_id, v4("10.0.0.2"));
    assert_eq!(a.families, vec![Family::IPV4_UNICAST, Family::IPV6_UNICAST]);
    assert_eq!(b.address, ip("2001:db8::2"));
    assert_eq!(b.hold_time, 0);
    assert_eq!(b.description.as_deref(), Some("v6 peer"));
    assert_eq!(b.local_address, None);
    let full = PathAttributes {
        origin: Some(Origin::Egp),
        as_path: Some(AsPath::sequence(vec![65000, 65010])),
        med: Some(10),
        local_pref: Some(200),
        communities: vec![Community::new(65000, 1), Community::NO_EXPORT],
        large_communities: vec!["65000:1:2".parse::<LargeCommunity>().unwrap()],
        ext_communities: vec!["target:65000:1".parse::<ExtCommunity>().unwrap()],
        atomic_aggregate: true,
        aggregator: Some("65000:10.0.0.2".parse::<Aggregator>().unwrap()),
        originator_id: Some(v4("10.0.0.9")),
        cluster_list: vec![v4("10.0.0.7"), v4("10.0.0.8")],
        ..attrs()
    };
    assert_eq!(
        routes(&c),
        vec![
            (
                "192.0.2.0/24".into(),
                NextHop::SelfAddress,
                full,
                vec![ip("10.0.0.1")]
            ),
            (
                "2001:db8::/32".into(),
                NextHop::Address(ip("2001:db8::1")),
                PathAttributes {
                    origin: Some(Origin::Incomplete),
                    ..attrs()
                },
                vec![ip("10.0.0.1")]
            ),
            (
                "2001:db8:1::/48".into(),
                NextHop::SelfAddress,
                attrs(),
                vec![ip("2001:db8::2")]
            ),
        ]
    );
    // Both neighbors name the process through the template: it gets their events.
    assert_eq!(c.processes[0].encoder, Encoder::Text);
    // A relative program is taken from the configuration's folder, as ExaBGP does.
    let dir = std::fs::canonicalize(fixture("")).unwrap();
    assert_eq!(
        c.processes[0].run,
        vec![dir.join("watch.sh").display().to_string()]
    );
    assert_eq!(
        c.processes[0].receive,
        vec![
            ReceiveKind::Update,
            ReceiveKind::Open,
            ReceiveKind::Keepalive,
            ReceiveKind::Refresh,
            ReceiveKind::Negotiated
        ]
    );
}

#[test]
fn group_settings_and_routes_reach_each_neighbor() {
    let c = load(&fixture("group.conf")).unwrap();
    let peers: Vec<(IpAddr, u32, u32, u16)> = c
        .neighbors
        .iter()
        .map(|n| (n.address, n.local_as, n.peer_as, n.hold_time))
        .collect();
    assert_eq!(
        peers,
        vec![
            (ip("192.0.2.1"), 65100, 65200, 90),
            (ip("192.0.2.2"), 65100, 65201, 90)
        ]
    );
    let got: Vec<(String, Vec<IpAddr>)> = routes(&c).into_iter().map(|r| (r.0, r.3)).collect();
    assert_eq!(
        got,
        vec![
            ("198.51.100.0/24".into(), vec![ip("192.0.2.1")]),
            ("198.51.100.0/24".into(), vec![ip("192.0.2.2")]),
            ("203.0.113.0/24".into(), vec![ip("192.0.2.2")]),
        ]
    );
    assert_eq!(
        c.routes[2].route.attributes.as_path,
        Some(AsPath::sequence(vec![65100]))
    );
}

/// ExaBGP's inherit overwrites the neighbor's single-valued settings with the
/// template's (and A's with B's for inherit [ A B ]): exabgp-rs refuses a setting
/// given twice with different values, naming both places; families add up.
#[test]
fn inherit_conflicts_are_refused_and_families_add_up() {
    let tpl = "template {\n  neighbor A {\n    hold-time 30;\n    peer-as 2;\n    family {\n      ipv4 unicast;\n    }\n  }\n  neighbor B {\n    peer-as 3;\n  }\n}\n";
    // The neighbor's own hold-time against the template's.
    let e = load_text(&format!(
        "{tpl}neighbor 10.0.0.1 {{\n  inherit A;\n  router-id 1.1.1.1;\n  local-as 1;\n  hold-time 90;\n}}\n"
    ))
    .unwrap_err();
    assert!(
        e.lines().any(|l| l.starts_with(
            "t.conf:17:3: hold-time is set here and, to a different value, at t.conf:3:5"
        )),
        "{e}"
    );
    // Two templates: A's peer-as against B's.
    let e = load_text(&format!(
        "{tpl}neighbor 10.0.0.1 {{\n  inherit [ A B ];\n  router-id 1.1.1.1;\n  local-as 1;\n}}\n"
    ))
    .unwrap_err();
    assert!(
        e.lines().any(|l| l.starts_with(
            "t.conf:4:5: peer-as is set here and, to a different value, at t.conf:10:5"
        )),
        "{e}"
    );
    // The same value twice is fine; the families are the union.
    let c = load_text(&format!(
        "{tpl}neighbor 10.0.0.1 {{\n  inherit A;\n  router-id 1.1.1.1;\n  local-as 1;\n  hold-time 30;\n  family {{\n    ipv6 unicast;\n  }}\n}}\n"
    ))
    .unwrap();
    let n = &c.neighbors[0];
    assert_eq!((n.hold_time, n.peer_as), (30, 2));
    assert_eq!(n.families, vec![Family::IPV6_UNICAST, Family::IPV4_UNICAST]);
    // A group's setting against its neighbor's.
    let e = load_text("group g {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n  neighbor 10.0.0.1 {\n    peer-as 5;\n  }\n}\n").unwrap_err();
    assert!(
        e.lines().any(|l| l.starts_with(
            "t.conf:6:5: peer-as is set here and, to a different value, at t.conf:4:3"
        )),
        "{e}"
    );
}

/// Neighbors naming one process with the same events, in any order, are accepted.
#[test]
fn same_events_from_every_neighbor_are_accepted() {
    let c = load_text("process p {\n  run /bin/true;\n}\nneighbor 10.0.0.1 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n  api {\n    processes [ p ];\n    neighbor-changes;\n    receive {\n      update;\n    }\n  }\n}\nneighbor 10.0.0.2 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n  api {\n    processes [ p ];\n    receive {\n      update;\n    }\n    neighbor-changes;\n  }\n}\n").unwrap();
    assert_eq!(
        c.processes[0].receive,
        vec![ReceiveKind::Update, ReceiveKind::State]
    );
}

/// Deep nesting is an error at the block too deep, not a stack overflow (the
/// loader also runs on reload): `exabgp validate` exits 78, not 134.
#[test]
fn deep_nesting_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.conf");
    let mut text = String::from("neighbor 127.0.0.2 {\n");
    for _ in 0..100_000 {
        text.push_str("a {\n");
    }
    std::fs::write(&path, &text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exabgp"))
        .arg("validate")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    // Line 1 is the neighbor (depth 1); line 33 opens the 33rd block.
    assert!(
        err.contains("deep.conf:33:1: blocks nested more than 32 deep"),
        "{err}"
    );
}

/// The routes of a template are copied to each neighbor inheriting it: the file's
/// total (split expanded) is counted before anything is expanded and refused past
/// 1,000,000 (20 split /64 of a /48 in a template of 20 neighbors were 26M routes).
#[test]
fn expanded_routes_are_capped_per_file() {
    let mut text = String::from("template {\n  neighbor t {\n    router-id 1.1.1.1;\n    local-as 1;\n    peer-as 2;\n    static {\n");
    for i in 0..2 {
        text.push_str(&format!(
            "      route 2001:db8:{i}::/48 next-hop 2001:db8::1 split /64;\n"
        ));
    }
    text.push_str("    }\n  }\n}\n");
    // 8 neighbors x 131072 routes = 1048576.
    for n in 1..=8 {
        text.push_str(&format!("neighbor 10.0.0.{n} {{\n  inherit t;\n}}\n"));
    }
    let e = load_text(&text).unwrap_err();
    assert!(
        e.lines().any(|l| l.starts_with(
            "t.conf:33:1: with neighbor 10.0.0.8 this file expands to 1048576 routes or more"
        )),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
}

/// `group-updates false` only changes how routes are packed into UPDATEs: accepted.
#[test]
fn group_updates_false_is_accepted() {
    let c = load_text(&format!("{BASE}  group-updates false;\n}}\n")).unwrap();
    assert_eq!(c.neighbors[0].peer_as, 2);
}

/// `md5-ip` is accepted when it is the local-address (what exabgp-rs keys on).
#[test]
fn md5_ip_equal_to_local_address_is_accepted() {
    let c = load_text(&format!(
        "{BASE}  local-address 10.0.0.2;\n  md5-password s;\n  md5-ip 10.0.0.2;\n}}\n"
    ))
    .unwrap();
    assert_eq!(c.neighbors[0].md5_password.as_deref(), Some("s"));
    let e = load_text(&format!(
        "{BASE}  local-address 10.0.0.2;\n  md5-ip 10.0.0.3;\n}}\n"
    ))
    .unwrap_err();
    assert!(
        e.starts_with("t.conf:6:3: md5-ip 10.0.0.3 is not the local-address of neighbor 10.0.0.1"),
        "{e}"
    );
    let e = load_text(&format!("{BASE}  md5-ip 10.0.0.3;\n}}\n")).unwrap_err();
    assert!(e.starts_with("t.conf:5:3: md5-ip 10.0.0.3 is not"), "{e}");
}

/// The comments of a template (before its neighbor block and before its `}`) are
/// carried by `exabgp migrate` too.
#[test]
fn migrate_keeps_template_comments() {
    let text = "template {\n  # before the template neighbor\n  neighbor t {\n    local-as 1;\n    # at the end of the template\n  }\n}\nneighbor 10.0.0.1 {\n  inherit t;\n  router-id 1.1.1.1;\n  peer-as 2;\n}\n";
    let c = classic::parse(text, "x").unwrap();
    let toml = classic_to_toml(&c, "x");
    assert!(toml.contains("# before the template neighbor\n"), "{toml}");
    assert!(toml.contains("# at the end of the template\n"), "{toml}");
}

/// A comment holding a bare CR or another control character still migrates to
/// loadable TOML (the character escaped).
#[test]
fn migrate_escapes_control_characters_in_comments() {
    let text = format!("# a\rb\x01c\x7fd\te\n{BASE}}}\n");
    let c = classic::parse(&text, "x").unwrap();
    let toml = classic_to_toml(&c, "x");
    assert!(toml.contains("# a\\u{d}b\\u{1}c\\u{7f}d\te\n"), "{toml}");
    let mut back = parse_str(&toml, "m.toml").unwrap_or_else(|e| panic!("{e}\n{toml}"));
    back.source = c.config.source.clone();
    assert_eq!(back, c.config);
}

/// A comment on the line of a statement (`hold-time 90; # slow`) stays with that
/// statement, not with the next one.
#[test]
fn same_line_comment_stays_with_its_statement() {
    let text = format!("{BASE}  static {{\n    route 10.1.0.0/16 next-hop self; # the first\n    route 10.2.0.0/16 next-hop self;\n  }}\n}}\n");
    let c = classic::parse(&text, "x").unwrap();
    assert_eq!(
        c.comments.routes,
        vec![vec!["the first".to_string()], Vec::new()]
    );
}

/// A second `family` block adds to the first (ExaBGP appends).
#[test]
fn family_blocks_add_up() {
    let c = load_text(&format!(
        "{BASE}  family {{\n    ipv6 unicast;\n  }}\n  family {{\n    ipv4 unicast;\n  }}\n}}\n"
    ))
    .unwrap();
    assert_eq!(
        c.neighbors[0].families,
        vec![Family::IPV6_UNICAST, Family::IPV4_UNICAST]
    );
}

/// The community names ExaBGP accepts: `nopeer`, `no_export`, `no_advertise`.
#[test]
fn exabgp_community_names_are_accepted() {
    let c = load_text(&format!(
        "{BASE}  static {{\n    route 10.1.0.0/16 next-hop self community [ nopeer no_export no_advertise ];\n  }}\n}}\n"
    ))
    .unwrap();
    assert_eq!(
        c.routes[0].route.attributes.communities,
        vec![
            Community::NO_PEER,
            Community::NO_EXPORT,
            Community::NO_ADVERTISE
        ]
    );
}

/// `exabgp migrate` on a TOML file says so (it said "missing ';'").
#[test]
fn migrate_of_a_toml_file_says_it_is_toml() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.toml");
    std::fs::write(&path, "[global]\nrouter-id = \"1.1.1.1\"\nlocal-as = 1\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_exabgp"))
        .arg("migrate")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains("x.toml:1:1: the file is already TOML"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// The property `exabgp migrate` promises: its TOML loads to the classic file's model.
#[test]
fn migrate_round_trips_every_fixture() {
    for path in fixtures() {
        let name = path.display().to_string();
        let classic_model = load(&path).unwrap();
        let toml = exabgp::config::migrate_file(&path).unwrap();
        let mut from_toml = parse_str(&toml, "migrated.toml")
            .unwrap_or_else(|e| panic!("{name}: migrated TOML refused: {e}\n{toml}"));
        from_toml.source = classic_model.source.clone();
        assert_eq!(from_toml, classic_model, "{name}\n{toml}");
    }
}

#[test]
fn migrate_carries_comments() {
    let toml = exabgp::config::migrate_file(&fixture("split.conf")).unwrap();
    // The file's head comment (before the neighbor) and the route's.
    let head = toml
        .find("# Follows ExaBGP's etc/exabgp/conf-split.conf")
        .unwrap();
    let neighbor = toml.find("[[neighbor]]").unwrap();
    assert!(head < neighbor, "{toml}");
    // A comment inside the neighbor's family block stays with the neighbor.
    let inner = toml.find("# only IPv4 here").unwrap();
    assert!(head < inner && inner < neighbor, "{toml}");
    let route_comment = toml.find("# the first four").unwrap();
    let first_route = toml.find("[[route]]").unwrap();
    assert!(route_comment < first_route, "{toml}");
    // And the migrate API agrees with the parse API.
    let text = std::fs::read_to_string(fixture("split.conf")).unwrap();
    let c = classic::parse(&text, "x").unwrap();
    assert!(classic_to_toml(&c, "x").contains("# the first four"));
}

#[test]
fn detection_by_extension_and_content() {
    let t = Path::new("x.toml");
    let c = Path::new("x.conf");
    let other = Path::new("x");
    assert!(classic::is_classic(c, "# x\nneighbor 10.0.0.1 {\n"));
    // A TOML table header first: TOML, even named .conf.
    assert!(!classic::is_classic(c, "# x\n[global]\n"));
    assert!(!classic::is_classic(t, "neighbor 1.2.3.4 {\n}\n"));
    assert!(classic::is_classic(other, "# hi\nneighbor 10.0.0.1 {\n"));
    assert!(!classic::is_classic(other, "# hi\n[global]\n"));
    assert!(!classic::is_classic(other, "router-id = \"1.2.3.4\"\n"));
    // A classic file with no extension loads as classic.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("exabgp");
    std::fs::copy(fixture("split.conf"), &p).unwrap();
    assert_eq!(load(&p).unwrap().routes.len(), 8);
}

/// ExaBGP looks a relative `run` program up beside the configuration; a bare name
/// found nowhere there is left to PATH.
#[test]
fn relative_run_programs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("check.py"), "").unwrap();
    let text = "process a {\n  run check.py --x;\n}\nprocess b {\n  run python3 -u;\n}\nprocess c {\n  run bin/c;\n}\nneighbor 10.0.0.1 {\n  router-id 10.0.0.2;\n  local-as 1;\n  peer-as 2;\n  api {\n    processes [ a b c ];\n  }\n}\n";
    let path = dir.path().join("x.conf");
    std::fs::write(&path, text).unwrap();
    let c = load(&path).unwrap();
    let base = std::fs::canonicalize(dir.path()).unwrap();
    let runs: Vec<Vec<String>> = c.processes.iter().map(|p| p.run.clone()).collect();
    assert_eq!(
        runs,
        vec![
            vec![base.join("check.py").display().to_string(), "--x".into()],
            vec!["python3".to_string(), "-u".into()],
            vec![base.join("bin/c").display().to_string()],
        ]
    );
    // An api block without receive: no events (ExaBGP's behaviour), migrated to an
    // explicit empty receive list.
    assert!(c.processes.iter().all(|p| p.receive.is_empty()));
    let toml = exabgp::config::migrate_file(&path).unwrap();
    let mut back = parse_str(&toml, "m.toml").unwrap();
    back.source = c.source.clone();
    assert_eq!(back, c);
}

/// `capability { graceful-restart ...; }` as ExaBGP reads it (capability.py): alone,
/// the hold time is the restart time; a number of seconds; or disable (off).
#[test]
fn graceful_restart_capability_maps_to_the_neighbor_setting() {
    for (cap, want) in [
        ("graceful-restart;", Some(180)),
        ("graceful-restart 1200;", Some(1200)),
        ("graceful-restart 0;", Some(0)),
        ("graceful-restart disable;", None),
        ("route-refresh;", None),
    ] {
        let text = format!(
            "neighbor 10.0.0.1 {{\n  router-id 10.0.0.2;\n  local-as 1;\n  peer-as 2;\n  capability {{\n    {cap}\n  }}\n}}\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.conf");
        std::fs::write(&path, &text).unwrap();
        let c = load(&path).unwrap_or_else(|e| panic!("{cap}: {e}"));
        assert_eq!(c.neighbors[0].graceful_restart, want, "{cap}");
        let toml = exabgp::config::migrate_file(&path).unwrap();
        let back = parse_str(&toml, "t.toml").unwrap();
        assert_eq!(
            back.neighbors[0].graceful_restart, want,
            "{cap}: migrated\n{toml}"
        );
    }
}

const BASE: &str = "neighbor 10.0.0.1 {\n  router-id 10.0.0.2;\n  local-as 1;\n  peer-as 2;\n";

/// Each unsupported or wrong construct: the error names it, at the right place.
#[test]
fn unsupported_constructs_are_named_with_their_position() {
    let cases: &[(&str, &str)] = &[
        // (inside the neighbor block, expected message start at line 5 col 3)
        ("  listen 1790;\n", "t.conf:5:3: 'listen' is not supported"),
        ("  family {\n    ipv4 flow;\n  }\n", "t.conf:6:5: family 'ipv4 flow' is not supported"),
        ("  family {\n    l2vpn vpls;\n  }\n", "t.conf:6:5: family 'l2vpn vpls' is not supported"),
        ("  capability {\n    graceful-restart 4096;\n  }\n", "t.conf:6:22: invalid graceful-restart \"4096\", expected 0 to 4095 seconds or disable"),
        ("  capability {\n    add-path send/receive;\n  }\n", "t.conf:6:5: capability 'add-path' is not supported"),
        ("  capability {\n    asn4 disable;\n  }\n", "t.conf:6:5: capability 'asn4 disable' is not supported"),
        ("  capability {\n    asn4 disabel;\n  }\n", "t.conf:6:10: invalid value for capability asn4, expected enable or disable"),
        ("  capability {\n    route-refresh nonsense;\n  }\n", "t.conf:6:19: invalid value for capability route-refresh"),
        ("  flow {\n  }\n", "t.conf:5:3: 'flow' is not supported"),
        ("  l2vpn {\n  }\n", "t.conf:5:3: 'l2vpn' is not supported"),
        ("  group-updates maybe;\n", "t.conf:5:17: invalid value \"maybe\" for group-updates"),
        ("  auto-flush false;\n", "t.conf:5:3: auto-flush false is not supported"),
        ("  adj-rib-out false;\n", "t.conf:5:3: adj-rib-out false is not supported"),
        ("  host-name h1;\n", "t.conf:5:3: 'host-name' is not supported"),
        ("  bogus 1;\n", "t.conf:5:3: unknown neighbor setting 'bogus'"),
        ("  static {\n    route 10.0.0.0/8 next-hop self label 100;\n  }\n", "t.conf:6:36: route attribute 'label' is not supported"),
        ("  static {\n    route 10.0.0.0/8 next-hop self path-information 1.2.3.4;\n  }\n", "t.conf:6:36: route attribute 'path-information' is not supported"),
        ("  static {\n    route 10.0.0.0/8 next-hop self as-path [ 1 ( 2 3 ) ];\n  }\n", "t.conf:6:48: an AS_SET in as-path"),
        ("  static {\n    route 10.0.0.0/8 med 5;\n  }\n", "t.conf:6:11: route 10.0.0.0/8 has no next-hop"),
        ("  static {\n    route 10.0.0.1/8 next-hop self;\n  }\n", "t.conf:6:11: invalid prefix \"10.0.0.1/8\": host bits are set"),
        ("  family {\n    ipv4 unicast;\n  }\n  static {\n    route 2001:db8::/32 next-hop self;\n  }\n", "t.conf:9:11: route 2001:db8::/32 is ipv6 unicast but neighbor 10.0.0.1 does not negotiate it"),
        ("  announce {\n    ipv4 {\n      flow match 1;\n    }\n  }\n", "t.conf:7:7: family 'ipv4 flow' is not supported in announce"),
        ("  api {\n    processes [ nowhere ];\n  }\n", "t.conf:6:17: api names process 'nowhere', which is not defined"),
        ("  api {\n    processes [ p ];\n    receive {\n      packets;\n    }\n  }\n", "t.conf:8:7: receive 'packets' is not supported"),
        ("  api {\n    processes [ p ];\n    send {\n      update;\n    }\n  }\n", "t.conf:8:7: send 'update' is not supported"),
        ("  inherit nothing;\n", "t.conf:5:11: inherit names template 'nothing', which is not defined"),
        ("  hold-time 2;\n", "t.conf:5:13: invalid hold-time \"2\", expected 0 or 3 to 65535 seconds"),
        ("  hold-time 90\n", "t.conf:5:3: missing ';'"),
        ("  md5-password ab\\cd;\n", "t.conf:5:18: a backslash outside quotes is not supported"),
    ];
    for (inner, want) in cases {
        let text = format!("{BASE}{inner}}}\nprocess p {{\n  run /bin/true;\n}}\n");
        let e = load_text(&text).expect_err(inner);
        assert!(
            e.lines().any(|l| l.starts_with(want)),
            "{inner:?}\n got: {e}\nwant: {want}"
        );
    }
}

#[test]
fn top_level_errors() {
    let cases: &[(&str, &str)] = &[
        ("include \"other.conf\";\n", "t.conf:1:1: unknown top-level section 'include'"),
        ("neighbor 10.0.0.0/24 {\n}\n", "t.conf:1:10: neighbor ranges (10.0.0.0/24) are not supported"),
        ("neighbor 10.0.0.1 {\n  local-as 1;\n  peer-as 2;\n}\n", "t.conf:1:1: neighbor 10.0.0.1 has no router-id"),
        ("neighbor 10.0.0.1 {\n  router-id 1.1.1.1;\n  peer-as 2;\n", "t.conf:1:1: missing '}' to close the block 'neighbor 10.0.0.1'"),
        ("}\n", "t.conf:1:1: unmatched '}'"),
        ("process p {\n  run /bin/true;\n}\n", "t.conf:1:1: no neighbor is configured"),
        ("process p {\n  encoder xml;\n}\n", "t.conf:2:3: invalid encoder"),
        ("process p {\n  run /bin/true;\n  respawn bogus;\n}\n", "t.conf:3:11: invalid respawn"),
        (
            "process p {\n  run /bin/true;\n}\nneighbor 10.0.0.1 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n  api {\n    processes [ p ];\n  }\n}\nneighbor 10.0.0.2 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n}\n",
            "t.conf:9:17: process 'p' is named by the api of some neighbors but not of neighbor 10.0.0.2",
        ),
        (
            "process p {\n  run /bin/true;\n}\nneighbor 10.0.0.1 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n}\n",
            "t.conf:1:1: process 'p' is named by no neighbor's api",
        ),
        (
            "neighbor 10.0.0.1 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n}\nneighbor 10.0.0.1 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n}\n",
            "t.conf:6:1: neighbor 10.0.0.1 is defined twice",
        ),
        (
            "process p {\n  run /bin/true;\n}\nneighbor 10.0.0.1 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n  api {\n    processes [ p ];\n    receive {\n      update;\n    }\n  }\n}\nneighbor 10.0.0.2 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n  api {\n    processes [ p ];\n    receive {\n      update;\n      open;\n    }\n  }\n}\n",
            "t.conf:20:17: process 'p' is given other events (receive / neighbor-changes / negotiated) by the api of neighbor 10.0.0.2 than by that of neighbor 10.0.0.1",
        ),
        (
            "process p {\n  run /bin/true;\n}\nneighbor 10.0.0.1 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n  api {\n    processes [ p ];\n    neighbor-changes;\n  }\n}\nneighbor 10.0.0.2 {\n  router-id 1.1.1.1;\n  local-as 1;\n  peer-as 2;\n  api {\n    processes [ p ];\n  }\n}\n",
            "t.conf:18:17: process 'p' is given other events",
        ),
    ];
    for (text, want) in cases {
        let e = load_text(text).expect_err(text);
        assert!(
            e.lines().any(|l| l.starts_with(want)),
            "{text:?}\n got: {e}\nwant: {want}"
        );
    }
}

/// `exabgp validate` and `exabgp migrate` as an operator runs them.
#[test]
fn validate_and_migrate_commands() {
    let bin = env!("CARGO_BIN_EXE_exabgp");
    let out = std::process::Command::new(bin)
        .args(["validate"])
        .arg(fixture("split.conf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK (1 neighbor, 8 routes, 0 processes)"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "neighbor 10.0.0.1 {\n  listen 179;\n}\n").unwrap();
    for cmd in ["validate", "migrate"] {
        let out = std::process::Command::new(bin)
            .arg(cmd)
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(78), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("bad.conf:2:3: 'listen' is not supported"),
            "{cmd}: {err}"
        );
        assert!(out.stdout.is_empty() || cmd == "validate");
    }
    let out = std::process::Command::new(bin)
        .arg("migrate")
        .arg(fixture("announce.conf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let toml = String::from_utf8(out.stdout).unwrap();
    let path = dir.path().join("edge.toml");
    std::fs::write(&path, &toml).unwrap();
    let mut a = load(&path).unwrap();
    let b = load(&fixture("announce.conf")).unwrap();
    a.source = b.source.clone();
    assert_eq!(a, b);
}
