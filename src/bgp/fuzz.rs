//! The fuzzing entry point, shared by the cargo-fuzz target and the stable-Rust
//! property test: decode arbitrary bytes, and whatever decodes must survive an
//! encode/decode round trip unchanged. A panic here is a finding. The same bytes
//! also go through the flow NLRI decoder (`flow`), for both AFIs, SAFI 133 and 134.

use super::flow::{decode_flow_nlri, encode_flow_nlri};
use super::iana::{FLAG_OPTIONAL, FLAG_PARTIAL, FLAG_TRANSITIVE};
use super::message::{decode_message, decode_message_negotiated, encode_message};
use super::types::{Afi, CodecOptions, Family, Message};
use super::EncodeError;

/// The option sets the fuzzer runs every input through.
pub const FUZZ_OPTIONS: [CodecOptions; 2] = [
    CodecOptions::INITIAL,
    CodecOptions {
        four_octet_as: true,
        extended_message: true,
    },
];

/// What a decoded message becomes after one trip through the encoder: unknown
/// transitive attributes gain the Partial bit, and the treat-as-withdraw verdict
/// (not a wire field) is gone.
pub fn normalize_for_roundtrip(msg: &mut Message) {
    if let Message::Update(u) = msg {
        u.treat_as_withdraw = None;
        for a in &mut u.attributes.unknown {
            if a.flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE) == FLAG_OPTIONAL | FLAG_TRANSITIVE {
                a.flags |= FLAG_PARTIAL;
            }
        }
    }
}

/// Runs the decoder over `data` (every message in it, in sequence) with both
/// option sets; each decoded message is re-encoded and re-decoded and must come
/// back equal. Then [`fuzz_flow`]. Panics on any violation.
#[allow(clippy::panic)]
pub fn fuzz_decode(data: &[u8]) {
    fuzz_messages(data);
    fuzz_flow(data);
}

/// Reads `data` as a flow NLRI field (IPv4 and IPv6, SAFI 133 and 134): every
/// NLRI that decodes must encode, decode back equal, and print as text.
#[allow(clippy::panic)]
fn fuzz_flow(data: &[u8]) {
    for afi in [Afi::Ipv4, Afi::Ipv6] {
        for vpn in [false, true] {
            let mut rest = data;
            // Each NLRI takes at least one octet, so this ends.
            while let Ok((nlri, used)) = decode_flow_nlri(rest, afi, vpn) {
                assert!(
                    (1..=rest.len()).contains(&used),
                    "bad consumed length {used}"
                );
                rest = &rest[used..];
                let mut bytes = Vec::new();
                if let Err(e) = encode_flow_nlri(&nlri, &mut bytes) {
                    panic!("decoded flow NLRI does not encode: {e}: {nlri:?}");
                }
                assert!(bytes.len() <= used, "re-encoding grew the flow NLRI");
                match decode_flow_nlri(&bytes, afi, vpn) {
                    Ok((again, n)) => {
                        assert_eq!(n, bytes.len(), "flow re-decode consumed a different length");
                        assert_eq!(again, nlri, "flow round trip changed the NLRI");
                    }
                    Err(e) => panic!("re-encoded flow NLRI does not decode: {e}: {nlri:?}"),
                }
                let _ = nlri.rule.to_string();
            }
        }
    }
}

#[allow(clippy::panic)]
fn fuzz_messages(data: &[u8]) {
    for opts in &FUZZ_OPTIONS {
        // On a session of IPv4 unicast only, no other family's routes are parsed.
        let only = [Family::IPV4_UNICAST];
        let mut rest = data;
        while let Ok(Some((msg, used))) = decode_message_negotiated(rest, opts, &only) {
            rest = rest.get(used..).unwrap_or_default();
            if let Message::Update(u) = &msg {
                let a = &u.attributes;
                assert!(
                    a.flow_reach.is_none() && a.flow_unreach.is_none(),
                    "{msg:?}"
                );
                assert!(
                    !a.mp_reach.as_ref().is_some_and(|m| m.family != only[0]),
                    "{msg:?}"
                );
                assert!(
                    !a.mp_unreach
                        .as_ref()
                        .is_some_and(|m| m.family != only[0] && !m.withdrawn.is_empty()),
                    "{msg:?}"
                );
                assert!(!a.unnegotiated.contains(&only[0]), "{msg:?}");
            }
        }
        let mut rest = data;
        // Each message takes at least 19 bytes, so this ends.
        while let Ok(Some((msg, used))) = decode_message(rest, opts) {
            assert!(
                (19..=rest.len()).contains(&used),
                "bad consumed length {used}"
            );
            rest = &rest[used..];
            let mut bytes = Vec::new();
            match encode_message(&msg, opts, &mut bytes) {
                Ok(()) => {}
                // Re-encoding may legitimately grow (AS4_PATH toward an OLD speaker).
                Err(EncodeError::TooLong { .. }) => continue,
                // Treat-as-withdraw may leave unicast prefixes and flow rules to
                // withdraw: both are kept for the RIB, but one UPDATE cannot carry
                // two MP_UNREACH_NLRI. Only that verdict may produce it.
                Err(EncodeError::TwoMpAttributes(_)) if matches!(&msg, Message::Update(u) if u.treat_as_withdraw.is_some()) => {
                    continue
                }
                Err(e) => panic!("decoded message does not encode: {e}: {msg:?}"),
            }
            let mut expected = msg;
            normalize_for_roundtrip(&mut expected);
            match decode_message(&bytes, opts) {
                Ok(Some((again, n))) => {
                    assert_eq!(n, bytes.len(), "re-decode consumed a different length");
                    assert_eq!(again, expected, "round trip changed the message");
                }
                other => panic!("re-encoded message does not decode: {other:?}: {expected:?}"),
            }
        }
    }
}
