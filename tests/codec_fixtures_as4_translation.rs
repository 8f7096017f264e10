//! Byte fixtures for the RFC 6793 AS4 translation: toward an OLD (2-octet AS)
//! speaker AS_PATH carries AS_TRANS and AS4_PATH / AS4_AGGREGATOR the real values;
//! from one they are merged back (or ignored where the RFC says so); confederation
//! segments and long sequences. Each checked in both directions unless the comment
//! says why one direction differs.

mod support;

use exabgp::bgp::*;
use support::codec::*;

fn announce(a: PathAttributes) -> Message {
    Message::Update(Update {
        attributes: a,
        nlri: vec![p("203.0.113.0/24")],
        ..Update::default()
    })
}

fn base(as_path: AsPath) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(as_path),
        next_hop: Some(ip4("192.0.2.1")),
        ..Default::default()
    }
}

/// RFC 6793 §4.2.2: toward an OLD speaker, AS_PATH carries AS_TRANS (0x5ba0) for
/// 4-octet AS numbers and AS4_PATH (type 17, optional transitive) the real path.
/// Between NEW speakers the path is simply 4-octet and AS4_PATH is absent.
#[test]
fn as4_path_toward_old_speaker() {
    let a = base(AsPath::sequence(vec![65001, 4_200_000_000]));
    let old = update_msg(
        "40 01 01 00  40 02 06 02 02 fde9 5ba0  40 03 04 c0000201
         c0 11 0a 02 02 0000fde9 fa56ea00",
        "18 cb0071",
    );
    both_ways(&old, &announce(a.clone()), &OLD);
    let new = update_msg(
        "40 01 01 00  40 02 0a 02 02 0000fde9 fa56ea00  40 03 04 c0000201",
        "18 cb0071",
    );
    both_ways(&new, &announce(a), &NEW);
}

/// RFC 6793 §4.2.2: AGGREGATOR with AS_TRANS plus AS4_AGGREGATOR (type 18).
#[test]
fn as4_aggregator_toward_old_speaker() {
    let a = PathAttributes {
        aggregator: Some(Aggregator {
            asn: 4_200_000_000,
            address: ip4("192.0.2.9"),
        }),
        ..Default::default()
    };
    let bytes = update_msg("c0 07 06 5ba0 c0000209  c0 12 08 fa56ea00 c0000209", "");
    both_ways(&bytes, &attrs_only(a.clone()), &OLD);
    both_ways(
        &update_msg("c0 07 08 fa56ea00 c0000209", ""),
        &attrs_only(a),
        &NEW,
    );
}

/// A 2-octet AGGREGATOR next to a path that needs AS4_PATH also goes as AS_TRANS
/// plus AS4_AGGREGATOR: otherwise a NEW speaker behind the OLD one would ignore
/// our AS4_PATH (RFC 6793 §4.2.3) and see AS_TRANS in the path.
#[test]
fn as4_aggregator_follows_as4_path() {
    let mut a = base(AsPath::sequence(vec![4_200_000_000]));
    a.aggregator = Some(Aggregator {
        asn: 65002,
        address: ip4("192.0.2.9"),
    });
    let bytes = update_msg(
        "40 01 01 00  40 02 04 02 01 5ba0  40 03 04 c0000201  c0 07 06 5ba0 c0000209
         c0 11 06 02 01 fa56ea00  c0 12 08 0000fdea c0000209",
        "18 cb0071",
    );
    both_ways(&bytes, &announce(a), &OLD);
}

/// RFC 6793 §4.2.3 with a confederation segment that does not lead the path
/// (RFC 5065 §3 puts them first): it has no place in the rebuilt path.
#[test]
fn as4_merge_drops_misplaced_confederation_segment() {
    let bytes = update_msg(
        "40 01 01 00  40 02 0e 02 02 0001 0002 03 01 0003 02 01 5ba0  40 03 04 c0000201
         c0 11 06 02 01 fa56ea00",
        "18 cb0071",
    );
    let a = base(AsPath {
        segments: vec![
            AsSegment::Sequence(vec![1, 2]),
            AsSegment::Sequence(vec![4_200_000_000]),
        ],
    });
    decodes_to(&bytes, &announce(a), &OLD);
}

/// RFC 6793 §4.2.2: confederation segments stay in AS_PATH only; AS4_PATH
/// carries the rest.
#[test]
fn as4_path_with_confederation() {
    let a = base(AsPath {
        segments: vec![
            AsSegment::ConfedSequence(vec![65100]),
            AsSegment::Sequence(vec![4_200_000_000]),
        ],
    });
    let bytes = update_msg(
        "40 01 01 00  40 02 08 03 01 fe4c 02 01 5ba0  40 03 04 c0000201
         c0 11 06 02 01 fa56ea00",
        "18 cb0071",
    );
    both_ways(&bytes, &announce(a), &OLD);
}

/// RFC 6793 §4.2.3: when AS_PATH holds more ASes than AS4_PATH, the leading ones
/// AS4_PATH lacks (added by OLD speakers) are kept in front of it.
#[test]
fn as4_path_merge_from_old_speaker() {
    let bytes = update_msg(
        "40 01 01 00  40 02 08 02 03 fdf2 5ba0 fde9  40 03 04 c0000201
         c0 11 0a 02 02 fa56ea00 0000fde9",
        "18 cb0071",
    );
    let a = base(AsPath {
        segments: vec![
            AsSegment::Sequence(vec![65010]),
            AsSegment::Sequence(vec![4_200_000_000, 65001]),
        ],
    });
    decodes_to(&bytes, &announce(a), &OLD);
}

/// RFC 6793 §4.2.3: AS4_PATH longer than AS_PATH is ignored.
#[test]
fn as4_path_longer_than_as_path_ignored() {
    let bytes = update_msg(
        "40 01 01 00  40 02 04 02 01 5ba0  40 03 04 c0000201
         c0 11 0a 02 02 fa56ea00 0000fde9",
        "18 cb0071",
    );
    decodes_to(&bytes, &announce(base(AsPath::sequence(vec![23456]))), &OLD);
}

/// RFC 6793 §4.2.3: an AGGREGATOR whose AS is not AS_TRANS means an OLD speaker
/// aggregated: AS4_AGGREGATOR and AS4_PATH are ignored.
#[test]
fn as4_ignored_behind_old_aggregator() {
    let bytes = update_msg(
        "40 01 01 00  40 02 06 02 02 5ba0 fde9  40 03 04 c0000201
         c0 07 06 fdea c0000209
         c0 11 0a 02 02 fa56ea00 0000fde9  c0 12 08 fa56ea00 c0000209",
        "18 cb0071",
    );
    let mut a = base(AsPath::sequence(vec![23456, 65001]));
    a.aggregator = Some(Aggregator {
        asn: 65002,
        address: ip4("192.0.2.9"),
    });
    decodes_to(&bytes, &announce(a), &OLD);
}

/// RFC 6793 §4.1: between NEW speakers AS4_PATH / AS4_AGGREGATOR are discarded;
/// from an OLD speaker a malformed AS4_PATH is discarded (RFC 6793 §6).
#[test]
fn as4_attributes_discarded_when_not_applicable() {
    let a = base(AsPath::sequence(vec![65001]));
    let new = update_msg(
        "40 01 01 00  40 02 06 02 01 0000fde9  40 03 04 c0000201  c0 11 06 02 01 fa56ea00",
        "18 cb0071",
    );
    decodes_to(&new, &announce(a), &NEW);
    let old = update_msg(
        "40 01 01 00  40 02 04 02 01 fde9  40 03 04 c0000201  c0 11 03 02 01 fa",
        "18 cb0071",
    );
    decodes_to(&old, &announce(base(AsPath::sequence(vec![65001]))), &OLD);
}

/// RFC 4271 §4.3: a segment holds at most 255 ASes; longer runs are split (and
/// come back as two segments).
#[test]
fn long_as_sequence_is_split() {
    let asns: Vec<u32> = (1..=300).collect();
    let mut out = Vec::new();
    encode_message(
        &attrs_only(base(AsPath::sequence(asns.clone()))),
        &NEW,
        &mut out,
    )
    .unwrap();
    let u = decode_update(&out, &NEW);
    let want = AsPath {
        segments: vec![
            AsSegment::Sequence(asns[..255].to_vec()),
            AsSegment::Sequence(asns[255..].to_vec()),
        ],
    };
    assert_eq!(u.attributes.as_path, Some(want));
}
