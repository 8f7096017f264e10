//! The fuzzing entry point, shared by the cargo-fuzz target and the stable-Rust
//! property test: decode arbitrary bytes, and whatever decodes must survive an
//! encode/decode round trip unchanged. A panic here is a finding.

use super::iana::{FLAG_OPTIONAL, FLAG_PARTIAL, FLAG_TRANSITIVE};
use super::message::{decode_message, encode_message};
use super::types::{CodecOptions, Message};
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
/// back equal. Panics on any violation.
#[allow(clippy::panic)]
pub fn fuzz_decode(data: &[u8]) {
    for opts in &FUZZ_OPTIONS {
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
