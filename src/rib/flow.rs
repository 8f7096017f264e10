//! Flow rules (RFC 8955/8956) in the Adj-RIB-Out: what the config and the API
//! announce, keyed by the flow NLRI (one set of actions per rule, as one path per
//! prefix for unicast), and the changes not yet sent.
//!
//! Kept apart from the prefix table of `out.rs`: a flow rule has no prefix, no
//! next-hop self, and is packed one rule an UPDATE with its actions (extended
//! communities) in the attributes. [`super::AdjRibOut`] owns one and applies its
//! clear / resend operations to it too.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use crate::bgp::{Family, FlowNlri, PathAttributes};

use super::hash::FxHashMap;

/// A flow rule to announce: the rule, its attributes (the actions are among the
/// extended communities) and, for redirect-to-nexthop, the next hop to put in
/// MP_REACH_NLRI (None: next hop length 0, as RFC 8955 §4 says).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FlowRoute {
    pub nlri: FlowNlri,
    pub next_hop: Option<IpAddr>,
    pub attributes: Arc<PathAttributes>,
}

impl FlowRoute {
    pub fn family(&self) -> Family {
        self.nlri.family()
    }
}

/// The flow changes to send.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowDelta {
    pub announce: Vec<FlowRoute>,
    pub withdraw: Vec<FlowNlri>,
}

impl FlowDelta {
    pub fn is_empty(&self) -> bool {
        self.announce.is_empty() && self.withdraw.is_empty()
    }
}

/// The flow part of one neighbor's Adj-RIB-Out.
#[derive(Debug, Default)]
pub struct FlowOut {
    rules: FxHashMap<FlowNlri, FlowRoute>,
    /// Rules changed since the last take: announced if still held, else withdrawn.
    /// Ordered, so what is sent does not depend on hashing.
    pending: BTreeSet<FlowNlri>,
}

impl FlowOut {
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Adds or replaces the rule; false when an identical one was held.
    pub fn announce(&mut self, route: &FlowRoute) -> bool {
        if self.rules.get(&route.nlri) == Some(route) {
            return false;
        }
        self.announce_owned(route.clone())
    }

    /// [`FlowOut::announce`] of a rule the caller gives away (an API command's):
    /// kept without another copy of the whole rule.
    pub fn announce_owned(&mut self, route: FlowRoute) -> bool {
        if self.rules.get(&route.nlri) == Some(&route) {
            return false;
        }
        self.pending.insert(route.nlri.clone());
        self.rules.insert(route.nlri.clone(), route);
        true
    }

    /// Removes the rule; false when it was not held.
    pub fn withdraw(&mut self, nlri: &FlowNlri) -> bool {
        if self.rules.remove(nlri).is_none() {
            return false;
        }
        self.pending.insert(nlri.clone());
        true
    }

    /// Every rule becomes a pending withdraw.
    pub fn clear(&mut self) {
        let rules = std::mem::take(&mut self.rules);
        self.pending.extend(rules.into_keys());
    }

    /// The whole table to be sent again, pending withdraws forgotten (new session).
    pub fn resend_all(&mut self) {
        self.pending = self.rules.keys().cloned().collect();
    }

    /// The whole table to be sent again, pending withdraws kept.
    pub fn resend_held(&mut self) {
        self.pending.extend(self.rules.keys().cloned());
    }

    pub fn resend_family(&mut self, family: Family) {
        self.pending
            .extend(self.rules.keys().filter(|n| n.family() == family).cloned());
    }

    /// After a hand-over (see [`super::AdjRibOut::adopt_held`]): the peer holds
    /// the rules `held`; pending becomes the rules it lacks or holds otherwise
    /// (`unchanged` false) and the held rules no longer desired.
    pub fn adopt_held(
        &mut self,
        held: impl IntoIterator<Item = FlowNlri>,
        unchanged: impl Fn(&FlowRoute) -> bool,
    ) {
        let held: BTreeSet<FlowNlri> = held.into_iter().collect();
        self.pending.clear();
        for (n, r) in &self.rules {
            if !held.contains(n) || !unchanged(r) {
                self.pending.insert(n.clone());
            }
        }
        for n in held {
            if !self.rules.contains_key(&n) {
                self.pending.insert(n);
            }
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &FlowRoute> {
        self.rules.values()
    }

    /// Takes the pending changes of `families` (changes of other families are
    /// dropped: the session cannot carry them).
    pub fn take_delta(&mut self, families: &[Family]) -> FlowDelta {
        let mut d = FlowDelta::default();
        for nlri in std::mem::take(&mut self.pending) {
            if !families.contains(&nlri.family()) {
                continue;
            }
            match self.rules.get(&nlri) {
                Some(r) => d.announce.push(r.clone()),
                None => d.withdraw.push(nlri),
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::FlowRule;

    fn route(text: &str, rate: u32) -> FlowRoute {
        FlowRoute {
            nlri: FlowNlri {
                rd: None,
                rule: FlowRule::parse(text, None).unwrap(),
            },
            next_hop: None,
            attributes: Arc::new(PathAttributes {
                med: Some(rate),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn announce_replace_withdraw_and_families() {
        let mut t = FlowOut::default();
        let a = route("destination 10.0.0.1/32", 1);
        let b = route("source 2001:db8::/32", 1);
        assert!(t.announce(&a) && t.announce(&b));
        assert!(!t.announce(&a), "identical: no change");
        let d = t.take_delta(&[Family::IPV4_FLOW]);
        assert_eq!(d.announce, vec![a.clone()]);
        assert!(t.take_delta(&[Family::IPV4_FLOW]).is_empty());
        let a2 = route("destination 10.0.0.1/32", 2);
        assert!(t.announce(&a2));
        assert!(t.withdraw(&b.nlri) && !t.withdraw(&b.nlri));
        let d = t.take_delta(&[Family::IPV4_FLOW, Family::IPV6_FLOW]);
        assert_eq!(d.announce, vec![a2.clone()]);
        assert_eq!(d.withdraw, vec![b.nlri.clone()]);
        t.clear();
        let d = t.take_delta(&[Family::IPV4_FLOW]);
        assert_eq!(d.withdraw, vec![a2.nlri.clone()]);
        assert!(t.is_empty());
        t.announce(&a);
        t.resend_all();
        assert_eq!(t.take_delta(&[Family::IPV4_FLOW]).announce, vec![a]);
    }

    #[test]
    fn adopt_held_sends_only_the_difference() {
        let mut t = FlowOut::default();
        let same = route("destination 10.0.0.1/32", 1);
        let changed = route("destination 10.0.0.2/32", 2);
        let new = route("destination 10.0.0.3/32", 3);
        let gone = route("destination 10.0.0.4/32", 4);
        for r in [&same, &changed, &new] {
            t.announce(r);
        }
        let held = vec![same.nlri.clone(), changed.nlri.clone(), gone.nlri.clone()];
        t.adopt_held(held, |r| r.nlri == same.nlri);
        let d = t.take_delta(&[Family::IPV4_FLOW]);
        let mut announced: Vec<FlowNlri> = d.announce.iter().map(|r| r.nlri.clone()).collect();
        announced.sort();
        let mut want = vec![changed.nlri.clone(), new.nlri.clone()];
        want.sort();
        assert_eq!(announced, want);
        assert_eq!(d.withdraw, vec![gone.nlri.clone()]);
    }
}
