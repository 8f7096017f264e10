//! Adj-RIB-In of one neighbor: what the peer announced and has not withdrawn.
//!
//! Filled from received UPDATEs (classic NLRI and MP_REACH/MP_UNREACH), emptied when
//! the session goes down. Attribute sets are stored without NEXT_HOP and MP_* (the
//! next hop is kept per prefix) and interned: every UPDATE carrying the same
//! attributes shares one `Arc`, so memory follows the distinct sets the peer sends,
//! not its messages. Prefixes are counted per family for the max-prefix limit: a
//! withdraw lowers the count, a re-announce of a prefix held does not raise it.
//!
//! Graceful restart (RFC 4724 §4.2): when a peer that negotiated it loses its
//! session, its routes are kept and marked stale instead of cleared; a route the
//! peer announces again is fresh; what is still stale after the peer's End-of-RIB
//! (or when its restart time runs out) is purged, and the caller publishes the
//! purged prefixes as withdrawn.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::intern::Interner;
use crate::bgp::{Family, FlowNlri, PathAttributes, Prefix, Update};

/// The interner is pruned (sets no prefix uses any more dropped) when it holds
/// twice as many sets as after the last prune, and at least this many, or when
/// it holds more than twice as many sets as there are prefixes, plus this many
/// (after a mass withdraw: dead sets would otherwise stay until the session
/// resets). Both are amortised constant work per UPDATE: a prune leaves at most
/// one set per prefix, so the next needs that many new sets again.
const PRUNE_MIN: usize = 1024;

/// What we hold for one received prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InEntry {
    pub next_hop: Option<IpAddr>,
    pub attributes: Arc<PathAttributes>,
    /// Kept from a session that was lost (graceful restart), not announced again
    /// since.
    pub stale: bool,
}

/// What one UPDATE changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InChange {
    pub announced: usize,
    pub withdrawn: usize,
}

/// The Adj-RIB-In of one neighbor.
///
/// Maps keep `std`'s keyed hasher: their keys (prefixes, attribute sets) come from
/// the peer.
#[derive(Debug)]
pub struct AdjRibIn {
    routes: HashMap<Prefix, InEntry>,
    /// Attribute sets received, shared across UPDATEs.
    interned: Interner<RandomState>,
    /// Interner size that triggers the next prune (see [`PRUNE_MIN`]).
    prune_at: usize,
    /// Prefixes held per family (few families: a short list).
    counts: Vec<(Family, usize)>,
    /// Flow rules received (RFC 8955/8956), with their attributes (actions).
    /// Keyed by what the peer sent: SipHash (`RandomState`), as `routes`.
    flows: HashMap<FlowNlri, Arc<PathAttributes>>,
}

impl Default for AdjRibIn {
    fn default() -> AdjRibIn {
        AdjRibIn {
            routes: HashMap::new(),
            interned: Interner::new(),
            prune_at: PRUNE_MIN,
            counts: Vec::new(),
            flows: HashMap::new(),
        }
    }
}

impl AdjRibIn {
    pub fn new() -> AdjRibIn {
        AdjRibIn::default()
    }

    /// Prefixes held for `family`.
    /// Estimated bytes held (for the metrics): the prefix table's slots and the
    /// attribute sets ([`Interner::approx_bytes`]); a lower bound.
    pub fn approx_bytes(&self) -> usize {
        super::approx_table_bytes::<(Prefix, InEntry)>(self.routes.capacity())
            + self.interned.approx_bytes()
            + super::approx_table_bytes::<(FlowNlri, Arc<PathAttributes>)>(self.flows.capacity())
            + self
                .flows
                .keys()
                .map(|n| n.rule.components.len() * 16)
                .sum::<usize>()
    }

    pub fn count(&self, family: Family) -> usize {
        self.counts
            .iter()
            .find(|(f, _)| *f == family)
            .map_or(0, |(_, n)| *n)
    }

    /// Distinct attribute sets held (sets no prefix uses any more may stay until
    /// the next prune).
    pub fn attribute_sets(&self) -> usize {
        self.interned.len()
    }

    fn count_mut(&mut self, family: Family) -> &mut usize {
        let i = match self.counts.iter().position(|(f, _)| *f == family) {
            Some(i) => i,
            None => {
                self.counts.push((family, 0));
                self.counts.len() - 1
            }
        };
        &mut self.counts[i].1
    }

    fn insert(&mut self, prefix: Prefix, entry: InEntry) {
        if self.routes.insert(prefix, entry).is_none() {
            *self.count_mut(prefix.family()) += 1;
        }
    }

    fn remove(&mut self, prefix: &Prefix) -> bool {
        if self.routes.remove(prefix).is_none() {
            return false;
        }
        let n = self.count_mut(prefix.family());
        *n = n.saturating_sub(1);
        true
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn clear(&mut self) {
        // Replaced, not cleared: a full table's allocation is given back.
        *self = AdjRibIn::default();
    }

    pub fn get(&self, prefix: &Prefix) -> Option<&InEntry> {
        self.routes.get(prefix)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Prefix, &InEntry)> {
        self.routes.iter()
    }

    /// The flow rules received, with their attributes.
    pub fn flows(&self) -> impl Iterator<Item = (&FlowNlri, &Arc<PathAttributes>)> {
        self.flows.iter()
    }

    /// Applies a received UPDATE: withdrawals first, then announcements. A
    /// treat-as-withdraw UPDATE (RFC 7606) arrives with its prefixes already moved to
    /// the withdrawn lists by the decoder, so it only removes.
    pub fn apply(&mut self, update: &Update) -> InChange {
        let mut change = InChange::default();
        let a = &update.attributes;
        let mp_withdrawn = a.mp_unreach.iter().flat_map(|u| u.withdrawn.iter());
        for p in update.withdrawn.iter().chain(mp_withdrawn) {
            if self.remove(p) {
                change.withdrawn += 1;
            }
        }
        // Flow rules (RFC 8955/8956): keyed by the rule, one attribute set each.
        for n in a.flow_unreach.iter().flat_map(|u| u.withdrawn.iter()) {
            if self.flows.remove(n).is_some() {
                // Counted per family as prefixes are: max-prefix and the
                // metrics see flow rules too (review: a peer could fill memory
                // under any max-prefix with rules).
                *self.count_mut(n.family()) -= 1;
                change.withdrawn += 1;
            }
        }
        if update.treat_as_withdraw.is_some() {
            self.maybe_prune();
            return change;
        }
        if let Some(r) = a.flow_reach.as_ref().filter(|r| !r.nlri.is_empty()) {
            let attrs = Arc::new(PathAttributes {
                flow_reach: None,
                flow_unreach: None,
                mp_unreach: None,
                ..a.clone()
            });
            for n in &r.nlri {
                if self.flows.insert(n.clone(), Arc::clone(&attrs)).is_none() {
                    *self.count_mut(n.family()) += 1;
                }
                change.announced += 1;
            }
        }
        let has_v4 = !update.nlri.is_empty();
        let has_mp = a.mp_reach.as_ref().is_some_and(|r| !r.nlri.is_empty());
        if !has_v4 && !has_mp {
            self.maybe_prune();
            return change;
        }
        let stored = self.interned.intern(PathAttributes {
            next_hop: None,
            mp_reach: None,
            mp_unreach: None,
            flow_reach: None,
            flow_unreach: None,
            ..a.clone()
        });
        let v4_next_hop = a.next_hop.map(IpAddr::V4);
        for p in &update.nlri {
            self.insert(
                *p,
                InEntry {
                    next_hop: v4_next_hop,
                    attributes: Arc::clone(&stored),
                    stale: false,
                },
            );
            change.announced += 1;
        }
        if let Some(r) = &a.mp_reach {
            let nh = r.next_hops.first().copied();
            for p in &r.nlri {
                self.insert(
                    *p,
                    InEntry {
                        next_hop: nh,
                        attributes: Arc::clone(&stored),
                        stale: false,
                    },
                );
                change.announced += 1;
            }
        }
        self.maybe_prune();
        change
    }

    /// Marks every route stale (the session was lost, RFC 4724 §4.2); returns
    /// how many routes are held.
    pub fn mark_stale(&mut self) -> usize {
        for e in self.routes.values_mut() {
            e.stale = true;
        }
        self.routes.len()
    }

    /// Routes still stale.
    pub fn stale_count(&self) -> usize {
        self.routes.values().filter(|e| e.stale).count()
    }

    /// Removes the stale routes of `family` (of every family when None) and
    /// returns their prefixes, for the caller to publish as withdrawn.
    pub fn purge_stale(&mut self, family: Option<Family>) -> Vec<Prefix> {
        let gone: Vec<Prefix> = self
            .routes
            .iter()
            .filter(|(p, e)| e.stale && family.map_or(true, |f| p.family() == f))
            .map(|(p, _)| *p)
            .collect();
        for p in &gone {
            self.remove(p);
        }
        self.maybe_prune();
        gone
    }

    /// Drops interned sets no prefix uses any more, once the interner has doubled
    /// or outgrown the table (see [`PRUNE_MIN`]).
    fn maybe_prune(&mut self) {
        let sets = self.interned.len();
        let outgrown = sets
            > self
                .routes
                .len()
                .saturating_mul(2)
                .saturating_add(PRUNE_MIN);
        if sets >= self.prune_at || outgrown {
            self.interned.prune();
            self.prune_at = (self.interned.len() * 2).max(PRUNE_MIN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::{Family, MpReach, MpUnreach, Origin};

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    /// RFC 4724 §4.2: kept as stale, a re-announce makes a route fresh, the
    /// purge after End-of-RIB takes only what is still stale, per family.
    #[test]
    fn stale_routes_kept_refreshed_and_purged() {
        let mut rib = AdjRibIn::new();
        let u = Update {
            nlri: vec![p("10.0.0.0/24"), p("10.0.1.0/24")],
            attributes: PathAttributes {
                next_hop: Some("192.0.2.9".parse().unwrap()),
                mp_reach: Some(MpReach {
                    family: Family::IPV6_UNICAST,
                    next_hops: vec!["2001:db8::9".parse().unwrap()],
                    nlri: vec![p("2001:db8:1::/48")],
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        rib.apply(&u);
        assert_eq!(rib.stale_count(), 0);
        assert_eq!(rib.mark_stale(), 3);
        assert_eq!(rib.stale_count(), 3);
        assert!(rib.get(&p("10.0.0.0/24")).unwrap().stale);
        // The peer comes back and announces one of its IPv4 routes again.
        rib.apply(&Update {
            nlri: vec![p("10.0.0.0/24")],
            attributes: PathAttributes {
                next_hop: Some("192.0.2.9".parse().unwrap()),
                ..Default::default()
            },
            ..Default::default()
        });
        assert!(!rib.get(&p("10.0.0.0/24")).unwrap().stale);
        // IPv4 End-of-RIB: only the IPv4 route not announced again goes.
        assert_eq!(
            rib.purge_stale(Some(Family::IPV4_UNICAST)),
            vec![p("10.0.1.0/24")]
        );
        assert_eq!(rib.count(Family::IPV4_UNICAST), 1);
        assert_eq!(rib.stale_count(), 1);
        // Restart time over: the rest of the stale routes go.
        assert_eq!(rib.purge_stale(None), vec![p("2001:db8:1::/48")]);
        assert_eq!(rib.count(Family::IPV6_UNICAST), 0);
        assert_eq!(rib.len(), 1);
    }

    #[test]
    fn flow_rules_are_kept_and_withdrawn() {
        use crate::bgp::{FlowReach, FlowRule, FlowUnreach};
        let n = FlowNlri {
            rd: None,
            rule: FlowRule::parse("destination 10.0.0.0/24 protocol tcp", None).unwrap(),
        };
        let mut rib = AdjRibIn::new();
        let mut u = Update::default();
        u.attributes.origin = Some(Origin::Igp);
        u.attributes.flow_reach = Some(FlowReach {
            family: Family::IPV4_FLOW,
            next_hops: vec![],
            nlri: vec![n.clone()],
        });
        assert_eq!(rib.apply(&u).announced, 1);
        // Counted per family like prefixes (max-prefix, metrics); the same rule
        // again replaces it and counts once.
        assert_eq!(rib.count(Family::IPV4_FLOW), 1);
        assert_eq!(rib.apply(&u).announced, 1);
        assert_eq!(rib.count(Family::IPV4_FLOW), 1);
        let held: Vec<_> = rib.flows().collect();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].0, &n);
        assert!(
            held[0].1.flow_reach.is_none(),
            "the rules are not kept twice"
        );
        let mut w = Update::default();
        w.attributes.flow_unreach = Some(FlowUnreach {
            family: Family::IPV4_FLOW,
            withdrawn: vec![n],
        });
        assert_eq!(rib.apply(&w).withdrawn, 1);
        assert_eq!(rib.flows().count(), 0);
        assert_eq!(rib.count(Family::IPV4_FLOW), 0);
    }

    #[test]
    fn announce_withdraw_classic_and_mp() {
        let mut rib = AdjRibIn::new();
        let u = Update {
            nlri: vec![p("10.0.0.0/24"), p("10.0.1.0/24")],
            attributes: PathAttributes {
                origin: Some(Origin::Igp),
                next_hop: Some("192.0.2.9".parse().unwrap()),
                mp_reach: Some(MpReach {
                    family: Family::IPV6_UNICAST,
                    next_hops: vec!["2001:db8::9".parse().unwrap()],
                    nlri: vec![p("2001:db8:1::/48")],
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            rib.apply(&u),
            InChange {
                announced: 3,
                withdrawn: 0
            }
        );
        let e = rib.get(&p("2001:db8:1::/48")).unwrap();
        assert_eq!(e.next_hop, Some("2001:db8::9".parse().unwrap()));
        assert!(e.attributes.mp_reach.is_none() && e.attributes.next_hop.is_none());
        assert_eq!(
            rib.get(&p("10.0.0.0/24")).unwrap().next_hop,
            Some("192.0.2.9".parse().unwrap())
        );

        let w = Update {
            withdrawn: vec![p("10.0.0.0/24"), p("10.9.0.0/24")],
            attributes: PathAttributes {
                mp_unreach: Some(MpUnreach {
                    family: Family::IPV6_UNICAST,
                    withdrawn: vec![p("2001:db8:1::/48")],
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            rib.apply(&w),
            InChange {
                announced: 0,
                withdrawn: 2
            }
        );
        assert_eq!(rib.len(), 1);
    }

    #[test]
    fn treat_as_withdraw_only_removes() {
        let mut rib = AdjRibIn::new();
        let u = Update {
            nlri: vec![p("10.0.0.0/24")],
            attributes: PathAttributes {
                next_hop: Some("192.0.2.9".parse().unwrap()),
                ..Default::default()
            },
            ..Default::default()
        };
        rib.apply(&u);
        let bad = Update {
            withdrawn: vec![p("10.0.0.0/24")],
            treat_as_withdraw: Some("bad ORIGIN".into()),
            ..Default::default()
        };
        assert_eq!(
            rib.apply(&bad),
            InChange {
                announced: 0,
                withdrawn: 1
            }
        );
        assert!(rib.is_empty());
    }

    fn announce(prefixes: &[&str], med: u32) -> Update {
        Update {
            nlri: prefixes.iter().map(|s| p(s)).collect(),
            attributes: PathAttributes {
                origin: Some(Origin::Igp),
                med: Some(med),
                next_hop: Some("192.0.2.9".parse().unwrap()),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// Many UPDATEs with one attribute set: one allocation, held by every prefix
    /// (and the interner); a second set is a second allocation.
    #[test]
    fn updates_with_equal_attributes_share_one_arc() {
        let mut rib = AdjRibIn::new();
        for i in 0..2000u32 {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8));
            rib.apply(&announce(&[&format!("{a}/24")], 7));
        }
        rib.apply(&announce(&["192.0.2.0/24"], 8));
        assert_eq!(rib.attribute_sets(), 2);
        let first = &rib.get(&p("10.0.0.0/24")).unwrap().attributes;
        let last = &rib.get(&p("10.7.207.0/24")).unwrap().attributes;
        assert!(Arc::ptr_eq(first, last));
        // 2000 prefixes + the interner.
        assert_eq!(Arc::strong_count(first), 2001);
    }

    /// A peer that keeps changing the attributes of one prefix does not grow the
    /// interner without bound: sets no prefix uses are pruned.
    #[test]
    fn unused_attribute_sets_are_pruned() {
        let mut rib = AdjRibIn::new();
        for med in 0..(10 * PRUNE_MIN as u32) {
            rib.apply(&announce(&["10.0.0.0/24"], med));
            assert!(
                rib.attribute_sets() <= PRUNE_MIN,
                "{}",
                rib.attribute_sets()
            );
        }
        assert_eq!(rib.len(), 1);
    }

    /// After a mass withdraw the sets of the withdrawn prefixes go too, without
    /// waiting for the interner to double again or the session to reset.
    #[test]
    fn a_mass_withdraw_prunes_dead_sets() {
        let mut rib = AdjRibIn::new();
        let n = 5 * PRUNE_MIN as u32;
        let prefix = |i: u32| format!("{}/24", std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8)));
        for i in 0..n {
            rib.apply(&announce(&[&prefix(i)], i));
        }
        assert_eq!(rib.attribute_sets(), n as usize);
        let all: Vec<Prefix> = (0..n).map(|i| p(&prefix(i))).collect();
        for chunk in all.chunks(500) {
            rib.apply(&Update {
                withdrawn: chunk.to_vec(),
                ..Default::default()
            });
        }
        assert!(rib.is_empty());
        assert!(
            rib.attribute_sets() <= PRUNE_MIN,
            "{} dead sets kept",
            rib.attribute_sets()
        );
    }

    /// The per-family count follows the table: a re-announce does not raise it, a
    /// withdraw (classic or MP) lowers it, a withdraw of an unknown prefix does not.
    #[test]
    fn counts_per_family_follow_withdraws_and_reannounces() {
        let mut rib = AdjRibIn::new();
        rib.apply(&announce(&["10.0.0.0/24", "10.0.1.0/24"], 1));
        rib.apply(&announce(&["10.0.0.0/24"], 2));
        assert_eq!(rib.count(Family::IPV4_UNICAST), 2);
        let mut u = announce(&[], 1);
        u.attributes.mp_reach = Some(MpReach {
            family: Family::IPV6_UNICAST,
            next_hops: vec!["2001:db8::9".parse().unwrap()],
            nlri: vec![p("2001:db8:1::/48"), p("2001:db8:2::/48")],
        });
        rib.apply(&u);
        assert_eq!(rib.count(Family::IPV6_UNICAST), 2);
        let w = Update {
            withdrawn: vec![p("10.0.1.0/24"), p("10.9.9.0/24")],
            attributes: PathAttributes {
                mp_unreach: Some(MpUnreach {
                    family: Family::IPV6_UNICAST,
                    withdrawn: vec![p("2001:db8:1::/48"), p("2001:db8:1::/48")],
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        rib.apply(&w);
        assert_eq!(rib.count(Family::IPV4_UNICAST), 1);
        assert_eq!(rib.count(Family::IPV6_UNICAST), 1);
        assert_eq!(rib.len(), 2);
        rib.clear();
        assert_eq!(rib.count(Family::IPV4_UNICAST), 0);
    }
}
