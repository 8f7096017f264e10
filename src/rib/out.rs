//! Adj-RIB-Out of one neighbor: the routes we want the peer to have, and the
//! changes not yet sent.
//!
//! Routes are keyed by prefix (one path per prefix, as without ADD-PATH). Attribute
//! sets are interned, so routes with equal attributes share one `Arc` and packing can
//! group them by pointer: one UPDATE carries every prefix with the same attributes,
//! next hop and family. Re-announcing an identical route records no change.

use std::collections::hash_map::Entry;
use std::sync::Arc;

use crate::bgp::{Family, PathAttributes, Prefix};

use super::flow::FlowOut;
use super::hash::{FxHashMap, FxHashSet};
use super::intern::Interner;
use super::route::{NextHop, Route};

/// What we hold for one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutEntry {
    pub next_hop: NextHop,
    /// Interned: equal attribute sets are the same allocation.
    pub attributes: Arc<PathAttributes>,
}

/// Prefixes sharing attributes, next hop and family: the content of one or more
/// UPDATE messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnounceGroup {
    pub family: Family,
    pub next_hop: NextHop,
    pub attributes: Arc<PathAttributes>,
    pub prefixes: Vec<Prefix>,
}

/// The changes to send, grouped for packing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub announce: Vec<AnnounceGroup>,
    /// Withdrawn prefixes, per family.
    pub withdraw: Vec<(Family, Vec<Prefix>)>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.announce.is_empty() && self.withdraw.is_empty()
    }

    /// How many prefixes the delta announces and withdraws.
    pub fn counts(&self) -> (usize, usize) {
        let a = self.announce.iter().map(|g| g.prefixes.len()).sum();
        let w = self.withdraw.iter().map(|(_, p)| p.len()).sum();
        (a, w)
    }
}

/// The Adj-RIB-Out of one neighbor.
///
/// Maps use [`FxHasher`](super::hash::FxHasher): their keys come from the operator
/// (configuration, API), not from the peer.
#[derive(Debug)]
pub struct AdjRibOut {
    routes: FxHashMap<Prefix, OutEntry>,
    /// Prefixes changed since the last `take_delta`: announced if still in `routes`,
    /// withdrawn otherwise.
    pending: FxHashSet<Prefix>,
    /// Every prefix in `routes` is pending too (a new table, or `resend_all`), without
    /// a copy in `pending`: a table loaded from a large configuration does not need
    /// a second set as large as itself. `pending` then only matters for withdraws.
    all_pending: bool,
    /// Attribute sets in use (or recently used), so equal sets share one `Arc`.
    interned: Interner,
    /// Routes held per family (few families: a short list), for the metrics.
    counts: Vec<(Family, usize)>,
    /// Flow rules (RFC 8955/8956): cleared and re-sent with the prefixes.
    pub flows: FlowOut,
}

impl Default for AdjRibOut {
    fn default() -> AdjRibOut {
        AdjRibOut {
            routes: FxHashMap::default(),
            pending: FxHashSet::default(),
            all_pending: true,
            interned: Interner::new(),
            counts: Vec::new(),
            flows: FlowOut::default(),
        }
    }
}

impl AdjRibOut {
    pub fn new() -> AdjRibOut {
        AdjRibOut::default()
    }

    /// An empty table with room for `routes` routes: a table filled from a large
    /// configuration then grows without rehashing (and without holding the old and
    /// the new table at once).
    pub fn with_capacity(routes: usize) -> AdjRibOut {
        let mut rib = AdjRibOut::default();
        rib.routes.reserve(routes);
        rib
    }

    /// Number of routes held.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Estimated bytes held (for the metrics): the route and pending tables'
    /// slots and the attribute sets ([`Interner::approx_bytes`]); a lower bound.
    pub fn approx_bytes(&self) -> usize {
        super::approx_table_bytes::<(Prefix, OutEntry)>(self.routes.capacity())
            + super::approx_table_bytes::<Prefix>(self.pending.capacity())
            + self.interned.approx_bytes()
    }

    /// Routes held for `family`.
    pub fn count(&self, family: Family) -> usize {
        self.counts
            .iter()
            .find(|(f, _)| *f == family)
            .map_or(0, |(_, n)| *n)
    }

    /// Counts one route of `family` more (`add`) or less.
    fn recount(&mut self, family: Family, add: bool) {
        let i = match self.counts.iter().position(|(f, _)| *f == family) {
            Some(i) => i,
            None => {
                self.counts.push((family, 0));
                self.counts.len() - 1
            }
        };
        let n = &mut self.counts[i].1;
        *n = if add { *n + 1 } else { n.saturating_sub(1) };
    }

    /// Number of prefixes with a change not yet taken.
    pub fn pending_len(&self) -> usize {
        if self.all_pending {
            let withdrawn = self
                .pending
                .iter()
                .filter(|p| !self.routes.contains_key(*p))
                .count();
            self.routes.len() + withdrawn
        } else {
            self.pending.len()
        }
    }

    /// Adds or replaces the route for its prefix. Returns false when an identical
    /// route was already held (nothing will be sent).
    pub fn announce(&mut self, route: &Route) -> bool {
        let attributes = self.interned.share(&route.attributes);
        let entry = OutEntry {
            next_hop: route.next_hop,
            attributes,
        };
        match self.routes.entry(route.prefix) {
            Entry::Occupied(mut held) => {
                let cur = held.get();
                if cur.next_hop == entry.next_hop
                    && (Arc::ptr_eq(&cur.attributes, &entry.attributes)
                        || *cur.attributes == *entry.attributes)
                {
                    return false;
                }
                held.insert(entry);
            }
            Entry::Vacant(slot) => {
                slot.insert(entry);
                self.recount(route.prefix.family(), true);
            }
        }
        if !self.all_pending {
            self.pending.insert(route.prefix);
        }
        true
    }

    /// Removes the route for `prefix`. Returns false when there was none.
    pub fn withdraw(&mut self, prefix: &Prefix) -> bool {
        if self.routes.remove(prefix).is_none() {
            return false;
        }
        self.recount(prefix.family(), false);
        self.pending.insert(*prefix);
        true
    }

    /// Removes every route (each one becomes a pending withdraw).
    pub fn clear(&mut self) {
        self.pending.extend(self.routes.keys().copied());
        self.routes.clear();
        self.interned.clear();
        self.counts.clear();
        self.flows.clear();
    }

    /// Marks the whole table to be sent again and forgets pending withdraws: what a
    /// new session (the peer has nothing) or a ROUTE-REFRESH (the peer wants it all)
    /// needs.
    pub fn resend_all(&mut self) {
        self.pending.clear();
        self.all_pending = true;
        self.flows.resend_all();
    }

    /// Marks the whole table to be sent again, keeping pending withdraws: what
    /// `flush adj-rib out` needs on a live session (the peer has our routes, and a
    /// withdraw not yet sent must still reach it).
    pub fn resend_held(&mut self) {
        let routes = &self.routes;
        self.pending.retain(|p| !routes.contains_key(p));
        self.all_pending = true;
        self.flows.resend_held();
    }

    /// Marks every route of `family` to be sent again (a ROUTE-REFRESH for that
    /// family); pending changes of every family stay pending.
    pub fn resend_family(&mut self, family: Family) {
        self.flows.resend_family(family);
        if self.all_pending {
            return;
        }
        self.pending
            .extend(self.routes.keys().filter(|p| p.family() == family).copied());
    }

    /// After a hand-over from the previous process (issue 13): the table holds
    /// the desired routes; the peer holds `held` (its prefixes), and
    /// `unchanged(prefix, entry)` says whether its copy equals our route. Pending
    /// becomes exactly the difference: desired routes the peer lacks or holds
    /// otherwise are announced, held prefixes no longer desired are withdrawn,
    /// the rest is not sent again.
    pub fn adopt_held(
        &mut self,
        held: impl IntoIterator<Item = Prefix>,
        unchanged: impl Fn(&Prefix, &OutEntry) -> bool,
    ) {
        let held: FxHashSet<Prefix> = held.into_iter().collect();
        self.all_pending = false;
        self.pending.clear();
        for (p, e) in &self.routes {
            if !held.contains(p) || !unchanged(p, e) {
                self.pending.insert(*p);
            }
        }
        for p in held {
            if !self.routes.contains_key(&p) {
                self.pending.insert(p);
            }
        }
    }

    /// Every route held, for `show adj-rib out`.
    pub fn iter(&self) -> impl Iterator<Item = (&Prefix, &OutEntry)> {
        self.routes.iter()
    }

    pub fn get(&self, prefix: &Prefix) -> Option<&OutEntry> {
        self.routes.get(prefix)
    }

    /// Takes the pending changes, grouped for packing (prefixes sorted, so output is
    /// deterministic), restricted to `families`; changes of other families are dropped
    /// (the session cannot carry them).
    pub fn take_delta(&mut self, families: &[Family]) -> Delta {
        // Group by (attributes pointer, next hop, family): interning makes pointer
        // equality the same as value equality.
        let mut groups: FxHashMap<(usize, NextHop, Family), AnnounceGroup> = FxHashMap::default();
        let mut withdraw: FxHashMap<Family, Vec<Prefix>> = FxHashMap::default();
        let mut pending = std::mem::take(&mut self.pending);
        let all = std::mem::replace(&mut self.all_pending, false);
        if all {
            // Every route held is announced; `pending` adds only the withdraws.
            pending.retain(|p| !self.routes.contains_key(p));
        }
        let held = all
            .then(|| self.routes.keys().copied())
            .into_iter()
            .flatten();
        for prefix in held.chain(pending.drain()) {
            let family = prefix.family();
            if !families.contains(&family) {
                continue;
            }
            match self.routes.get(&prefix) {
                Some(e) => {
                    let key = (Arc::as_ptr(&e.attributes) as usize, e.next_hop, family);
                    groups
                        .entry(key)
                        .or_insert_with(|| AnnounceGroup {
                            family,
                            next_hop: e.next_hop,
                            attributes: Arc::clone(&e.attributes),
                            prefixes: Vec::new(),
                        })
                        .prefixes
                        .push(prefix);
                }
                None => withdraw.entry(family).or_default().push(prefix),
            }
        }
        // Drop interned sets no route uses any more (a set only the interner holds).
        // Drained: keep its allocation for the next changes.
        self.pending = pending;
        self.interned.prune();
        let mut announce: Vec<AnnounceGroup> = groups.into_values().collect();
        for g in &mut announce {
            g.prefixes.sort_unstable();
        }
        announce
            .sort_by(|a, b| (a.family, a.prefixes.first()).cmp(&(b.family, b.prefixes.first())));
        let mut withdraw: Vec<(Family, Vec<Prefix>)> = withdraw.into_iter().collect();
        for (_, p) in &mut withdraw {
            p.sort_unstable();
        }
        withdraw.sort_by_key(|(f, _)| *f);
        Delta { announce, withdraw }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::{AsPath, Origin};

    /// Adopting what the peer holds: only the changed and the new route are
    /// announced, only the vanished one withdrawn; an unchanged one is not sent.
    #[test]
    fn adopt_held_sends_only_the_difference() {
        let mut t = AdjRibOut::new();
        for r in [
            route("10.0.0.0/24", 1),
            route("10.0.1.0/24", 2),
            route("10.0.3.0/24", 4),
        ] {
            t.announce(&r);
        }
        let held: Vec<Prefix> = ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
        // The peer holds 10.0.0.0/24 with MED 1 and 10.0.1.0/24 with MED 9.
        t.adopt_held(held, |p, e| {
            *p == "10.0.0.0/24".parse::<Prefix>().unwrap() && e.attributes.med == Some(1)
        });
        let d = t.take_delta(&ALL);
        let announced: Vec<String> = d
            .announce
            .iter()
            .flat_map(|g| g.prefixes.iter().map(|p| p.to_string()))
            .collect();
        assert_eq!(announced, vec!["10.0.1.0/24", "10.0.3.0/24"]);
        assert_eq!(
            d.withdraw,
            vec![(Family::IPV4_UNICAST, vec!["10.0.2.0/24".parse().unwrap()])]
        );
        assert!(t.take_delta(&ALL).is_empty());
    }
    use std::net::IpAddr;

    fn attrs(med: u32) -> Arc<PathAttributes> {
        Arc::new(PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::sequence(vec![65001])),
            med: Some(med),
            ..Default::default()
        })
    }

    fn route(p: &str, med: u32) -> Route {
        Route {
            prefix: p.parse().unwrap(),
            next_hop: NextHop::Address("192.0.2.1".parse::<IpAddr>().unwrap()),
            attributes: attrs(med),
        }
    }

    const ALL: [Family; 2] = [Family::IPV4_UNICAST, Family::IPV6_UNICAST];

    /// The per-family counts follow announces (a replacement is not a second
    /// route), withdraws and clear.
    #[test]
    fn counts_per_family() {
        let mut rib = AdjRibOut::new();
        rib.announce(&route("10.0.0.0/24", 1));
        rib.announce(&route("10.0.0.0/24", 2));
        rib.announce(&route("10.0.1.0/24", 1));
        rib.announce(&route("2001:db8::/48", 1));
        assert_eq!(rib.count(Family::IPV4_UNICAST), 2);
        assert_eq!(rib.count(Family::IPV6_UNICAST), 1);
        assert!(!rib.withdraw(&"10.0.9.0/24".parse().unwrap()));
        assert!(rib.withdraw(&"10.0.0.0/24".parse().unwrap()));
        assert_eq!(rib.count(Family::IPV4_UNICAST), 1);
        rib.clear();
        assert_eq!(rib.count(Family::IPV4_UNICAST), 0);
        assert_eq!(rib.count(Family::IPV6_UNICAST), 0);
    }

    /// A new table and `resend_all` keep no copy of the prefixes as pending, yet
    /// announce every route once and still carry withdraws.
    #[test]
    fn whole_table_pending_without_a_copy() {
        let mut rib = AdjRibOut::with_capacity(5);
        for i in 0..5u8 {
            assert!(rib.announce(&route(&format!("10.0.{i}.0/24"), 1)));
        }
        assert!(rib.withdraw(&"10.0.4.0/24".parse().unwrap()));
        assert!(rib.announce(&route("10.0.3.0/24", 2)));
        assert_eq!(rib.pending_len(), 5);
        let d = rib.take_delta(&ALL);
        assert_eq!(d.counts(), (4, 1));
        assert_eq!(rib.pending_len(), 0);
        assert!(rib.take_delta(&ALL).is_empty());

        rib.resend_all();
        assert_eq!(rib.pending_len(), 4);
        assert!(rib.withdraw(&"10.0.0.0/24".parse().unwrap()));
        assert!(rib.withdraw(&"10.0.1.0/24".parse().unwrap()));
        assert!(rib.announce(&route("10.0.1.0/24", 3)));
        assert_eq!(rib.pending_len(), 4);
        let d = rib.take_delta(&ALL);
        assert_eq!(d.counts(), (3, 1), "{d:?}");
        assert_eq!(d.withdraw[0].1, vec!["10.0.0.0/24".parse().unwrap()]);

        assert!(rib.announce(&route("10.0.9.0/24", 1)));
        assert_eq!(rib.take_delta(&ALL).counts(), (1, 0));
        rib.clear();
        assert_eq!(rib.take_delta(&ALL).counts(), (0, 4));
    }

    #[test]
    fn identical_reannounce_sends_nothing() {
        let mut rib = AdjRibOut::new();
        assert!(rib.announce(&route("10.0.0.0/24", 1)));
        assert_eq!(rib.take_delta(&ALL).counts(), (1, 0));
        assert!(!rib.announce(&route("10.0.0.0/24", 1)));
        assert!(rib.take_delta(&ALL).is_empty());
        // A changed attribute is a replacement.
        assert!(rib.announce(&route("10.0.0.0/24", 2)));
        assert_eq!(rib.take_delta(&ALL).counts(), (1, 0));
    }

    #[test]
    fn equal_attributes_share_one_group_and_allocation() {
        let mut rib = AdjRibOut::new();
        for i in 0..10u8 {
            rib.announce(&route(&format!("10.0.{i}.0/24"), 7));
        }
        rib.announce(&route("10.1.0.0/24", 8));
        rib.announce(&route("2001:db8::/32", 7));
        let d = rib.take_delta(&ALL);
        assert_eq!(d.announce.len(), 3, "{d:?}");
        let v4: Vec<_> = d
            .announce
            .iter()
            .filter(|g| g.attributes.med == Some(7) && g.family == Family::IPV4_UNICAST)
            .collect();
        assert_eq!(v4.len(), 1);
        assert_eq!(v4[0].prefixes.len(), 10);
        let a = rib.get(&"10.0.0.0/24".parse().unwrap()).unwrap();
        let b = rib.get(&"10.0.9.0/24".parse().unwrap()).unwrap();
        assert!(Arc::ptr_eq(&a.attributes, &b.attributes));
    }

    #[test]
    fn withdraw_and_deltas() {
        let mut rib = AdjRibOut::new();
        rib.announce(&route("10.0.0.0/24", 1));
        rib.announce(&route("10.0.1.0/24", 1));
        rib.take_delta(&ALL);
        assert!(rib.withdraw(&"10.0.0.0/24".parse().unwrap()));
        assert!(
            !rib.withdraw(&"10.9.0.0/24".parse().unwrap()),
            "unknown prefix is a no-op"
        );
        let d = rib.take_delta(&ALL);
        assert_eq!(d.counts(), (0, 1));
        assert_eq!(d.withdraw[0].1, vec!["10.0.0.0/24".parse().unwrap()]);
        // Announce then withdraw before sending: the peer still gets a withdraw
        // (harmless), never the announce.
        rib.announce(&route("10.0.2.0/24", 1));
        rib.withdraw(&"10.0.2.0/24".parse().unwrap());
        assert_eq!(rib.take_delta(&ALL).counts(), (0, 1));
        assert_eq!(rib.len(), 1);
    }

    #[test]
    fn resend_all_and_clear() {
        let mut rib = AdjRibOut::new();
        rib.announce(&route("10.0.0.0/24", 1));
        rib.announce(&route("10.0.1.0/24", 2));
        rib.withdraw(&"10.0.1.0/24".parse().unwrap());
        rib.resend_all();
        assert_eq!(
            rib.take_delta(&ALL).counts(),
            (1, 0),
            "pending withdraws forgotten on resend"
        );
        rib.resend_all();
        assert_eq!(rib.take_delta(&ALL).counts(), (1, 0));
        rib.clear();
        assert!(rib.is_empty());
        assert_eq!(rib.take_delta(&ALL).counts(), (0, 1));
    }

    #[test]
    fn resend_held_keeps_a_pending_withdraw() {
        let mut rib = AdjRibOut::new();
        rib.announce(&route("10.0.0.0/24", 1));
        rib.announce(&route("10.0.1.0/24", 2));
        assert_eq!(rib.take_delta(&ALL).counts(), (2, 0));
        rib.withdraw(&"10.0.1.0/24".parse().unwrap());
        rib.resend_held();
        assert_eq!(
            rib.take_delta(&ALL).counts(),
            (1, 1),
            "flush after withdraw lost the withdraw"
        );
    }

    #[test]
    fn resend_family_marks_that_family_only() {
        let mut rib = AdjRibOut::new();
        rib.announce(&route("10.0.0.0/24", 1));
        rib.announce(&route("10.0.1.0/24", 1));
        rib.announce(&route("2001:db8::/48", 1));
        assert_eq!(rib.take_delta(&ALL).counts(), (3, 0));
        rib.resend_family(Family::IPV4_UNICAST);
        let d = rib.take_delta(&ALL);
        assert_eq!(d.counts(), (2, 0));
        assert!(d.announce.iter().all(|g| g.family == Family::IPV4_UNICAST));
        rib.resend_family(Family::IPV6_UNICAST);
        let d = rib.take_delta(&ALL);
        assert_eq!(d.counts(), (1, 0));
        assert_eq!(d.announce[0].family, Family::IPV6_UNICAST);
        // A pending withdraw of another family is still sent.
        rib.withdraw(&"2001:db8::/48".parse().unwrap());
        rib.resend_family(Family::IPV4_UNICAST);
        assert_eq!(rib.take_delta(&ALL).counts(), (2, 1));
    }

    #[test]
    fn families_filter() {
        let mut rib = AdjRibOut::new();
        rib.announce(&route("10.0.0.0/24", 1));
        rib.announce(&route("2001:db8::/32", 1));
        let d = rib.take_delta(&[Family::IPV4_UNICAST]);
        assert_eq!(d.counts(), (1, 0));
        assert_eq!(d.announce[0].family, Family::IPV4_UNICAST);
    }

    #[test]
    fn many_routes_share_attributes() {
        let mut rib = AdjRibOut::new();
        let a = attrs(5);
        for i in 0..100_000u32 {
            let addr = IpAddr::V4((0x0a00_0000 + (i << 8)).into());
            let prefix = Prefix::new(addr, 24).unwrap();
            rib.announce(&Route {
                prefix,
                next_hop: NextHop::SelfAddress,
                attributes: Arc::clone(&a),
            });
        }
        let d = rib.take_delta(&ALL);
        assert_eq!(d.announce.len(), 1);
        assert_eq!(d.announce[0].prefixes.len(), 100_000);
        assert_eq!(rib.pending_len(), 0);
    }
}
