//! The event encoders: ExaBGP 5.0 JSON (compared as JSON values with the expected
//! documents, DESIGN.md's example first) and ExaBGP's text lines.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, UNIX_EPOCH};

use exabgp::api::events::{encode_json, encode_text, EventEncoder, Origin as Host};
use exabgp::bgp::{
    Aggregator, AsPath, AsSegment, Capability, Community, ExtCommunity, Family, LargeCommunity,
    MpReach, MpUnreach, Notification, Open, Origin, PathAttributes, Prefix, Update,
};
use exabgp::config::Encoder;
use exabgp::control::{Direction, Event, EventKind, PeerInfo, SessionState};
use serde_json::{json, Value};

fn host() -> Host {
    Host {
        host: "edge1".into(),
        pid: 4242,
        ppid: 1,
    }
}

fn peer() -> PeerInfo {
    PeerInfo {
        local_address: Some("192.0.2.1".parse().unwrap()),
        peer_address: "192.0.2.254".parse().unwrap(),
        local_as: 65001,
        peer_as: 65000,
        peer_router_id: Some(Ipv4Addr::new(192, 0, 2, 254)),
    }
}

fn event(kind: EventKind) -> Event {
    Event {
        time: UNIX_EPOCH + Duration::from_millis(1_653_383_995_990),
        peer: peer(),
        direction: Direction::Receive,
        kind,
    }
}

fn p(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON: {e}: {s}"))
}

#[test]
fn update_matches_designs_example() {
    let u = Update {
        withdrawn: vec![p("10.0.9.0/24")],
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 254)),
            med: Some(0),
            local_pref: Some(100),
            communities: vec![Community::new(65000, 1)],
            ..Default::default()
        },
        nlri: vec![p("10.0.2.0/24")],
        treat_as_withdraw: None,
    };
    let got = encode_json(&event(EventKind::Update(Box::new(u))), 7, &host());
    let want = json!({"exabgp": "5.0.0", "time": 1653383995.99, "host": "edge1", "pid": 4242, "ppid": 1,
     "counter": 7, "type": "update",
     "neighbor": {"address": {"local": "192.0.2.1", "peer": "192.0.2.254"},
                  "asn": {"local": 65001, "peer": 65000}, "router-id": "192.0.2.254",
                  "direction": "receive",
                  "message": {"update": {
                     "attribute": {"origin": "igp", "med": 0, "local-preference": 100,
                                   "community": [[65000, 1]]},
                     "announce": {"ipv4 unicast": {"192.0.2.254": [{"nlri": "10.0.2.0/24"}]}},
                     "withdraw": {"ipv4 unicast": [{"nlri": "10.0.9.0/24"}]}}}}});
    assert_eq!(parse(&got), want, "{got}");
    // ExaBGP's key order, for people reading the stream.
    assert!(got.starts_with(r#"{"exabgp": "5.0.0", "time": "#), "{got}");
    assert!(!got.contains('\n'));
}

#[test]
fn every_attribute_in_exabgps_form() {
    let u = Update {
        withdrawn: vec![],
        attributes: PathAttributes {
            origin: Some(Origin::Incomplete),
            as_path: Some(AsPath {
                segments: vec![
                    AsSegment::Sequence(vec![65000, 65010]),
                    AsSegment::Set(vec![1, 2]),
                ],
            }),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 254)),
            med: Some(20),
            local_pref: Some(300),
            atomic_aggregate: true,
            aggregator: Some(Aggregator {
                asn: 65000,
                address: Ipv4Addr::new(192, 0, 2, 9),
            }),
            // ExaBGP sorts communities.
            communities: vec![
                Community::NO_EXPORT,
                Community::new(65000, 2),
                Community::new(65000, 1),
            ],
            originator_id: Some(Ipv4Addr::new(192, 0, 2, 7)),
            cluster_list: vec![Ipv4Addr::new(192, 0, 2, 8)],
            ext_communities: vec![
                "target:65000:1".parse::<ExtCommunity>().unwrap(),
                ExtCommunity([0x80, 0x09, 0, 0, 0, 0, 0, 1]),
            ],
            large_communities: vec![LargeCommunity {
                global: 65000,
                local1: 1,
                local2: 2,
            }],
            ..Default::default()
        },
        nlri: vec![p("10.0.2.0/24"), p("10.0.3.0/24")],
        treat_as_withdraw: None,
    };
    let got = encode_json(&event(EventKind::Update(Box::new(u))), 1, &host());
    let v = parse(&got);
    let attr = &v["neighbor"]["message"]["update"]["attribute"];
    assert_eq!(
        *attr,
        json!({
            "origin": "incomplete",
            "as-path": {"0": {"element": "as-sequence", "value": [65000, 65010]},
                        "1": {"element": "as-set", "value": [1, 2]}},
            "med": 20,
            "local-preference": 300,
            "atomic-aggregate": true,
            "aggregator": "65000:192.0.2.9",
            "community": [[65000, 1], [65000, 2], [65535, 65281]],
            "originator-id": "192.0.2.7",
            "cluster-list": ["192.0.2.8"],
            "extended-community": [
                {"value": 0x0002FDE800000001u64, "string": "target:65000:1"},
                {"value": 0x8009000000000001u64, "string": "mark 1"}
            ],
            "large-community": [[65000, 1, 2]]
        }),
        "{got}"
    );
    assert_eq!(
        v["neighbor"]["message"]["update"]["announce"],
        json!({"ipv4 unicast": {"192.0.2.254": [{"nlri": "10.0.2.0/24"}, {"nlri": "10.0.3.0/24"}]}})
    );
    // ExaBGP's attribute order (by type code).
    let order = [
        "\"origin\"",
        "\"as-path\"",
        "\"med\"",
        "\"local-preference\"",
        "\"atomic-aggregate\"",
        "\"aggregator\"",
        "\"community\"",
        "\"originator-id\"",
        "\"cluster-list\"",
        "\"extended-community\"",
        "\"large-community\"",
    ];
    let pos: Vec<usize> = order.iter().map(|k| got.find(k).unwrap()).collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{got}");
}

#[test]
fn ipv6_mp_reach_and_unreach() {
    let u = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            mp_reach: Some(MpReach {
                family: Family::IPV6_UNICAST,
                next_hops: vec!["2001:db8::1".parse().unwrap(), "fe80::1".parse().unwrap()],
                nlri: vec![p("2001:db8:1::/48")],
            }),
            mp_unreach: Some(MpUnreach {
                family: Family::IPV6_UNICAST,
                withdrawn: vec![p("2001:db8:2::/48")],
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let v = parse(&encode_json(
        &event(EventKind::Update(Box::new(u))),
        1,
        &host(),
    ));
    let upd = &v["neighbor"]["message"]["update"];
    assert_eq!(
        upd["announce"],
        json!({"ipv6 unicast": {"2001:db8::1": [{"nlri": "2001:db8:1::/48"}]}})
    );
    assert_eq!(
        upd["withdraw"],
        json!({"ipv6 unicast": [{"nlri": "2001:db8:2::/48"}]})
    );
    assert_eq!(upd["attribute"], json!({"origin": "igp"}));
}

#[test]
fn withdraw_only_update_has_no_attribute_key() {
    let u = Update {
        withdrawn: vec![p("10.0.9.0/24")],
        ..Default::default()
    };
    let v = parse(&encode_json(
        &event(EventKind::Update(Box::new(u))),
        1,
        &host(),
    ));
    assert_eq!(
        v["neighbor"]["message"],
        json!({"update": {"withdraw": {"ipv4 unicast": [{"nlri": "10.0.9.0/24"}]}}})
    );
}

#[test]
fn state_eor_notification_open_keepalive_refresh() {
    let v = parse(&encode_json(
        &event(EventKind::State {
            state: SessionState::Up,
            reason: None,
        }),
        1,
        &host(),
    ));
    assert_eq!(v["type"], "state");
    assert_eq!(v["neighbor"]["state"], "up");
    assert!(v["neighbor"].get("direction").is_none());
    assert!(v["neighbor"].get("reason").is_none());

    let v = parse(&encode_json(
        &event(EventKind::State {
            state: SessionState::Down,
            reason: Some("peer reset \"x\"".into()),
        }),
        2,
        &host(),
    ));
    assert_eq!(v["neighbor"]["state"], "down");
    assert_eq!(v["neighbor"]["reason"], "peer reset \"x\"");

    let v = parse(&encode_json(
        &event(EventKind::EndOfRib(Family::IPV6_UNICAST)),
        3,
        &host(),
    ));
    assert_eq!(v["type"], "update");
    assert_eq!(
        v["neighbor"]["message"],
        json!({"eor": {"afi": "ipv6", "safi": "unicast"}})
    );

    // An empty UPDATE is the IPv4 End-of-RIB.
    let v = parse(&encode_json(
        &event(EventKind::Update(Box::default())),
        3,
        &host(),
    ));
    assert_eq!(
        v["neighbor"]["message"],
        json!({"eor": {"afi": "ipv4", "safi": "unicast"}})
    );

    let mut data = vec![8u8];
    data.extend_from_slice(b"goodbye!");
    let v = parse(&encode_json(
        &event(EventKind::Notification(Notification {
            code: 6,
            subcode: 2,
            data,
        })),
        4,
        &host(),
    ));
    assert_eq!(v["type"], "notification");
    assert_eq!(
        v["neighbor"]["notification"],
        json!({"code": 6, "subcode": 2, "data": "08676F6F6462796521", "message": "goodbye!"})
    );

    let open = Open {
        version: 4,
        my_as: 65000,
        hold_time: 90,
        router_id: Ipv4Addr::new(192, 0, 2, 254),
        capabilities: vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::Multiprotocol(Family::IPV6_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(65000),
        ],
    };
    let v = parse(&encode_json(
        &event(EventKind::Open(Box::new(open))),
        5,
        &host(),
    ));
    assert_eq!(v["type"], "open");
    let o = &v["neighbor"]["open"];
    assert_eq!(o["asn"], 65000);
    assert_eq!(o["hold_time"], 90);
    assert_eq!(o["router_id"], "192.0.2.254");
    assert_eq!(
        o["capabilities"]["1"]["families"],
        json!(["ipv4 unicast", "ipv6 unicast"])
    );
    assert_eq!(o["capabilities"]["65"]["asn4"], 65000);

    let v = parse(&encode_json(&event(EventKind::Keepalive), 6, &host()));
    assert_eq!(v["type"], "keepalive");
    assert_eq!(v["neighbor"]["direction"], "receive");

    let v = parse(&encode_json(
        &event(EventKind::Refresh(Family::IPV4_UNICAST)),
        7,
        &host(),
    ));
    assert_eq!(v["type"], "refresh");
    assert_eq!(v["neighbor"]["route-refresh"]["afi"], "ipv4");
}

#[test]
fn counter_counts_per_neighbor_per_helper() {
    let mut enc = EventEncoder::new(Encoder::Json, host());
    let mut other = event(EventKind::Keepalive);
    other.peer.peer_address = IpAddr::from([192, 0, 2, 253]);
    let counters: Vec<u64> = [
        event(EventKind::Keepalive),
        event(EventKind::Keepalive),
        other,
        event(EventKind::Keepalive),
    ]
    .iter()
    .map(|e| parse(enc.encode(e).trim_end())["counter"].as_u64().unwrap())
    .collect();
    assert_eq!(counters, vec![1, 2, 1, 3]);
    assert!(enc.encode(&event(EventKind::Keepalive)).ends_with('\n'));
}

#[test]
fn text_encoder_lines() {
    let u = Update {
        withdrawn: vec![p("10.0.9.0/24")],
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::sequence(vec![65000])),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 254)),
            med: Some(5),
            communities: vec![Community::new(65000, 1), Community::NO_EXPORT],
            ..Default::default()
        },
        nlri: vec![p("10.0.2.0/24")],
        treat_as_withdraw: None,
    };
    let got = encode_text(&event(EventKind::Update(Box::new(u))));
    assert_eq!(
        got,
        "neighbor 192.0.2.254 receive update start\n\
         neighbor 192.0.2.254 receive update announced 10.0.2.0/24 next-hop 192.0.2.254 origin igp as-path [ 65000 ] med 5 community [ 65000:1 no-export ]\n\
         neighbor 192.0.2.254 receive update withdrawn 10.0.9.0/24\n\
         neighbor 192.0.2.254 receive update end\n"
    );
    assert_eq!(
        encode_text(&event(EventKind::State {
            state: SessionState::Down,
            reason: Some("hold timer expired".into())
        })),
        "neighbor 192.0.2.254 down - hold timer expired\n"
    );
    assert_eq!(
        encode_text(&event(EventKind::State {
            state: SessionState::Up,
            reason: None
        })),
        "neighbor 192.0.2.254 up\n"
    );
    assert_eq!(
        encode_text(&event(EventKind::Notification(Notification {
            code: 6,
            subcode: 4,
            data: vec![]
        }))),
        "neighbor 192.0.2.254 receive notification code 6 subcode 4 data \n"
    );
}

/// The text form of announced attributes is valid input for `announce route`:
/// what a helper reads it can send back.
#[test]
fn text_attributes_parse_back() {
    let u = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Egp),
            as_path: Some(AsPath {
                segments: vec![AsSegment::Sequence(vec![1, 2]), AsSegment::Set(vec![3])],
            }),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 254)),
            med: Some(5),
            local_pref: Some(7),
            atomic_aggregate: true,
            aggregator: Some(Aggregator {
                asn: 9,
                address: Ipv4Addr::new(192, 0, 2, 9),
            }),
            communities: vec![Community::new(65000, 1)],
            large_communities: vec![LargeCommunity {
                global: 1,
                local1: 2,
                local2: 3,
            }],
            ext_communities: vec!["target:65000:1".parse::<ExtCommunity>().unwrap()],
            ..Default::default()
        },
        nlri: vec![p("10.0.2.0/24")],
        ..Default::default()
    };
    let text = encode_text(&event(EventKind::Update(Box::new(u.clone()))));
    let line = text.lines().nth(1).unwrap();
    let route = line.split(" announced ").nth(1).unwrap();
    let cmd = exabgp::api::parse_command(&format!("announce route {route}")).unwrap();
    let exabgp::api::ApiCommand::Control(exabgp::control::Command::Announce { routes, .. }) = cmd
    else {
        panic!("{cmd:?}")
    };
    let mut want = u.attributes.clone();
    want.next_hop = None;
    assert_eq!(*routes[0].attributes, want);
}
