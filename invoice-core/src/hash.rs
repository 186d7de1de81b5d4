//! A fast hash for the engine's own keys (invoice ids, invoice numbers).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map with [`QuickHasher`].
pub type QuickMap<K, V> = HashMap<K, V, BuildHasherDefault<QuickHasher>>;
