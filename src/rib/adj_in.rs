//! Adj-RIB-In of one neighbor: what the peer announced and has not withdrawn.
//!
//! Filled from received UPDATEs (classic NLRI and MP_REACH/MP_UNREACH), emptied when
//! the session goes down. The attributes of one UPDATE are stored once, behind an
//! `Arc`, without NEXT_HOP and MP_* (the next hop is kept per prefix).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::bgp::{PathAttributes, Prefix, Update};

/// What we hold for one received prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InEntry {
    pub next_hop: Option<IpAddr>,
    pub attributes: Arc<PathAttributes>,
}

/// What one UPDATE changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InChange {
    pub announced: usize,
    pub withdrawn: usize,
}

/// The Adj-RIB-In of one neighbor.
#[derive(Debug, Default)]
pub struct AdjRibIn {
    routes: HashMap<Prefix, InEntry>,
}

impl AdjRibIn {
    pub fn new() -> AdjRibIn {
        AdjRibIn::default()
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    pub fn clear(&mut self) {
        self.routes.clear();
    }

    pub fn get(&self, prefix: &Prefix) -> Option<&InEntry> {
        self.routes.get(prefix)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Prefix, &InEntry)> {
        self.routes.iter()
    }

    /// Applies a received UPDATE: withdrawals first, then announcements. A
    /// treat-as-withdraw UPDATE (RFC 7606) arrives with its prefixes already moved to
    /// the withdrawn lists by the decoder, so it only removes.
    pub fn apply(&mut self, update: &Update) -> InChange {
        let mut change = InChange::default();
        let a = &update.attributes;
        let mp_withdrawn = a.mp_unreach.iter().flat_map(|u| u.withdrawn.iter());
        for p in update.withdrawn.iter().chain(mp_withdrawn) {
            if self.routes.remove(p).is_some() {
                change.withdrawn += 1;
            }
        }
        if update.treat_as_withdraw.is_some() {
            return change;
        }
        let has_v4 = !update.nlri.is_empty();
        let has_mp = a.mp_reach.as_ref().is_some_and(|r| !r.nlri.is_empty());
        if !has_v4 && !has_mp {
            return change;
        }
        let stored = Arc::new(PathAttributes {
            next_hop: None,
            mp_reach: None,
            mp_unreach: None,
            ..a.clone()
        });
        let v4_next_hop = a.next_hop.map(IpAddr::V4);
        for p in &update.nlri {
            self.routes.insert(
                *p,
                InEntry {
                    next_hop: v4_next_hop,
                    attributes: Arc::clone(&stored),
                },
            );
            change.announced += 1;
        }
        if let Some(r) = &a.mp_reach {
            let nh = r.next_hops.first().copied();
            for p in &r.nlri {
                self.routes.insert(
                    *p,
                    InEntry {
                        next_hop: nh,
                        attributes: Arc::clone(&stored),
                    },
                );
                change.announced += 1;
            }
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::{Family, MpReach, MpUnreach, Origin};

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
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
}
