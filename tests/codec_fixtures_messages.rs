//! Byte fixtures for framing, OPEN, KEEPALIVE, NOTIFICATION and ROUTE-REFRESH,
//! written from the RFCs. Each is checked in both directions unless it says why
//! not; error fixtures check the NOTIFICATION that goes back.

mod support;

use std::net::Ipv4Addr;

use exabgp::bgp::*;
use support::codec::*;

// ---------------------------------------------------------------- framing

/// RFC 4271 §4.4: a KEEPALIVE is the 19-octet header alone.
#[test]
fn keepalive() {
    both_ways(
        &hex("ffffffffffffffffffffffffffffffff 0013 04"),
        &Message::Keepalive,
        &OLD,
    );
}

/// RFC 4271 §4.1 / §6.1: marker not all ones -> Connection Not Synchronized,
/// detected as soon as the first bad octet is in.
#[test]
fn bad_marker_is_connection_not_synchronized() {
    let mut m = msg(4, "");
    m[3] = 0xFE;
    rejects(&m, &OLD, 1, 1, &[]);
    rejects(&m[..4], &OLD, 1, 1, &[]);
}

/// RFC 4271 §6.1: Bad Message Length, Data = the erroneous Length field.
#[test]
fn bad_message_lengths() {
    rejects(
        &hex("ffffffffffffffffffffffffffffffff 0012 04"),
        &OLD,
        1,
        2,
        &[0x00, 0x12],
    );
    // Above 4096 without RFC 8654 extended messages; found from the header alone.
    let long = hex("ffffffffffffffffffffffffffffffff 1001 02");
    rejects(&long, &OLD, 1, 2, &[0x10, 0x01]);
    let ext = CodecOptions {
        four_octet_as: true,
        extended_message: true,
    };
    assert_eq!(
        decode_message(&long, &ext),
        Ok(None),
        "RFC 8654 allows it: wait for the body"
    );
    // RFC 4271 §4.4: KEEPALIVE is exactly 19 octets.
    rejects(&msg(4, "00"), &OLD, 1, 2, &[0x00, 0x14]);
    // §4.2: OPEN at least 29 octets; §4.3 UPDATE at least 23; §4.5 NOTIFICATION 21.
    rejects(&msg(1, "04 fde9 005a c0000201"), &OLD, 1, 2, &[0x00, 0x1c]);
    rejects(&msg(2, "0000"), &OLD, 1, 2, &[0x00, 0x15]);
    rejects(&msg(3, "06"), &OLD, 1, 2, &[0x00, 0x14]);
}

/// RFC 4271 §6.1: Bad Message Type, Data = the erroneous Type field.
#[test]
fn bad_message_type() {
    rejects(
        &hex("ffffffffffffffffffffffffffffffff 0013 06"),
        &OLD,
        1,
        3,
        &[6],
    );
    rejects(
        &hex("ffffffffffffffffffffffffffffffff 0013 00"),
        &OLD,
        1,
        3,
        &[0],
    );
}

/// Streaming: Ok(None) until a whole message is in; then exactly its length.
#[test]
fn streaming_needs_whole_messages() {
    let mut two = msg(4, "");
    two.extend(msg(3, "0400"));
    for cut in 0..19 {
        assert_eq!(decode_message(&two[..cut], &OLD), Ok(None), "cut at {cut}");
    }
    let (m, n) = decode_message(&two, &OLD).unwrap().unwrap();
    assert_eq!((m, n), (Message::Keepalive, 19));
    assert_eq!(decode_message(&two[19..two.len() - 1], &OLD), Ok(None));
    let (m, n) = decode_message(&two[19..], &OLD).unwrap().unwrap();
    assert_eq!(n, 21);
    assert_eq!(
        m,
        Message::Notification(Notification {
            code: 4,
            subcode: 0,
            data: vec![]
        })
    );
}

// ---------------------------------------------------------------- OPEN

fn open(my_as: u32, capabilities: Vec<Capability>) -> Message {
    Message::Open(Open {
        version: 4,
        my_as,
        hold_time: 90,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        capabilities,
    })
}

/// RFC 4271 §4.2 layout; RFC 5492 capabilities in one optional parameter (type 2):
/// RFC 4760 §8 multiprotocol (code 1: AFI, reserved, SAFI), RFC 2918 route
/// refresh (code 2), RFC 8654 extended message (code 6), RFC 6793 4-octet AS (65).
#[test]
fn open_with_capabilities() {
    let bytes = msg(
        1,
        "04 fde9 005a c0000201 18
         02 16 0104 0001 00 01  0104 0002 00 01  0200  0600  4104 0000fde9",
    );
    let caps = vec![
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::Multiprotocol(Family::IPV6_UNICAST),
        Capability::RouteRefresh,
        Capability::ExtendedMessage,
        Capability::FourOctetAs(65001),
    ];
    both_ways(&bytes, &open(65001, caps), &OLD);
}

/// RFC 6793 §4.1: a 4-octet AS puts AS_TRANS (23456 = 0x5ba0) in My AS and the
/// real AS in the capability; the logical `my_as` is the real one.
#[test]
fn open_four_octet_as_uses_as_trans() {
    let bytes = msg(1, "04 5ba0 005a c0000201 08 02 06 4104 fa56ea00");
    both_ways(
        &bytes,
        &open(4_200_000_000, vec![Capability::FourOctetAs(4_200_000_000)]),
        &OLD,
    );
}

/// RFC 5492 §4: unknown capabilities are kept (raw) and re-sent unchanged; a
/// known code with an unexpected length is kept raw too.
#[test]
fn open_unknown_capabilities_kept_raw() {
    // FQDN (73, not decoded) and a 3-octet "multiprotocol".
    let bytes = msg(1, "04 fde9 005a c0000201 0b 02 09 4902 0078 0103 000100");
    let caps = vec![
        Capability::Unknown {
            code: 73,
            value: vec![0x00, 0x78],
        },
        Capability::Unknown {
            code: 1,
            value: vec![0x00, 0x01, 0x00],
        },
    ];
    both_ways(&bytes, &open(65001, caps), &OLD);
}

/// RFC 5492 §4 allows one parameter per capability; they are flattened (decode
/// only: we send them all in one parameter).
#[test]
fn open_several_capability_parameters() {
    let bytes = msg(1, "04 fde9 005a c0000201 0c 02 02 0200 02 06 4104 0000fde9");
    let caps = vec![Capability::RouteRefresh, Capability::FourOctetAs(65001)];
    decodes_to(&bytes, &open(65001, caps), &OLD);
}

/// RFC 4724 §3: Graceful Restart, R bit and restart time 120, IPv4 unicast with
/// the F bit.
#[test]
fn open_graceful_restart_capability() {
    let bytes = msg(1, "04 fde9 005a c0000201 0a 02 08 4006 8078 0001 0180");
    let caps = vec![Capability::GracefulRestart(GracefulRestart {
        flags: GracefulRestart::RESTART_STATE,
        restart_time: 120,
        families: vec![(Family::IPV4_UNICAST, GracefulRestart::FORWARDING_STATE)],
    })];
    both_ways(&bytes, &open(65001, caps), &OLD);
}

/// RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255, a 2-octet Extended
/// Opt. Parm. Length, then parameters with 2-octet lengths. Sent when the
/// capabilities need more than 255 octets.
#[test]
fn open_extended_optional_parameters() {
    let big = vec![0xAB; 250];
    let caps_hex = format!("80fa {} 0200", "ab".repeat(250));
    let bytes = msg(
        1,
        &format!("04 fde9 005a c0000201 ff ff 0101 02 00fe {caps_hex}"),
    );
    let caps = vec![
        Capability::Unknown {
            code: 128,
            value: big,
        },
        Capability::RouteRefresh,
    ];
    both_ways(&bytes, &open(65001, caps), &OLD);
}

/// RFC 4271 §6.2 OPEN errors, each with its subcode and data.
#[test]
fn open_errors() {
    // Unsupported Version Number, Data = largest supported version (2 octets).
    rejects(&msg(1, "03 fde9 005a c0000201 00"), &OLD, 2, 1, &[0, 4]);
    // Bad Peer AS: AS 0 (RFC 7607).
    rejects(&msg(1, "04 0000 005a c0000201 00"), &OLD, 2, 2, &[]);
    rejects(
        &msg(1, "04 5ba0 005a c0000201 08 02 06 4104 00000000"),
        &OLD,
        2,
        2,
        &[],
    );
    // Bad BGP Identifier: 0.0.0.0 (RFC 6286 §2.2).
    rejects(&msg(1, "04 fde9 005a 00000000 00"), &OLD, 2, 3, &[]);
    // Unsupported Optional Parameter: type 1 (deprecated authentication).
    rejects(
        &msg(1, "04 fde9 005a c0000201 03 01 01 00"),
        &OLD,
        2,
        4,
        &[],
    );
    // Unacceptable Hold Time: 1 or 2 seconds.
    rejects(&msg(1, "04 fde9 0001 c0000201 00"), &OLD, 2, 6, &[]);
    rejects(&msg(1, "04 fde9 0002 c0000201 00"), &OLD, 2, 6, &[]);
    // Optional parameters overrunning the message: unspecific OPEN error.
    rejects(
        &msg(1, "04 fde9 005a c0000201 08 02 06 4104"),
        &OLD,
        2,
        0,
        &[],
    );
    // A capability overrunning its parameter.
    rejects(
        &msg(1, "04 fde9 005a c0000201 04 02 02 4104"),
        &OLD,
        2,
        0,
        &[],
    );
}

/// Hold time 0 is fine (no keepalives, RFC 4271 §4.2).
#[test]
fn open_hold_time_zero() {
    let m = Message::Open(Open {
        version: 4,
        my_as: 65001,
        hold_time: 0,
        router_id: Ipv4Addr::new(10, 0, 0, 1),
        capabilities: vec![],
    });
    both_ways(&msg(1, "04 fde9 0000 0a000001 00"), &m, &OLD);
}

/// The encoder refuses an OPEN whose AS and 4-octet AS capability disagree.
#[test]
fn open_encode_checks_as() {
    let mut out = Vec::new();
    let bad = open(4_200_000_000, vec![]);
    assert!(matches!(
        encode_message(&bad, &OLD, &mut out),
        Err(EncodeError::Open(_))
    ));
    let bad = open(65001, vec![Capability::FourOctetAs(65002)]);
    assert!(matches!(
        encode_message(&bad, &OLD, &mut out),
        Err(EncodeError::Open(_))
    ));
    assert!(out.is_empty());
}

// ---------------------------------------------------------------- NOTIFICATION

/// RFC 4271 §4.5: code, subcode, data. Hold Timer Expired (4/0).
#[test]
fn notification_plain() {
    let n = Notification {
        code: 4,
        subcode: 0,
        data: vec![],
    };
    both_ways(&msg(3, "04 00"), &Message::Notification(n), &OLD);
}

/// RFC 9003 §2 (updating RFC 8203): Cease / Administrative Shutdown (6/2) with a
/// length octet and UTF-8 text.
#[test]
fn notification_shutdown_communication() {
    let n = Notification::cease_shutdown(2, "maint");
    assert_eq!(
        n,
        Notification {
            code: 6,
            subcode: 2,
            data: hex("05 6d61696e74")
        }
    );
    both_ways(
        &msg(3, "06 02 05 6d61696e74"),
        &Message::Notification(n.clone()),
        &OLD,
    );
    assert_eq!(n.shutdown_text().as_deref(), Some("maint"));
    // Administrative Reset (6/4) carries it too.
    assert_eq!(
        Notification::cease_shutdown(4, "é")
            .shutdown_text()
            .as_deref(),
        Some("é")
    );
}

/// RFC 9003 §2: at most 255 octets; we cut on a character boundary.
#[test]
fn shutdown_text_limits() {
    let long = "ü".repeat(200); // 400 octets
    let n = Notification::cease_shutdown(2, &long);
    assert_eq!(n.data[0], 254);
    assert_eq!(n.data.len(), 255);
    assert_eq!(n.shutdown_text().unwrap(), "ü".repeat(127));
    assert!(Notification::cease_shutdown(2, "").data.is_empty());
    assert_eq!(Notification::cease_shutdown(2, "").shutdown_text(), None);
    // A length octet that overruns the data, or invalid UTF-8: no text.
    let bad = Notification {
        code: 6,
        subcode: 2,
        data: hex("09 616263"),
    };
    assert_eq!(bad.shutdown_text(), None);
    let bad = Notification {
        code: 6,
        subcode: 2,
        data: hex("02 c328"),
    };
    assert_eq!(bad.shutdown_text(), None);
    // Other codes have no shutdown communication.
    let other = Notification {
        code: 6,
        subcode: 3,
        data: hex("01 61"),
    };
    assert_eq!(other.shutdown_text(), None);
}

// ---------------------------------------------------------------- ROUTE-REFRESH

/// RFC 2918 §3: AFI (2), Reserved (1), SAFI (1); RFC 7313 §3 names the reserved
/// octet Message Subtype (0 normal, 1 BoRR, 2 EoRR).
#[test]
fn route_refresh() {
    let rr = RouteRefresh {
        family: Family::IPV4_UNICAST,
        subtype: 0,
    };
    both_ways(&msg(5, "0001 00 01"), &Message::RouteRefresh(rr), &OLD);
    let borr = RouteRefresh {
        family: Family::IPV6_UNICAST,
        subtype: 1,
    };
    both_ways(&msg(5, "0002 01 01"), &Message::RouteRefresh(borr), &OLD);
}

/// RFC 7313 §5: a BoRR/EoRR of the wrong length -> ROUTE-REFRESH Message Error /
/// Invalid Message Length (7/1), Data = the complete message. Subtype 0 of the
/// wrong length is a plain Bad Message Length (RFC 4271 §6.1).
#[test]
fn route_refresh_bad_length() {
    let m = msg(5, "0001 01 01 00");
    rejects(&m, &OLD, 7, 1, &m);
    rejects(&msg(5, "0001 00 01 00"), &OLD, 1, 2, &[0, 24]);
    rejects(&msg(5, "0001"), &OLD, 1, 2, &[0, 21]);
}
