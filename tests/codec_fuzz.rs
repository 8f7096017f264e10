//! Runs the fuzz property (`bgp::fuzz_decode`) on stable Rust: random bytes,
//! random bodies behind a valid header, and valid messages with random damage.
//! A panic anywhere in decode, encode or the round-trip check fails the test.

mod support;

use exabgp::bgp::*;
use proptest::collection::vec;
use proptest::prelude::*;
use support::codec::message;

/// One way to damage a message.
#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: prop::sample::Index, bit: u8 },
    Set { at: prop::sample::Index, value: u8 },
    Insert { at: prop::sample::Index, value: u8 },
    Remove { at: prop::sample::Index },
    Truncate { at: prop::sample::Index },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let idx = any::<prop::sample::Index>;
    prop_oneof![
        (idx(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (idx(), any::<u8>()).prop_map(|(at, value)| Mutation::Set { at, value }),
        (idx(), any::<u8>()).prop_map(|(at, value)| Mutation::Insert { at, value }),
        idx().prop_map(|at| Mutation::Remove { at }),
        idx().prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// Applies the mutations; the header length is fixed up afterwards half of the
/// time so the damage reaches the body decoders instead of the framing check.
fn damage(mut b: Vec<u8>, muts: &[Mutation], fix_length: bool) -> Vec<u8> {
    for m in muts {
        if b.is_empty() {
            break;
        }
        match m {
            // Leave the marker alone: its check is trivial and would hide the rest.
            Mutation::Flip { at, bit } => {
                let i = 16 + at.index(b.len().saturating_sub(16).max(1));
                if let Some(x) = b.get_mut(i) {
                    *x ^= 1 << bit;
                }
            }
            Mutation::Set { at, value } => {
                let i = 16 + at.index(b.len().saturating_sub(16).max(1));
                if let Some(x) = b.get_mut(i) {
                    *x = *value;
                }
            }
            Mutation::Insert { at, value } => {
                let i = 19 + at.index(b.len().saturating_sub(18).max(1));
                if i <= b.len() {
                    b.insert(i, *value);
                }
            }
            Mutation::Remove { at } => {
                let i = 19 + at.index(b.len().saturating_sub(19).max(1));
                if i < b.len() {
                    b.remove(i);
                }
            }
            Mutation::Truncate { at } => {
                b.truncate(19 + at.index(b.len().saturating_sub(19).max(1)))
            }
        }
    }
    if fix_length && b.len() >= 19 {
        let l = (b.len() as u16).to_be_bytes();
        b[16] = l[0];
        b[17] = l[1];
    }
    b
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 3000,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes(data in vec(any::<u8>(), 0..512)) {
        fuzz_decode(&data);
    }

    #[test]
    fn random_body_behind_a_valid_header(msg_type in 1u8..=5, body in vec(any::<u8>(), 0..600)) {
        fuzz_decode(&support::raw::message(msg_type, &body));
    }

    #[test]
    fn damaged_valid_messages(
        msgs in vec(message(), 1..3),
        muts in vec(mutation(), 1..6),
        fix_length in any::<bool>(),
    ) {
        let opts = CodecOptions { four_octet_as: true, extended_message: true };
        let mut stream = Vec::new();
        for m in &msgs {
            let mut b = Vec::new();
            if encode_message(m, &opts, &mut b).is_ok() {
                stream.extend(damage(b, &muts, fix_length));
            }
        }
        fuzz_decode(&stream);
    }
}

/// Findings of the cargo-fuzz target, kept as regressions (fuzz/artifacts).
#[test]
fn fuzz_findings_stay_fixed() {
    // An UPDATE whose MP_UNREACH carries an IPv4 flow NLRI (SAFI 133) with a
    // one-octet rule (found by the 30 s CI fuzz run after FlowSpec was wired).
    let found: &[&[u8]] = &[&[
        255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 50, 2,
        0, 0, 0, 27, 64, 1, 1, 0, 64, 2, 6, 2, 1, 0, 0, 253, 233, 128, 15, 11, 0, 1, 133, 7, 5, 3,
        0, 2, 254, 0, 253,
    ]];
    for f in found {
        fuzz_decode(f);
    }
}
