//! Flow rules sharing their actions go out packed, as many to an UPDATE as fit
//! (bgp::pack_flow_announce), not one UPDATE per rule: over real TCP, a running
//! `exabgp server` with 300 `[[flow]]` rules (one action for all) sends them to
//! this test's raw peer in a handful of UPDATEs, and every rule arrives.

mod support;

use std::collections::BTreeSet;
use std::net::IpAddr;

use exabgp::bgp::{decode_message, CodecOptions, Message};
use support::raw::*;
use support::*;

const EXA_AS: u32 = 65001;
const RULES: usize = 300;

/// OPEN capabilities: multiprotocol ipv4 unicast and ipv4 flow (SAFI 133), 4-octet AS.
fn flow_caps() -> Vec<u8> {
    let mut caps = vec![1, 4, 0, 1, 0, 1, 1, 4, 0, 1, 0, 133, 65, 4];
    caps.extend_from_slice(&u32::from(RAW_AS).to_be_bytes());
    caps
}

#[test]
fn flow_rules_with_the_same_actions_share_updates() {
    let dir = TestDir::new("flow-packing");
    let exa_ip: IpAddr = loopback_addr(61).into();
    let raw_ip: IpAddr = loopback_addr(63).into();
    let mut config = ExaConfig::new(EXA_AS)
        .passive(raw_ip, RAW_AS.into())
        .line("families = [\"ipv4 unicast\", \"ipv4 flow\"]");
    for i in 0..RULES {
        config = config.line(&format!(
            "\n[[flow]]\n\
             match = {{ destination = \"10.0.{}.{}/32\", protocol = \"tcp\", destination-port = \"=80\" }}\n\
             then = {{ discard = true }}",
            i / 256,
            i % 256
        ));
    }
    let (mut exa, exa_addr) = Exabgp::start_listening(&dir.path, &config.build(), exa_ip);
    let mut p = RawPeer::connect(raw_ip, exa_addr);
    p.handshake_with(&open_body_caps(&flow_caps()));
    let updates = p.until_end_of_rib();

    let opts = CodecOptions {
        four_octet_as: true,
        extended_message: false,
    };
    let mut rules = BTreeSet::new();
    let mut flow_updates = 0;
    for body in &updates {
        let bytes = message(2, body);
        let Ok(Some((Message::Update(u), _))) = decode_message(&bytes, &opts) else {
            panic!("UPDATE that does not decode: {body:?}");
        };
        if let Some(r) = u.attributes.flow_reach {
            flow_updates += 1;
            rules.extend(r.nlri.iter().map(|n| n.rule.to_string()));
        }
    }
    assert_eq!(rules.len(), RULES, "rules received; log:\n{}", exa.log());
    assert!(
        flow_updates <= 3,
        "{RULES} rules with the same actions took {flow_updates} UPDATEs"
    );
    p.assert_still_up();
    exa.stop();
}
