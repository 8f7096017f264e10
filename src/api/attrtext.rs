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
    if let Some(p) = &a.as_path {
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
    if !a.ext_communities.is_empty() {
        o = o.raw(
            "extended-community",
            jsonw::array(a.ext_communities.iter().map(|c| {
                Obj::new()
                    .num("value", values::ext_community_value(c))
                    .str("string", &values::ext_community_name(c).unwrap_or_default())
                    .build()
            })),
        );
    }
    if !a.large_communities.is_empty() {
        let mut l = a.large_communities.clone();
        l.sort();
        o = o.raw(
            "large-community",
            jsonw::array(
                l.iter()
                    .map(|c| format!("[{}, {}, {}]", c.global, c.local1, c.local2)),
            ),
        );
    }
    for u in &a.unknown {
        let hex: String = u.value.iter().map(|b| format!("{b:02X}")).collect();
        o = o.str(
            &format!("attribute-0x{:02X}-0x{:02X}", u.type_code, u.flags),
            &format!("0x{hex}"),
        );
    }
    o
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
    let mut s = String::new();
    if let Some(o) = a.origin {
        s.push_str(&format!(" origin {}", o));
    }
    if let Some(p) = &a.as_path {
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
            text_list(a.ext_communities.iter().map(|c| c.to_string()).collect())
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
