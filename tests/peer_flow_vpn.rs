//! Flow-vpn (SAFI 134, RFC 8955 §8): a rule with a route distinguisher, from a
//! `[[flow]]` table (`rd = "65000:1"`) and from the control socket (`announce
//! flow route rd 192.0.2.1:7 ...`), reaches this test's raw peer over real TCP in
//! an MP_REACH_NLRI of AFI 1 / SAFI 134 with the distinguisher before the
//! components; `show adj-rib out` writes it back as given; the withdraw carries
//! it too.

mod support;

use std::net::IpAddr;
use std::path::Path;

use exabgp::bgp::{decode_message, CodecOptions, Family, FlowNlri, Message, Update};
use support::binary::{exabgpcli_bin, hermetic, run, COMMAND_TIMEOUT};
use support::raw::*;
use support::*;

const EXA_AS: u32 = 65001;

/// OPEN capabilities: multiprotocol ipv4 unicast and ipv4 flow-vpn (SAFI 134), 4-octet AS.
fn caps() -> Vec<u8> {
    let mut caps = vec![1, 4, 0, 1, 0, 1, 1, 4, 0, 1, 0, 134, 65, 4];
    caps.extend_from_slice(&u32::from(RAW_AS).to_be_bytes());
    caps
}

fn cli(sock: &Path, args: &[&str]) -> String {
    let mut cmd = hermetic(exabgpcli_bin());
    cmd.args(["--timeout", "20", "--socket"])
        .arg(sock)
        .args(args);
    let out = run(cmd, COMMAND_TIMEOUT);
    assert_eq!(out.code, 0, "{args:?}: {out:?}");
    out.stdout
}

fn decode(body: &[u8]) -> Update {
    let opts = CodecOptions {
        four_octet_as: true,
        extended_message: false,
    };
    match decode_message(&message(2, body), &opts) {
        Ok(Some((Message::Update(u), _))) => u,
        other => panic!("not an UPDATE: {other:?}"),
    }
}

/// The next UPDATE from exabgp (KEEPALIVEs and End-of-RIB markers skipped; bounded).
fn next_update(p: &mut RawPeer) -> Update {
    for _ in 0..20 {
        let (t, body) = p.read().expect("a message from exabgp");
        assert_ne!(t, 3, "NOTIFICATION: {body:?}");
        if t == 2 {
            let u = decode(&body);
            if u.end_of_rib().is_none() {
                return u;
            }
        }
    }
    panic!("no UPDATE from exabgp");
}

fn rules_with_rd(rules: &[FlowNlri]) -> Vec<(Option<[u8; 8]>, String)> {
    rules.iter().map(|n| (n.rd, n.rule.to_string())).collect()
}

#[test]
fn flow_vpn_rules_from_config_and_api_carry_their_route_distinguisher() {
    let dir = TestDir::new("flow-vpn");
    let exa_ip: IpAddr = loopback_addr(71).into();
    let raw_ip: IpAddr = loopback_addr(73).into();
    let config = ExaConfig::new(EXA_AS)
        .passive(raw_ip, RAW_AS.into())
        .line("families = [\"ipv4 unicast\", \"ipv4 flow-vpn\"]")
        .line(
            "\n[[flow]]\nrd = \"65000:1\"\n\
             match = { destination = \"192.0.2.0/24\", protocol = \"tcp\" }\n\
             then = { discard = true }",
        )
        .build();
    let (mut exa, exa_addr) = Exabgp::start_listening(&dir.path, &config, exa_ip);
    let sock = dir.path.join("exabgp.sock");
    let mut p = RawPeer::connect(raw_ip, exa_addr);
    p.handshake_with(&open_body_caps(&caps()));
    let table = p.until_end_of_rib();
    let reach: Vec<_> = table
        .iter()
        .filter_map(|b| decode(b).attributes.flow_reach)
        .collect();
    assert_eq!(reach.len(), 1, "{table:?}");
    assert_eq!(reach[0].family, Family::IPV4_FLOW_VPN);
    assert_eq!(
        rules_with_rd(&reach[0].nlri),
        vec![(
            Some([0, 0, 0xfd, 0xe8, 0, 0, 0, 1]),
            "destination 192.0.2.0/24 protocol =tcp".to_string()
        )]
    );

    // From the control socket, a type 1 distinguisher.
    cli(
        &sock,
        &[
            "announce",
            "flow",
            "route",
            "rd",
            "192.0.2.1:7",
            "destination",
            "10.9.0.0/16",
            "discard",
        ],
    );
    let u = next_update(&mut p);
    let r = u.attributes.flow_reach.expect("an MP_REACH_NLRI");
    assert_eq!(r.family, Family::IPV4_FLOW_VPN);
    assert_eq!(
        rules_with_rd(&r.nlri),
        vec![(
            Some([0, 1, 192, 0, 2, 1, 0, 7]),
            "destination 10.9.0.0/16".to_string()
        )]
    );
    let out = cli(&sock, &["show", "adj-rib", "out"]);
    assert!(
        out.contains("ipv4 flow-vpn destination 10.9.0.0/16 rd 192.0.2.1:7")
            && out.contains("ipv4 flow-vpn destination 192.0.2.0/24 protocol =tcp rd 65000:1"),
        "{out}"
    );
    cli(
        &sock,
        &[
            "withdraw",
            "flow",
            "route",
            "rd",
            "192.0.2.1:7",
            "destination",
            "10.9.0.0/16",
        ],
    );
    let u = next_update(&mut p);
    let w = u.attributes.flow_unreach.expect("an MP_UNREACH_NLRI");
    assert_eq!(w.family, Family::IPV4_FLOW_VPN);
    assert_eq!(
        rules_with_rd(&w.withdrawn),
        vec![(
            Some([0, 1, 192, 0, 2, 1, 0, 7]),
            "destination 10.9.0.0/16".to_string()
        )]
    );
    p.assert_still_up();
    exa.stop();
}
