//! Path attributes as ExaBGP prints them: JSON objects for helpers and `--json`,
//! and the text form (which is also valid input for `announce route`).

use crate::bgp::{AsPath, AsSegment, PathAttributes};

use super::jsonw::{self, Obj};
use super::values;

/// ExaBGP 5's as-path object: `{"0": {"element": "as-sequence", "value": [..]}}`.
pub fn as_path_json(p: &AsPath) -> String {
    let mut o = Obj::new();
    for (i, seg) in p.segments.iter().enumerate() {
        let (element, asns) = match seg {
            AsSegment::Sequence(a) => ("as-sequence", a),
            AsSegment::Set(a) => ("as-set", a),
            AsSegment::ConfedSequence(a) => ("confed-sequence", a),
            AsSegment::ConfedSet(a) => ("confed-set", a),
        };
        let value = jsonw::array(asns.iter().map(u32::to_string));
        o = o.raw(
            &i.to_string(),
            Obj::new()
                .str("element", element)
                .raw("value", value)
                .build(),
        );
    }
    o.build()
}

/// The members of ExaBGP's `"attribute"` object, in attribute-code order.
/// `next_hop` is included only when asked (ExaBGP shows it there when the UPDATE
/// also withdraws, since withdrawn NLRI carry no next hop).
pub fn attributes_json(a: &PathAttributes, include_next_hop: bool) -> Obj {
    let mut o = Obj::new();
    if let Some(origin) = a.origin {
        o = o.str("origin", &origin.to_string());
    }
    // aspath.py `unpack`: an empty AS_PATH decodes to nothing, so ExaBGP has no key.
    if let Some(p) = a.as_path.as_ref().filter(|p| !p.segments.is_empty()) {
        o = o.raw("as-path", as_path_json(p));
    }
    if include_next_hop {
        if let Some(nh) = a.next_hop {
            o = o.str("next-hop", &nh.to_string());
        }
    }
    if let Some(m) = a.med {
        o = o.num("med", m);
    }
    if let Some(l) = a.local_pref {
        o = o.num("local-preference", l);
    }
    if a.atomic_aggregate {
        o = o.raw("atomic-aggregate", "true");
    }
    if let Some(ag) = &a.aggregator {
        o = o.str("aggregator", &values::aggregator_text(ag));
    }
    if !a.communities.is_empty() {
        let mut c = a.communities.clone();
        c.sort();
        o = o.raw(
            "community",
            jsonw::array(
                c.iter()
                    .map(|c| format!("[{}, {}]", c.0 >> 16, c.0 & 0xFFFF)),
            ),
        );
    }
    if let Some(id) = a.originator_id {
        o = o.str("originator-id", &id.to_string());
    }
    if !a.cluster_list.is_empty() {
        o = o.raw(
            "cluster-list",
            jsonw::array(a.cluster_list.iter().map(|c| jsonw::string(&c.to_string()))),
        );
    }
    // attributes.py `_generate_json` goes through the codes in order: an
    // attribute we keep raw takes its place among the decoded ones.
    o = unknown_json(o, a, 0..16);
    if !a.ext_communities.is_empty() {
        // ExaBGP's ExtendedCommunities.add keeps them sorted by value.
        let mut e = a.ext_communities.clone();
        e.sort_by_key(values::ext_community_value);
        o = o.raw(
            "extended-community",
            jsonw::array(e.iter().map(|c| {
                Obj::new()
                    .num("value", values::ext_community_value(c))
                    .str("string", &ext_community_json_name(c))
                    .build()
            })),
        );
    }
    o = unknown_json(o, a, 16..32);
    if !a.large_communities.is_empty() {
        // large/communities.py: sorted, a repeated one shown once.
        let mut l = a.large_communities.clone();
        l.sort();
        l.dedup();
        o = o.raw(
            "large-community",
            jsonw::array(
                l.iter()
                    .map(|c| format!("[{}, {}, {}]", c.global, c.local1, c.local2)),
            ),
        );
    }
    unknown_json(o, a, 32..256)
}

/// The attributes kept raw whose type code is in `codes`, in code order (the
/// decoder keeps one per code), as generic.py / attributes.py print them.
fn unknown_json(mut o: Obj, a: &PathAttributes, codes: std::ops::Range<u16>) -> Obj {
    let mut raw: Vec<&crate::bgp::RawAttribute> = a
        .unknown
        .iter()
        .filter(|u| codes.contains(&u16::from(u.type_code)))
        .collect();
    raw.sort_by_key(|u| u.type_code);
    for u in raw {
        o = o.str(
            &format!("attribute-0x{:02X}-0x{:02X}", u.type_code, unknown_flags(u)),
            &format!("0x{}", lower_hex(&u.value)),
        );
    }
    o
}

fn lower_hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// The flags ExaBGP shows for an unknown (transitive) attribute: attributes.py
/// `parse` stores it with the Partial bit added (it will be passed on), and the
/// flags as received, so with Extended Length (0x10) when the sender used it.
/// The codec does not keep that bit; a value over 255 bytes needs it, a shorter
/// one sent with it is shown without it.
fn unknown_flags(u: &crate::bgp::RawAttribute) -> u8 {
    let extended = if u.value.len() > 255 { 0x10 } else { 0 };
    u.flags | 0x20 | extended
}

/// The "string" of an extended community in ExaBGP's JSON (community.py `json`):
/// the text of a kind ExaBGP registers (rt.py, origin.py, traffic.py), found by
/// the type with its IANA and transitive bits cleared (`& 0x0F`) and the
/// subtype, as ExaBGP looks it up; "" for the others.
fn ext_community_json_name(c: &crate::bgp::ExtCommunity) -> String {
    let b = &c.0;
    let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let ip_at = |i: usize| std::net::Ipv4Addr::new(b[i], b[i + 1], b[i + 2], b[i + 3]);
    match (b[0] & 0x0F, b[1]) {
        (t, sub @ (0x02 | 0x03)) => {
            let kind = if sub == 0x02 { "target" } else { "origin" };
            match t {
                0x00 => format!("{kind}:{}:{}", u16_at(2), u32_at(4)),
                0x01 => format!("{kind}:{}:{}", ip_at(2), u16_at(6)),
                0x02 => format!("{kind}:{}:{}", u32_at(2), u16_at(6)),
                _ => String::new(),
            }
        }
        // traffic.py: FlowSpec actions (RFC 8955 §7). The rate is an IEEE float
        // that ExaBGP prints with "%d" (truncated).
        (0x00, 0x06) => format!("rate-limit:{}", rate_text(f32::from_bits(u32_at(4)))),
        (0x00, 0x07) => {
            let mut words = Vec::new();
            if b[7] & 0x02 != 0 {
                words.push("sample");
            }
            if b[7] & 0x01 != 0 {
                words.push("terminal");
            }
            format!("action {}", words.join("-"))
        }
        (0x00, 0x08) => format!("redirect:{}:{}", u16_at(2), u32_at(4)),
        (0x00, 0x09) => format!("mark {}", b[7]),
        (0x01, 0x0C) if b[7] & 0x01 != 0 => {
            format!("copy-to-nexthop-ietf {} (with copy)", ip_at(2))
        }
        (0x01, 0x0C) => format!("redirect-to-nexthop-ietf {}", ip_at(2)),
        (0x08, 0x00) if b[7] & 0x01 != 0 => "copy-to-nexthop".to_string(),
        (0x08, 0x00) => "redirect-to-nexthop".to_string(),
        _ => String::new(),
    }
}

/// `[ a b ]` for several values, `a` for one (ExaBGP's text habit).
fn text_list(items: Vec<String>) -> String {
    if items.len() == 1 {
        items.into_iter().next().unwrap_or_default()
    } else {
        format!("[ {} ]", items.join(" "))
    }
}

/// The text form of an AS path: `[ 65001 65010 ( 1 2 ) ]`.
pub fn as_path_text(p: &AsPath) -> String {
    let mut parts = Vec::new();
    for seg in &p.segments {
        match seg {
            AsSegment::Sequence(a) | AsSegment::ConfedSequence(a) => {
                parts.extend(a.iter().map(u32::to_string))
            }
            AsSegment::Set(a) | AsSegment::ConfedSet(a) => parts.push(format!(
                "( {} )",
                a.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
            )),
        }
    }
    format!("[ {} ]", parts.join(" "))
}

/// ` origin igp as-path [ 65001 ] med 10 ...` (leading space, ExaBGP's habit).
pub fn attributes_text(a: &PathAttributes) -> String {
    attributes_text_with(a, false)
}

/// [`attributes_text`] of a flow rule: the extended communities that are flow
/// actions by ExaBGP's names (`rate-limit:0`, `redirect:65000:100`, `mark 10`).
pub fn flow_attributes_text(a: &PathAttributes) -> String {
    attributes_text_with(a, true)
}

fn attributes_text_with(a: &PathAttributes, flow: bool) -> String {
    let mut s = String::new();
    if let Some(o) = a.origin {
        s.push_str(&format!(" origin {}", o));
    }
    // As in ExaBGP's text (attributes.py `_generate_text`): no AS_PATH, no words.
    if let Some(p) = a.as_path.as_ref().filter(|p| !p.segments.is_empty()) {
        s.push_str(&format!(" as-path {}", as_path_text(p)));
    }
    if let Some(m) = a.med {
        s.push_str(&format!(" med {m}"));
    }
    if let Some(l) = a.local_pref {
        s.push_str(&format!(" local-preference {l}"));
    }
    if a.atomic_aggregate {
        s.push_str(" atomic-aggregate");
    }
    if let Some(ag) = &a.aggregator {
        s.push_str(&format!(" aggregator ( {} )", values::aggregator_text(ag)));
    }
    if !a.communities.is_empty() {
        let mut c = a.communities.clone();
        c.sort();
        s.push_str(&format!(
            " community {}",
            text_list(c.into_iter().map(|c| c.to_string()).collect())
        ));
    }
    if let Some(id) = a.originator_id {
        s.push_str(&format!(" originator-id {id}"));
    }
    if !a.cluster_list.is_empty() {
        s.push_str(&format!(
            " cluster-list {}",
            text_list(a.cluster_list.iter().map(|c| c.to_string()).collect())
        ));
    }
    if !a.ext_communities.is_empty() {
        s.push_str(&format!(
            " extended-community {}",
            text_list(
                a.ext_communities
                    .iter()
                    .map(|c| match ext_community_json_name(c) {
                        name if flow && !name.is_empty() => name,
                        _ => c.to_string(),
                    })
                    .collect()
            )
        ));
    }
    if !a.large_communities.is_empty() {
        s.push_str(&format!(
            " large-community {}",
            text_list(a.large_communities.iter().map(|c| c.to_string()).collect())
        ));
    }
    s
}

/// A traffic-rate as Python's "%d" prints the float ExaBGP reads: the exact
/// integer of the truncated value (1e20 is 100000002004087734272, not
/// 100000000000000000000), 0 for -0.0; NaN and infinities (which "%d" cannot
/// print: ExaBGP fails on them) as "nan", "inf", "-inf".
fn rate_text(r: f32) -> String {
    if r.is_nan() {
        return "nan".to_string();
    }
    if r.is_infinite() {
        return if r > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let t = f64::from(r).trunc();
    if t == 0.0 {
        return "0".to_string();
    }
    format!("{t:.0}")
}

#[cfg(test)]
mod rate_tests {
    use super::rate_text;

    #[test]
    fn rates_print_as_python_percent_d() {
        assert_eq!(rate_text(1e20), "100000002004087734272");
        assert_eq!(rate_text(-0.0), "0");
        assert_eq!(rate_text(0.0), "0");
        assert_eq!(rate_text(12_500.9), "12500");
        assert_eq!(rate_text(-1.5), "-1");
        assert_eq!(rate_text(f32::NAN), "nan");
        assert_eq!(rate_text(f32::INFINITY), "inf");
    }
}
