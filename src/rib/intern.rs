//! Attribute-set interning: equal [`PathAttributes`] held once, behind one `Arc`.
//!
//! The one home of the interner for everything that stores attribute sets: the
//! configuration's routes, each neighbor's Adj-RIB-Out (where pointer equality then
//! groups routes into UPDATEs) and Adj-RIB-In (where memory then follows the
//! distinct attribute sets a peer sends, not its messages).
//!
//! The hasher is a parameter: sets written by the operator use the fast unkeyed
//! [`FxBuild`]; sets a peer sends use `std`'s keyed `RandomState`, so a peer cannot
//! choose attributes that all fall in one bucket (see `hash.rs`).

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Arc;

use crate::bgp::PathAttributes;

use super::hash::FxBuild;

/// Attribute sets seen so far; see the module documentation.
#[derive(Debug, Default)]
pub struct Interner<S = FxBuild> {
    set: HashSet<Arc<PathAttributes>, S>,
    /// The set interned last: runs of routes sharing one set (a configuration, the
    /// prefixes of one UPDATE) are interned by a comparison, without hashing.
    last: Option<Arc<PathAttributes>>,
}

impl<S: BuildHasher + Default> Interner<S> {
    pub fn new() -> Interner<S> {
        Interner {
            set: HashSet::default(),
            last: None,
        }
    }

    /// The shared `Arc` for a set given by value.
    pub fn intern(&mut self, attrs: PathAttributes) -> Arc<PathAttributes> {
        if let Some(last) = &self.last {
            if **last == attrs {
                return Arc::clone(last);
            }
        }
        let shared = match self.set.get(&attrs) {
            Some(a) => Arc::clone(a),
            None => {
                let a = Arc::new(attrs);
                self.set.insert(Arc::clone(&a));
                a
            }
        };
        self.last = Some(Arc::clone(&shared));
        shared
    }

    /// The shared `Arc` for a set already behind one (`attrs` itself when it is the
    /// first of its value).
    pub fn share(&mut self, attrs: &Arc<PathAttributes>) -> Arc<PathAttributes> {
        if let Some(last) = &self.last {
            if Arc::ptr_eq(last, attrs) || **last == **attrs {
                return Arc::clone(last);
            }
        }
        let shared = match self.set.get(&**attrs) {
            Some(a) => Arc::clone(a),
            None => {
                self.set.insert(Arc::clone(attrs));
                Arc::clone(attrs)
            }
        };
        self.last = Some(Arc::clone(&shared));
        shared
    }

    /// Number of distinct sets held (including sets nobody else uses any more,
    /// until [`Interner::prune`]).
    /// Estimated bytes held (for the metrics): the table's slots and one shared
    /// attribute set per entry, not the heap parts of the values inside a set.
    pub fn approx_bytes(&self) -> usize {
        super::approx_table_bytes::<Arc<PathAttributes>>(self.set.capacity())
            + self.set.len()
                * (std::mem::size_of::<PathAttributes>() + 2 * std::mem::size_of::<usize>())
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Forgets every set.
    pub fn clear(&mut self) {
        self.set.clear();
        self.last = None;
    }

    /// Drops the sets only the interner still holds (no route uses them).
    pub fn prune(&mut self) {
        self.last = None;
        self.set.retain(|a| Arc::strong_count(a) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgp::Origin;
    use std::collections::hash_map::RandomState;

    fn attrs(med: u32) -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            med: Some(med),
            ..Default::default()
        }
    }

    #[test]
    fn equal_sets_share_one_arc_and_prune_drops_unused() {
        let mut i: Interner<RandomState> = Interner::new();
        let a = i.intern(attrs(1));
        let b = i.intern(attrs(2));
        let a2 = i.intern(attrs(1));
        assert!(Arc::ptr_eq(&a, &a2));
        let other = Arc::new(attrs(2));
        assert!(Arc::ptr_eq(&i.share(&other), &b));
        assert_eq!(i.len(), 2);
        drop(b);
        i.prune();
        assert_eq!(i.len(), 1, "the unused set is gone");
        assert!(Arc::ptr_eq(&i.intern(attrs(1)), &a));
        i.clear();
        assert!(i.is_empty());
    }
}
