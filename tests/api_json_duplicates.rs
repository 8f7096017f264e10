//! JSON events never repeat a key, whatever the peer's bytes repeat: the wire
//! messages are decoded by the real codec, encoded by the JSON encoder, and parsed
//! by a deserializer that fails on a duplicate key (serde_json alone silently
//! keeps the last one).

mod support;

use std::collections::HashSet;
use std::fmt;
use std::time::SystemTime;

use exabgp::api::events::{encode_json, Origin};
use exabgp::bgp::{decode_message, CodecOptions, Message};
use exabgp::control::{Direction, Event, EventKind, PeerInfo};
use serde::de::{Deserialize, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use support::raw::message;

/// Any JSON value, refused when an object repeats a key.
struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NoDuplicates;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<NoDuplicates, A::Error> {
                let mut keys = HashSet::new();
                while let Some(k) = m.next_key::<String>()? {
                    if !keys.insert(k.clone()) {
                        return Err(A::Error::custom(format!("duplicate key {k:?}")));
                    }
                    m.next_value::<NoDuplicates>()?;
                }
                Ok(NoDuplicates)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<NoDuplicates, A::Error> {
                while s.next_element::<NoDuplicates>()?.is_some() {}
                Ok(NoDuplicates)
            }
            fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
                Ok(NoDuplicates)
            }
            fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
                Ok(NoDuplicates)
            }
            fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
                Ok(NoDuplicates)
            }
            fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
                Ok(NoDuplicates)
            }
            fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
                Ok(NoDuplicates)
            }
            fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
                Ok(NoDuplicates)
            }
        }
        d.deserialize_any(V)
    }
}

fn no_duplicates(json: &str) -> Result<(), String> {
    serde_json::from_str::<NoDuplicates>(json)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn event(kind: EventKind) -> Event {
    Event {
        time: SystemTime::now(),
        peer: PeerInfo {
            local_address: Some("192.0.2.1".parse().unwrap()),
            peer_address: "192.0.2.77".parse().unwrap(),
            local_as: 65001,
            peer_as: 65002,
            peer_router_id: None,
            router_id: std::net::Ipv4Addr::new(192, 0, 2, 1),
        },
        direction: Direction::Receive,
        kind,
    }
}

fn json_of(bytes: &[u8]) -> String {
    let opts = CodecOptions {
        four_octet_as: true,
        extended_message: false,
    };
    let (m, _) = decode_message(bytes, &opts).unwrap().unwrap();
    let kind = match m {
        Message::Update(u) => EventKind::Update(Box::new(u)),
        Message::Open(o) => EventKind::Open(Box::new(o)),
        m => panic!("{m:?}"),
    };
    let host = Origin {
        host: "h".into(),
        pid: 1,
        ppid: 1,
    };
    encode_json(&event(kind), 1, &host)
}

/// The checker itself catches a duplicate that serde_json would hide.
#[test]
fn the_checker_sees_duplicates() {
    assert!(no_duplicates(r#"{"a": {"b": 1, "b": 2}}"#).is_err());
    assert!(serde_json::from_str::<serde_json::Value>(r#"{"a": {"b": 1, "b": 2}}"#).is_ok());
    assert!(no_duplicates(r#"{"a": [{"b": 1}, {"b": 2}]}"#).is_ok());
}

/// IPv4 NLRI and withdrawals in the classic fields and again in MP_REACH /
/// MP_UNREACH for IPv4 unicast (same next hop): one "ipv4 unicast" key each, the
/// routes merged in wire order (ExaBGP groups them the same way).
#[test]
fn ipv4_in_classic_and_mp_fields_gives_one_family_key() {
    let attrs: Vec<u8> = [
        &[0x40, 1, 1, 0][..],                                        // ORIGIN igp
        &[0x40, 2, 0],                                               // AS_PATH empty
        &[0x40, 3, 4, 192, 0, 2, 77],                                // NEXT_HOP
        &[0x80, 14, 13, 0, 1, 1, 4, 192, 0, 2, 77, 0, 24, 10, 1, 1], // MP_REACH ipv4 unicast
        &[0x80, 15, 7, 0, 1, 1, 24, 10, 8, 8],                       // MP_UNREACH ipv4 unicast
    ]
    .concat();
    let mut body = vec![0, 3, 16, 10, 9]; // withdrawn 10.9.0.0/16
    body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    body.extend_from_slice(&attrs);
    body.extend_from_slice(&[24, 10, 2, 2]); // NLRI 10.2.2.0/24
    let json = json_of(&message(2, &body));
    no_duplicates(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let u = &v["neighbor"]["message"]["update"];
    assert_eq!(
        u["announce"]["ipv4 unicast"]["192.0.2.77"],
        serde_json::json!([{"nlri": "10.2.2.0/24"}, {"nlri": "10.1.1.0/24"}]),
        "{json}"
    );
    assert_eq!(
        u["withdraw"]["ipv4 unicast"],
        serde_json::json!([{"nlri": "10.9.0.0/16"}, {"nlri": "10.8.8.0/24"}]),
        "{json}"
    );
}

/// A capability code repeated in an OPEN: one key per code (first place, last
/// value, as ExaBGP's capability dictionary gives).
#[test]
fn a_repeated_capability_code_gives_one_key() {
    let caps: Vec<u8> = [
        &[2, 0][..],                // route refresh
        &[2, 0],                    // again
        &[65, 4, 0, 0, 0xfd, 0xea], // asn4 65002
        &[65, 4, 0, 0, 0xfd, 0xeb], // asn4 65003
        &[1, 4, 0, 1, 0, 1],        // multiprotocol ipv4 unicast
        &[1, 4, 0, 2, 0, 1],        // multiprotocol ipv6 unicast
        &[90, 1, 1],                // unknown 90
        &[90, 1, 2],                // unknown 90 again
    ]
    .concat();
    let mut body = vec![4, 0xfd, 0xea, 0, 30, 192, 0, 2, 77];
    body.push(caps.len() as u8 + 2);
    body.push(2);
    body.push(caps.len() as u8);
    body.extend_from_slice(&caps);
    let json = json_of(&message(1, &body));
    no_duplicates(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let c = &v["neighbor"]["open"]["capabilities"];
    assert_eq!(c["2"]["name"], "route-refresh", "{json}");
    assert_eq!(c["65"]["asn4"], 65003, "{json}");
    assert_eq!(
        c["1"]["families"],
        serde_json::json!(["ipv4/unicast", "ipv6/unicast"]),
        "{json}"
    );
    assert_eq!(c["90"]["raw"], "02", "{json}");
}
