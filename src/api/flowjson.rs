//! Received flow rules (RFC 8955/8956) in ExaBGP 5.0's JSON: under the family
//! (`"ipv4 flow"`), announced rules grouped by next hop (`"no-nexthop"` when the
//! MP_REACH_NLRI carried none, as ExaBGP prints it), each rule an object of its
//! components (the names and strings of `bgp::flow`, e.g.
//! `"destination-port": ["=80"]`) plus `"string"`, the rule as ExaBGP's text.
//! The actions are the `extended-community` attribute, printed with the others.

use crate::bgp::{FlowNlri, PathAttributes};

use super::jsonw::{self, Obj};
use super::values;

/// One rule as ExaBGP's JSON object.
pub(crate) fn rule_obj(n: &FlowNlri) -> String {
    let ipv6 = n.rule.ipv6;
    let mut o = Obj::new();
    let mut text = String::from("flow");
    for c in &n.rule.components {
        let name = c.json_name(ipv6);
        let vals = c.json_values();
        o = o.raw(name, jsonw::array(vals.iter().map(|v| jsonw::string(v))));
        match vals.as_slice() {
            [one] => text.push_str(&format!(" {name} {one}")),
            many => text.push_str(&format!(" {name} [ {} ]", many.join(" "))),
        }
    }
    if let Some(rd) = &n.rd {
        let hex: String = rd.iter().map(|b| format!("{b:02x}")).collect();
        o = o.str("rd", &format!("0x{hex}"));
    }
    o.str("string", &text).build()
}

/// `("ipv4 flow", {"no-nexthop": [ ... ]})` for the announced rules, if any.
pub(crate) fn announced(a: &PathAttributes) -> Option<(String, String)> {
    let r = a.flow_reach.as_ref().filter(|r| !r.nlri.is_empty())?;
    let nh = r
        .next_hops
        .first()
        .map_or_else(|| "no-nexthop".to_string(), |n| n.to_string());
    let list = jsonw::array(r.nlri.iter().map(rule_obj));
    Some((
        values::family_text(r.family),
        Obj::new().raw(&nh, list).build(),
    ))
}

/// `("ipv4 flow", [ ... ])` for the withdrawn rules, if any.
pub(crate) fn withdrawn(a: &PathAttributes) -> Option<(String, String)> {
    let u = a
        .flow_unreach
        .as_ref()
        .filter(|u| !u.withdrawn.is_empty())?;
    Some((
        values::family_text(u.family),
        jsonw::array(u.withdrawn.iter().map(rule_obj)),
    ))
}
