//! Property tests: every valid message survives decode(encode(x)) == x under all
//! CodecOptions, and UPDATE packing returns exactly the prefixes it was given in
//! messages that never exceed the negotiated maximum.

mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use exabgp::bgp::*;
use proptest::collection::vec;
use proptest::prelude::*;
use support::codec::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn message_roundtrip(msg in message(), opts in options()) {
        let mut bytes = Vec::new();
        match encode_message(&msg, &opts, &mut bytes) {
            Err(EncodeError::TooLong { max, .. }) => {
                prop_assert_eq!(max, opts.max_message_len());
                prop_assert!(bytes.is_empty(), "a failed encode leaves the buffer alone");
                return Ok(());
            }
            r => r.unwrap(),
        }
        prop_assert!(bytes.len() <= opts.max_message_len());
        let (back, used) = decode_message(&bytes, &opts).unwrap().unwrap();
        prop_assert_eq!(used, bytes.len());
        let mut expected = msg;
        normalize_for_roundtrip(&mut expected);
        prop_assert_eq!(back, expected);
    }

    /// Streaming: a message cut anywhere before its end asks for more bytes.
    #[test]
    fn partial_message_needs_more(msg in message(), cut in any::<prop::sample::Index>()) {
        let opts = CodecOptions { four_octet_as: true, extended_message: true };
        let mut bytes = Vec::new();
        prop_assume!(encode_message(&msg, &opts, &mut bytes).is_ok());
        let at = cut.index(bytes.len());
        prop_assert_eq!(decode_message(&bytes[..at], &opts), Ok(None));
    }

    #[test]
    fn attributes_roundtrip(attrs in path_attributes(), opts in options()) {
        let mut attrs = attrs;
        if attrs.mp_reach.as_ref().is_some_and(|m| !m.nlri.is_empty()) {
            attrs.origin.get_or_insert(Origin::Igp);
            attrs.as_path.get_or_insert_with(AsPath::default);
        }
        let u = Update { attributes: attrs, ..Update::default() };
        let msg = Message::Update(u);
        let mut bytes = Vec::new();
        prop_assume!(encode_message(&msg, &opts, &mut bytes).is_ok());
        let (back, _) = decode_message(&bytes, &opts).unwrap().unwrap();
        let mut expected = msg;
        normalize_for_roundtrip(&mut expected);
        prop_assert_eq!(back, expected);
    }

    #[test]
    fn pack_announce_v4_returns_every_prefix(
        attrs in path_attributes(),
        prefixes in vec(prefix_v4(), 1..1500),
        nh in any::<u32>(),
        opts in options(),
    ) {
        let mut attrs = attrs;
        attrs.origin.get_or_insert(Origin::Igp);
        attrs.as_path.get_or_insert_with(AsPath::default);
        let nh = Ipv4Addr::from(nh);
        let mut out = Vec::new();
        match pack_announce(&attrs, Family::IPV4_UNICAST, &[IpAddr::V4(nh)], &prefixes, &opts, &mut out) {
            // Attributes alone too large for one message.
            Err(EncodeError::TooLong { .. }) => return Ok(()),
            r => r.unwrap(),
        }
        let mut got: Vec<Prefix> = Vec::new();
        for (i, m) in out.iter().enumerate() {
            prop_assert!(m.len() <= opts.max_message_len());
            if i > 0 {
                // The previous message was full: this message's first prefix did
                // not fit in it.
                let first = prefixes[got.len()];
                let need = 1 + usize::from(first.len()).div_ceil(8);
                prop_assert!(out[i - 1].len() + need > opts.max_message_len());
            }
            let (msg, used) = decode_message(m, &opts).unwrap().unwrap();
            prop_assert_eq!(used, m.len());
            let Message::Update(u) = msg else { panic!("not an UPDATE") };
            prop_assert_eq!(&u.treat_as_withdraw, &None);
            prop_assert_eq!(u.attributes.next_hop, Some(nh));
            prop_assert_eq!(&u.attributes.as_path, &attrs.as_path);
            prop_assert_eq!(&u.attributes.communities, &attrs.communities);
            prop_assert!(u.attributes.mp_reach.is_none());
            got.extend(u.nlri);
        }
        prop_assert_eq!(got, prefixes);
    }

    #[test]
    fn pack_announce_v6_returns_every_prefix(
        attrs in path_attributes(),
        prefixes in vec(prefix_v6(), 1..1500),
        global in any::<u128>(),
        link_local in prop::option::of(any::<u128>()),
        opts in options(),
    ) {
        let mut attrs = attrs;
        attrs.origin.get_or_insert(Origin::Igp);
        attrs.as_path.get_or_insert_with(AsPath::default);
        let mut nhs = vec![IpAddr::V6(Ipv6Addr::from(global))];
        nhs.extend(link_local.map(|l| IpAddr::V6(Ipv6Addr::from(l))));
        let mut out = Vec::new();
        match pack_announce(&attrs, Family::IPV6_UNICAST, &nhs, &prefixes, &opts, &mut out) {
            Err(EncodeError::TooLong { .. }) => return Ok(()),
            r => r.unwrap(),
        }
        let mut got = Vec::new();
        for m in &out {
            prop_assert!(m.len() <= opts.max_message_len());
            let (msg, _) = decode_message(m, &opts).unwrap().unwrap();
            let Message::Update(u) = msg else { panic!("not an UPDATE") };
            prop_assert_eq!(&u.treat_as_withdraw, &None);
            prop_assert!(u.nlri.is_empty());
            let reach = u.attributes.mp_reach.unwrap();
            prop_assert_eq!(reach.family, Family::IPV6_UNICAST);
            prop_assert_eq!(&reach.next_hops, &nhs);
            got.extend(reach.nlri);
        }
        prop_assert_eq!(got, prefixes);
    }

    #[test]
    fn pack_withdraw_returns_every_prefix(
        v4 in vec(prefix_v4(), 0..2000),
        v6 in vec(prefix_v6(), 0..2000),
        opts in options(),
    ) {
        for (family, prefixes) in [(Family::IPV4_UNICAST, &v4), (Family::IPV6_UNICAST, &v6)] {
            let mut out = Vec::new();
            pack_withdraw(family, prefixes, &opts, &mut out).unwrap();
            prop_assert_eq!(out.is_empty(), prefixes.is_empty());
            let mut got = Vec::new();
            for m in &out {
                prop_assert!(m.len() <= opts.max_message_len());
                let Message::Update(u) = decode_message(m, &opts).unwrap().unwrap().0 else {
                    panic!("not an UPDATE")
                };
                got.extend(u.withdrawn);
                if let Some(un) = u.attributes.mp_unreach {
                    prop_assert_eq!(un.family, family);
                    got.extend(un.withdrawn);
                }
            }
            prop_assert_eq!(&got, prefixes);
        }
    }
}

#[test]
fn end_of_rib_markers_decode_as_end_of_rib() {
    let flow = "ipv4 flow".parse::<Family>().unwrap();
    for family in [Family::IPV4_UNICAST, Family::IPV6_UNICAST, flow] {
        for opts in OPTIONS {
            let bytes = encode_end_of_rib(family, &opts);
            let (msg, used) = decode_message(&bytes, &opts).unwrap().unwrap();
            assert_eq!(used, bytes.len());
            let Message::Update(u) = msg else {
                panic!("not an UPDATE")
            };
            assert_eq!(u.end_of_rib(), Some(family));
        }
    }
}

/// Attributes that RFC 7606 says to treat-as-withdraw (§7.1 ORIGIN value, §7.4
/// MED length, §7.8 COMMUNITIES length, §7.3 NEXT_HOP length, §7.2 AS_PATH
/// segment, §3 c flags).
const MALFORMED: [&[u8]; 6] = [
    &[0x40, 1, 1, 5],
    &[0x80, 4, 3, 0, 0, 0],
    &[0xC0, 8, 3, 0, 0, 0],
    &[0x40, 3, 3, 1, 2, 3],
    &[0x40, 2, 4, 9, 1, 0, 0],
    &[0xC0, 5, 4, 0, 0, 0, 100],
];

/// Puts `attr` first in the attribute block of an encoded UPDATE.
fn inject(msg: &[u8], attr: &[u8]) -> Vec<u8> {
    let wlen = usize::from(u16::from_be_bytes([msg[19], msg[20]]));
    let at = 21 + wlen;
    let alen = u16::from_be_bytes([msg[at], msg[at + 1]]) + attr.len() as u16;
    let mut out = msg[..at].to_vec();
    out.extend_from_slice(&alen.to_be_bytes());
    out.extend_from_slice(attr);
    out.extend_from_slice(&msg[at + 2..]);
    let len = (out.len() as u16).to_be_bytes();
    out[16..18].copy_from_slice(&len);
    out
}

proptest! {
    #![proptest_config(config())]

    /// RFC 7606 §2: under treat-as-withdraw every prefix the UPDATE announced
    /// (classic or MP) comes out withdrawn, what it withdrew stays withdrawn, and
    /// nothing is announced.
    #[test]
    fn treat_as_withdraw_withdraws_everything(u in update(), which in 0..MALFORMED.len()) {
        let opts = CodecOptions { four_octet_as: true, extended_message: true };
        let mut bytes = Vec::new();
        encode_message(&Message::Update(u.clone()), &opts, &mut bytes).unwrap();
        let bad = inject(&bytes, MALFORMED[which]);
        let (msg, used) = decode_message(&bad, &opts).unwrap().unwrap();
        prop_assert_eq!(used, bad.len());
        let Message::Update(got) = msg else { panic!("not an UPDATE") };
        prop_assert!(got.treat_as_withdraw.is_some());
        prop_assert!(got.nlri.is_empty());
        prop_assert!(got.attributes.mp_reach.is_none());
        let mut out: Vec<Prefix> = got.withdrawn.clone();
        out.extend(got.attributes.mp_unreach.iter().flat_map(|m| m.withdrawn.iter().copied()));
        let mut want: Vec<Prefix> = u.withdrawn.iter().chain(&u.nlri).copied().collect();
        let a = &u.attributes;
        want.extend(a.mp_reach.iter().flat_map(|m| m.nlri.iter().copied()));
        want.extend(a.mp_unreach.iter().flat_map(|m| m.withdrawn.iter().copied()));
        out.sort();
        want.sort();
        prop_assert_eq!(out, want);
    }
}
