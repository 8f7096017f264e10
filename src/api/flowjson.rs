//! Received flow rules (RFC 8955/8956) in ExaBGP 5.0's JSON: under the family
//! (`"ipv4 flow"`), announced rules grouped by next hop (`"no-nexthop"` when the
//! MP_REACH_NLRI carried none, as ExaBGP prints it), each rule an object of its
//! components (the names and strings of `bgp::flow`, e.g.
//! `"destination-port": ["=80"]`), `"rd"` (flow-vpn), `"next-hop"` when the
//! MP_REACH_NLRI carried one, and `"string"`, the rule as ExaBGP's text.
//! [`extensive`] is that text, also the text encoder's line for a flow route.
//! The actions are the `extended-community` attribute, printed with the others.

use std::net::IpAddr;

use crate::bgp::flow::{rd_text, Component};
use crate::bgp::{FlowNlri, PathAttributes};

use super::jsonw::{self, Obj};
use super::values;

/// How many operator terms a component has (a prefix is one): ExaBGP brackets
/// a component's text when it has more than one (flow.py `Flow._rules`), an
/// AND chain included: `destination-port [ >=80&<=90 ]`.
fn terms(c: &Component) -> usize {
    c.numeric_list()
        .map(<[_]>::len)
        .or_else(|| c.bitmask_list().map(<[_]>::len))
        .unwrap_or(1)
}

/// A rule's components in type order (the order ExaBGP prints: `sorted(rules)`).
fn sorted(n: &FlowNlri) -> Vec<&Component> {
    let mut v: Vec<&Component> = n.rule.components.iter().collect();
    v.sort_by_key(|c| c.code());
    v
}

/// ExaBGP's text of a received rule (flow.py `Flow.extensive`): `flow`, then per
/// component ` NAME VALUE` or ` NAME [ V1 V2 ]` (JSON names: `destination-ipv4`,
/// ...; OR-ed terms apart, an AND chain joined), then ` rd RD`, then
/// ` next-hop NH` when the rule came with a next hop.
pub(crate) fn extensive(n: &FlowNlri, next_hop: Option<IpAddr>) -> String {
    let ipv6 = n.rule.ipv6;
    let mut text = String::from("flow");
    for c in sorted(n) {
        let vals = c.json_values();
        let name = c.json_name(ipv6);
        if terms(c) > 1 {
            text.push_str(&format!(" {name} [ {} ]", vals.join(" ")));
        } else {
            text.push_str(&format!(" {name} {}", vals.join(" ")));
        }
    }
    if let Some(rd) = &n.rd {
        text.push_str(&format!(" rd {}", rd_text(rd)));
    }
    if let Some(nh) = next_hop {
        text.push_str(&format!(" next-hop {nh}"));
    }
    text
}

/// One rule as ExaBGP's JSON object (flow.py `Flow.json`): the components, then
/// `"rd"`, then `"next-hop"` when the rule came with one, then `"string"`.
pub(crate) fn rule_obj(n: &FlowNlri, next_hop: Option<IpAddr>) -> String {
    let ipv6 = n.rule.ipv6;
    let mut o = Obj::new();
    for c in sorted(n) {
        let vals = c.json_values();
        o = o.raw(
            c.json_name(ipv6),
            jsonw::array(vals.iter().map(|v| jsonw::string(v))),
        );
    }
    if let Some(rd) = &n.rd {
        o = o.str("rd", &rd_text(rd));
    }
    if let Some(nh) = next_hop {
        o = o.str("next-hop", &nh.to_string());
    }
    o.str("string", &extensive(n, next_hop)).build()
}

/// `("ipv4 flow", {"no-nexthop": [ ... ]})` for the announced rules, if any.
pub(crate) fn announced(a: &PathAttributes) -> Option<(String, String)> {
    let r = a.flow_reach.as_ref().filter(|r| !r.nlri.is_empty())?;
    let nh = r
        .next_hops
        .first()
        .map_or_else(|| "no-nexthop".to_string(), |n| n.to_string());
    let first = r.next_hops.first().copied();
    let list = jsonw::array(r.nlri.iter().map(|n| rule_obj(n, first)));
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
        jsonw::array(u.withdrawn.iter().map(|n| rule_obj(n, None))),
    ))
}
