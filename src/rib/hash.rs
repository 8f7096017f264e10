//! A fast, unkeyed hasher for maps whose keys come from the operator (the
//! configuration, the Adj-RIB-Out): prefixes and attribute sets.
//!
//! Multiply-rotate over machine words, in the manner of the Fx hash used by rustc:
//! a few cycles per key against SipHash's tens. It is not resistant to chosen keys,
//! so maps keyed by what a peer sends (the Adj-RIB-In) keep `std`'s keyed hasher.

use std::hash::{BuildHasherDefault, Hasher};

/// Odd constant with well-mixed bits (from the golden ratio).
const K: u64 = 0x517c_c1b7_2722_0a95;

/// The hasher; see the module documentation.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher {
    state: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut w = [0u8; 8];
            w[..tail.len()].copy_from_slice(tail);
            self.add(u64::from_le_bytes(w) ^ ((tail.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    /// The multiply leaves the low bits depending on the low bits of the last words
    /// only, and hash maps pick buckets by the low bits: fold the high half in and mix
    /// again, or keys that differ in their high bytes (10.0.x.y as a little-endian
    /// word) would crowd a few buckets.
    #[inline]
    fn finish(&self) -> u64 {
        let x = self.state;
        let x = (x ^ (x >> 32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        x ^ (x >> 29)
    }
}

/// `HashMap<K, V, FxBuild>` / `HashSet<K, FxBuild>`.
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;

/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<K> = std::collections::HashSet<K, FxBuild>;

#[cfg(test)]
mod tests {
    use super::{FxBuild, FxHashMap};
    use crate::bgp::Prefix;
    use std::hash::BuildHasher;

    /// Sequential /32 prefixes spread over the low bits (bucket index) of the hash.
    #[test]
    fn low_bits_spread() {
        let build = FxBuild::default();
        let mut seen = std::collections::HashSet::new();
        for i in 0..65_536u32 {
            let a = std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8) + 7);
            let Some(p) = Prefix::new(a.into(), 32) else {
                panic!("valid prefix")
            };
            seen.insert(build.hash_one(p) & 0xffff);
        }
        // A uniform hash fills about 63 % of 65536 slots with 65536 keys.
        assert!(seen.len() > 35_000, "{} distinct", seen.len());
    }

    #[test]
    fn map_of_many_prefixes() {
        let mut m: FxHashMap<Prefix, u32> = FxHashMap::default();
        for i in 0..70_000u32 {
            let p = Prefix::new(std::net::Ipv4Addr::from(0x0a00_0000 + i).into(), 32);
            let Some(p) = p else { panic!("valid prefix") };
            m.insert(p, i);
        }
        assert_eq!(m.len(), 70_000);
        let p = Prefix::new(std::net::Ipv4Addr::from(0x0a00_0000 + 12_345).into(), 32);
        assert_eq!(p.and_then(|p| m.get(&p).copied()), Some(12_345));
    }
}
