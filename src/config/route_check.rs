//! The checks a `[[route]]` must pass, as pure functions over values.
//!
//! Both parsers call them: the full one (`route.rs`), which places each problem at
//! its position in the file, and the fast one (`fast.rs`), which only needs to know
//! whether there is one. So both accept exactly the same routes.

use std::net::IpAddr;
use std::ops::ControlFlow;

use super::values::{ip_version, parse_ip};
use crate::bgp::{Family, Prefix};
use crate::rib::hash::FxHashMap;
use crate::rib::NextHop;

/// What `next-hop` takes, for messages.
pub(crate) const NEXT_HOP_EXPECTED: &str = "\"self\" or an IP address as a string";

/// `next-hop`: "self", or a unicast address of the prefix's IP version (checked when
/// the prefix is known). Err: the message.
pub(crate) fn next_hop_of(s: &str, prefix: Option<Prefix>) -> Result<NextHop, String> {
    if s.eq_ignore_ascii_case("self") {
        return Ok(NextHop::SelfAddress);
    }
    let a = parse_ip("next-hop", s)
        .map_err(|_| format!("invalid next-hop \"{s}\", expected {NEXT_HOP_EXPECTED}"))?;
    if let Some(p) = prefix {
        if p.addr().is_ipv4() != a.is_ipv4() {
            return Err(format!(
                "next-hop {a} is {} but prefix {p} is {}, expected an {} address or \"self\"",
                ip_version(a),
                ip_version(p.addr()),
                ip_version(p.addr())
            ));
        }
    }
    if a.is_unspecified() || a.is_multicast() {
        return Err(format!(
            "next-hop {a} is not a usable address, expected a unicast address or \"self\""
        ));
    }
    Ok(NextHop::Address(a))
}

/// Why one entry of a route's `neighbors` was refused.
#[derive(Debug, PartialEq)]
pub(crate) enum ScopeProblem {
    /// Not an address: the message.
    Invalid(String),
    /// An address that is not among the configured neighbors.
    Unknown(IpAddr),
}

/// A route's `neighbors`: each entry parsed and looked up among the configured
/// neighbor addresses (`known`), repeats dropped. Returns the addresses found and
/// the problems, by entry index. (An empty list is refused by the callers: it would
/// mean "every neighbor" by accident.)
pub(crate) fn scope_of<'s>(
    entries: impl IntoIterator<Item = &'s str>,
    known: &[IpAddr],
) -> (Vec<IpAddr>, Vec<(usize, ScopeProblem)>) {
    let mut out: Vec<IpAddr> = Vec::new();
    let mut problems = Vec::new();
    for (i, s) in entries.into_iter().enumerate() {
        match parse_ip("neighbors", s) {
            Ok(a) if known.contains(&a) => {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
            Ok(a) => problems.push((i, ScopeProblem::Unknown(a))),
            Err(m) => problems.push((i, ScopeProblem::Invalid(m))),
        }
    }
    (out, problems)
}

/// Why a route's family reaches no neighbor.
#[derive(Debug, PartialEq)]
pub(crate) enum FamilyProblem {
    /// Some neighbors are targeted, none negotiates the family.
    NotNegotiated,
    /// No neighbor is targeted at all.
    NoNeighbor,
}

/// The route's family must be negotiated by at least one neighbor it goes to.
/// `neighbors`: each configured neighbor's address and families, None where that
/// part was invalid (and reported already: then no problem is raised here, to
/// avoid a cascade). `scope`: the route's `neighbors`, None for every neighbor.
pub(crate) fn family_problem<'n>(
    p: Prefix,
    scope: Option<&[IpAddr]>,
    neighbors: impl IntoIterator<Item = (Option<IpAddr>, Option<&'n [Family]>)>,
) -> Option<FamilyProblem> {
    let fam = p.family();
    let mut targeted = false;
    for (address, families) in neighbors {
        let goes = match (scope, address) {
            (None, _) => true,
            (Some(list), Some(a)) => list.contains(&a),
            (Some(_), None) => false,
        };
        if !goes {
            continue;
        }
        match families {
            None => return None,
            Some(f) if f.contains(&fam) => return None,
            Some(_) => targeted = true,
        }
    }
    Some(if targeted {
        FamilyProblem::NotNegotiated
    } else {
        FamilyProblem::NoNeighbor
    })
}

/// Without ADD-PATH a neighbor holds one route per prefix: the same prefix twice for
/// overlapping neighbors is a mistake. `route(i)` gives route i's prefix and scope
/// (empty: every neighbor), or None to leave route i out (it was invalid). For each
/// route that repeats an earlier one, `found(i, first)` gets its index and the index
/// of the first earlier route it collides with, in increasing `i`; it may stop the
/// search. Err when there are more routes than the index type holds.
pub(crate) fn duplicate_routes<'r>(
    count: usize,
    route: impl Fn(usize) -> Option<(Prefix, &'r [IpAddr])>,
    mut found: impl FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<(), TooManyRoutes> {
    // Generated tables are usually in increasing order: then no prefix repeats, and
    // no map is needed (at 1M routes it would take 50 MB).
    let mut before: Option<Prefix> = None;
    let increasing = (0..count).filter_map(&route).all(|(p, _)| {
        let ok = before.map_or(true, |b| b < p);
        before = Some(p);
        ok
    });
    if increasing {
        return Ok(());
    }
    // Last route index by prefix, and for each route the previous one with its prefix
    // (allocated at the first repeat).
    let mut last: FxHashMap<Prefix, u32> = FxHashMap::default();
    last.reserve(count);
    let mut previous: Vec<u32> = Vec::new();
    for i in 0..count {
        let Some((p, scope)) = route(i) else {
            continue;
        };
        let index = u32::try_from(i)
            .ok()
            .filter(|n| *n != u32::MAX)
            .ok_or(TooManyRoutes)?;
        let Some(mut j) = last.insert(p, index) else {
            continue;
        };
        if previous.is_empty() {
            previous = vec![u32::MAX; count];
        }
        previous[i] = j;
        // Walk back through the earlier routes of this prefix; the last overlap met
        // is the first in the file.
        let mut first = None;
        loop {
            if let Some((_, other)) = route(j as usize) {
                let overlap =
                    scope.is_empty() || other.is_empty() || scope.iter().any(|x| other.contains(x));
                if overlap {
                    first = Some(j as usize);
                }
            }
            j = previous[j as usize];
            if j == u32::MAX {
                break;
            }
        }
        if let Some(first) = first {
            if found(i, first).is_break() {
                break;
            }
        }
    }
    Ok(())
}

/// More routes than [`duplicate_routes`] can index (4 294 967 295).
#[derive(Debug, PartialEq)]
pub(crate) struct TooManyRoutes;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        s.parse().unwrap()
    }

    #[test]
    fn duplicates_name_the_first_earlier_overlap() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let (sa, sb, all) = ([a], [b], []);
        let routes: Vec<Option<(Prefix, &[IpAddr])>> = vec![
            Some((p("10.0.0.0/8"), &sa)),
            Some((p("10.0.0.0/8"), &sb)),
            None,
            Some((p("10.0.0.0/8"), &all)),
            Some((p("10.1.0.0/16"), &all)),
            Some((p("10.0.0.0/8"), &sb)),
        ];
        let mut seen = Vec::new();
        let r = duplicate_routes(
            routes.len(),
            |i| routes[i],
            |i, first| {
                seen.push((i, first));
                ControlFlow::Continue(())
            },
        );
        assert_eq!(r, Ok(()));
        assert_eq!(seen, vec![(3, 0), (5, 1)]);
    }

    #[test]
    fn family_needs_a_neighbor_that_negotiates_it() {
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let v4 = [Family::IPV4_UNICAST];
        let v6 = [Family::IPV6_UNICAST];
        let route = p("10.0.0.0/8");
        assert_eq!(
            family_problem(route, None, [(Some(a), Some(&v4[..]))]),
            None
        );
        assert_eq!(
            family_problem(route, None, [(Some(a), Some(&v6[..]))]),
            Some(FamilyProblem::NotNegotiated)
        );
        assert_eq!(
            family_problem(route, Some(&[]), [(Some(a), Some(&v4[..]))]),
            Some(FamilyProblem::NoNeighbor)
        );
        assert_eq!(family_problem(route, None, [(Some(a), None)]), None);
    }
}
