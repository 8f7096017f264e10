//! The `"open"` object of a JSON `open` event, as ExaBGP 5.0 prints it.
//!
//! The reference is ExaBGP's source: `reactor/api/response/json.py` (`JSON.open`)
//! and the `json()` method of each capability class under
//! `bgp/message/open/capability/` (mp.py, refresh.py, extended.py, asn4.py,
//! graceful.py, addpath.py, hostname.py, software.py, nexthop.py, ms.py,
//! unknown.py). Capabilities are keyed by their code, in the order of their first
//! occurrence with the value of the last (ExaBGP's dict assignment); the codec
//! keeps the ones it does not model raw, and they are decoded here for display
//! only. A value too short to decode is shown as ExaBGP shows a capability it does
//! not know (`"name": "unknown"`) rather than guessed at.

use crate::bgp::{Afi, Capability, Open, Safi};

use super::jsonw::{self, Obj};

/// AS_TRANS (RFC 6793): what a 4-octet speaker puts in OPEN's 2-octet AS field.
const AS_TRANS: u32 = 23456;

/// ExaBGP's "afi/safi" spelling inside capabilities (mp.py, graceful.py, addpath.py).
fn slash(afi: u16, safi: u8) -> String {
    format!("{}/{}", Afi::from_code(afi), Safi::from_code(safi))
}

/// unknown.py: `{"name": "unknown", "iana": ..., "value": CODE, "raw": "HEX"}`,
/// with IANA's ranges as ExaBGP names them (capability.py: 70-127 unassigned,
/// 128-255 reserved).
fn unknown(code: u8, value: &[u8]) -> String {
    let iana = match code {
        70..=127 => "unassigned",
        128..=255 => "reserved",
        _ => "unknown",
    };
    Obj::new()
        .str("name", "unknown")
        .str("iana", iana)
        .num("value", code)
        .str("raw", &super::values::hex(value))
        .build()
}

/// A length-prefixed UTF-8 string at the start of `b`, and what follows it.
fn lp_string(b: &[u8]) -> Option<(String, &[u8])> {
    let (&len, rest) = b.split_first()?;
    let s = rest.get(..usize::from(len))?;
    let text = std::str::from_utf8(s).ok()?;
    Some((text.to_string(), &rest[usize::from(len)..]))
}

/// graceful.py (RFC 4724): restart time, and ExaBGP's labels for the flags.
fn graceful(v: &[u8]) -> Option<String> {
    let head = v.get(..2)?;
    let word = u16::from_be_bytes([head[0], head[1]]);
    let families = v[2..].chunks(4);
    if families.clone().any(|c| c.len() != 4) {
        return None;
    }
    let mut afs = Obj::new();
    for c in families {
        let afi = u16::from_be_bytes([c[0], c[1]]);
        // ExaBGP labels the per-family Forwarding State bit (0x80) "restart".
        let flags = if c[3] & 0x80 != 0 {
            jsonw::array([jsonw::string("restart")])
        } else {
            jsonw::array([])
        };
        afs = afs.set(&slash(afi, c[2]), flags);
    }
    // ... and the Restart State bit (0x8 of the top nibble) "forwarding".
    let restart_flags = if (word >> 12) & 0x8 != 0 {
        jsonw::array([jsonw::string("forwarding")])
    } else {
        jsonw::array([])
    };
    Some(
        Obj::new()
            .str("name", "graceful restart")
            .num("time", word & 0x0FFF)
            .raw("address-family-flags", afs.build())
            .raw("restart-flags", restart_flags)
            .build(),
    )
}

/// addpath.py (RFC 7911): `{"name": "addpath", "ipv4/unicast": "send/receive"}`.
fn add_path(v: &[u8]) -> Option<String> {
    if v.len() % 4 != 0 {
        return None;
    }
    let mut o = Obj::new().str("name", "addpath");
    for c in v.chunks(4) {
        let mode = match c[3] {
            0 => "disabled",
            1 => "receive",
            2 => "send",
            3 => "send/receive",
            // ExaBGP has no word for it (its lookup fails); ours says so.
            _ => "unknown",
        };
        o = o.set(
            &slash(u16::from_be_bytes([c[0], c[1]]), c[2]),
            jsonw::string(mode),
        );
    }
    Some(o.build())
}

/// nexthop.py (RFC 8950): `{"name": "nexthop", "conversion": ["ipv4/unicast/ipv6"]}`.
fn next_hop(v: &[u8]) -> Option<String> {
    if v.len() % 6 != 0 {
        return None;
    }
    let mut seen: Vec<String> = Vec::new();
    for c in v.chunks(6) {
        let nh = Afi::from_code(u16::from_be_bytes([c[4], c[5]]));
        let s = format!("{}/{nh}", slash(u16::from_be_bytes([c[0], c[1]]), c[3]));
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    Some(
        Obj::new()
            .str("name", "nexthop")
            .raw(
                "conversion",
                jsonw::array(seen.iter().map(|s| jsonw::string(s))),
            )
            .build(),
    )
}

/// One raw capability as ExaBGP shows it.
fn raw_capability(code: u8, v: &[u8]) -> String {
    let decoded = match code {
        5 => next_hop(v),
        64 => graceful(v),
        68 | 131 => Some(
            // ms.py: ExaBGP does not read the value, so its list is always empty.
            Obj::new()
                .str("name", "multisession")
                .str("variant", if code == 68 { "RFC" } else { "Cisco" })
                .raw("capabilities", "[]")
                .build(),
        ),
        69 => add_path(v),
        70 => Some(Obj::new().str("name", "enhanced-route-refresh").build()),
        // hostname.py (draft-walton-bgp-hostname-capability): no "name" key.
        73 => lp_string(v).and_then(|(host, rest)| {
            let (domain, _) = lp_string(rest)?;
            Some(
                Obj::new()
                    .str("host-name", &host)
                    .str("domain-name", &domain)
                    .build(),
            )
        }),
        // software.py (draft-abraitis-bgp-version-capability): no "name" key.
        75 => lp_string(v).map(|(s, _)| Obj::new().str("software", &s).build()),
        128 => Some(
            Obj::new()
                .str("name", "route-refresh")
                .str("variant", "Cisco")
                .build(),
        ),
        _ => None,
    };
    decoded.unwrap_or_else(|| unknown(code, v))
}

/// The `"open"` object: version, asn, hold_time, router_id, capabilities.
pub fn open_json(o: &Open) -> String {
    // mp.py: every multiprotocol capability adds to the one under "1".
    let families: Vec<String> = o
        .capabilities
        .iter()
        .filter_map(|c| match c {
            Capability::Multiprotocol(f) => {
                Some(jsonw::string(&slash(f.afi.code(), f.safi.code())))
            }
            _ => None,
        })
        .collect();
    // A capability of a known code but the wrong length decodes as Unknown: it
    // must not replace the well-formed ones of that code (code 1 would hide
    // every family the peer did advertise).
    let decoded = |code: u8| {
        o.capabilities.iter().any(|c| {
            matches!(
                (code, c),
                (1, Capability::Multiprotocol(_))
                    | (2, Capability::RouteRefresh)
                    | (6, Capability::ExtendedMessage)
                    | (64, Capability::GracefulRestart(_))
                    | (65, Capability::FourOctetAs(_))
            )
        })
    };
    let mut caps = Obj::new();
    for c in &o.capabilities {
        caps = match c {
            Capability::Multiprotocol(_) => caps.set(
                "1",
                Obj::new()
                    .str("name", "multiprotocol")
                    .raw("families", jsonw::array(families.iter().cloned()))
                    .build(),
            ),
            Capability::Unknown { code, .. } if decoded(*code) => caps,
            Capability::RouteRefresh => caps.set(
                "2",
                Obj::new()
                    .str("name", "route-refresh")
                    .str("variant", "RFC")
                    .build(),
            ),
            // extended.py: the size it allows.
            Capability::ExtendedMessage => caps.set(
                "6",
                Obj::new()
                    .str("name", "extended-message")
                    .num("size", 65535)
                    .build(),
            ),
            Capability::FourOctetAs(asn) => caps.set(
                "65",
                Obj::new().str("name", "asn4").num("asn4", asn).build(),
            ),
            // graceful.py, from the value as it is on the wire.
            Capability::GracefulRestart(g) => caps.set("64", raw_capability(64, &g.value())),
            // ExaBGP's Capability.unpack reuses the instance of a code seen
            // before: a repeated add-path (69) or extended next hop (5)
            // capability adds its families to the first one's.
            Capability::Unknown {
                code: code @ (5 | 69),
                ..
            } => {
                let merged: Vec<u8> = o
                    .capabilities
                    .iter()
                    .filter_map(|c| match c {
                        Capability::Unknown { code: k, value } if k == code => {
                            Some(value.as_slice())
                        }
                        _ => None,
                    })
                    .flatten()
                    .copied()
                    .collect();
                caps.set(&code.to_string(), raw_capability(*code, &merged))
            }
            Capability::Unknown { code, value } => {
                caps.set(&code.to_string(), raw_capability(*code, value))
            }
        };
    }
    // ExaBGP prints OPEN's 2-octet "My Autonomous System" field: AS_TRANS for a
    // 4-octet AS (RFC 6793 §4.1), whatever the asn4 capability says.
    let asn = if o.my_as > 0xFFFF { AS_TRANS } else { o.my_as };
    Obj::new()
        .num("version", o.version)
        .num("asn", asn)
        .num("hold_time", o.hold_time)
        .str("router_id", &o.router_id.to_string())
        .raw("capabilities", caps.build())
        .build()
}
