//! libFuzzer target: every input goes through `exabgp::bgp::fuzz_decode`, which
//! decodes it under both codec option sets and round-trips whatever decodes, then
//! reads it as a flow NLRI field (IPv4/IPv6, SAFI 133/134) and round-trips that.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    exabgp::bgp::fuzz_decode(data);
});
