//! libFuzzer target: every input goes through `exabgp::bgp::fuzz_decode`, which
//! decodes it under both codec option sets and round-trips whatever decodes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    exabgp::bgp::fuzz_decode(data);
});
