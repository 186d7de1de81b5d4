//! A fast hash for the engine's own keys (invoice ids, invoice numbers).

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};

/// The FxHash step (rotate, xor a word, multiply) instead of SipHash: several times cheaper
/// for short keys. The keys it is used for come from the book or the user's own file, not
/// from an adversary who could flood a table.
///
/// ```
/// use invoice_core::hash::QuickMap;
/// let mut seen: QuickMap<&str, usize> = QuickMap::default();
/// seen.insert("INV-1", 1);
/// assert_eq!(seen.get("INV-1"), Some(&1));
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct QuickHasher(u64);

impl QuickHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for QuickHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in words.by_ref() {
            self.add(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        let tail = words.remainder();
        if !tail.is_empty() {
            let word = tail.iter().rev().fold(0u64, |w, &b| (w << 8) | u64::from(b));
            self.add(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn finish(&self) -> u64 {
        // The multiply of `add` leaves a bit of the product depending only on the bits of
        // the input at and below it, and hash tables take their bucket from the low bits:
        // keys that differ only in their last bytes (`INV-2024-000001`, `…002`) would share
        // buckets. Folding the full 128-bit product spreads every input bit over the result.
        let wide = u128::from(self.0) * 0x9e37_79b9_7f4a_7c15;
        (wide as u64) ^ ((wide >> 64) as u64)
    }
}

/// A hash map with [`QuickHasher`].
pub type QuickMap<K, V> = HashMap<K, V, BuildHasherDefault<QuickHasher>>;

/// `key`'s hash with [`QuickHasher`], for a [`HashedMap`]: made where the key is at hand
/// (a worker thread that has just read it), looked up elsewhere without the key.
///
/// ```
/// use invoice_core::hash::{quick_hash, HashedMap};
/// let mut seen: HashedMap<usize> = HashedMap::default();
/// seen.insert(quick_hash("INV-1"), 1);
/// assert_eq!(seen.get(&quick_hash("INV-1")), Some(&1));
/// assert_eq!(seen.get(&quick_hash("INV-2")), None);
/// ```
pub fn quick_hash<K: Hash + ?Sized>(key: &K) -> u64 {
    BuildHasherDefault::<QuickHasher>::default().hash_one(key)
}

/// The hasher of a [`HashedMap`]: a `u64` key is already a hash and is taken as it is (other
/// keys are hashed with [`QuickHasher`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct PassHasher(QuickHasher);

impl Hasher for PassHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 .0 = n;
    }

    fn finish(&self) -> u64 {
        self.0 .0
    }
}

/// A hash map keyed by hashes made with [`quick_hash`]. Two keys may share a hash: the
/// caller keeps what tells them apart.
pub type HashedMap<V> = HashMap<u64, V, BuildHasherDefault<PassHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys that differ only in their last bytes (sequential invoice numbers) spread over a
    /// table's buckets, which hash tables take from the low bits of the hash.
    #[test]
    fn sequential_numbers_spread_over_the_low_bits() {
        let buckets = 1 << 12;
        let mut used = vec![false; buckets];
        for i in 0..buckets {
            let h = quick_hash(format!("INV-2024-{i:06}").as_str());
            used[(h as usize) & (buckets - 1)] = true;
        }
        let filled = used.iter().filter(|&&u| u).count();
        // a uniform hash fills about 1 - 1/e of them (63 %)
        assert!(filled > buckets * 55 / 100, "{filled} of {buckets} buckets");
    }

    #[test]
    fn every_byte_of_the_tail_counts() {
        let mut seen = std::collections::HashSet::new();
        for len in 0..20 {
            for at in 0..len {
                let mut key = vec![b'a'; len];
                key[at] = b'b';
                assert!(seen.insert(quick_hash(&key[..])), "{len} {at}");
            }
            assert!(seen.insert(quick_hash(&vec![b'a'; len][..])));
        }
    }
}
