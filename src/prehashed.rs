//! Maps whose keys are already xxh3 hashes (snippet keys, line hashes, title keys) need no
//! second hash: [`Prehashed`] uses the key's own bits, which are uniform.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that are hashes already (`u64`, `u128`).
#[derive(Default)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only the integer writes below are expected; fold anything else in.
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }

    fn write_u128(&mut self, n: u128) {
        self.0 ^= n as u64 ^ (n >> 64) as u64;
    }
}

/// A map keyed by hashes.
pub type HashedMap<K, V> = HashMap<K, V, BuildHasherDefault<Prehashed>>;

/// A set of hashes.
pub type HashedSet<K> = HashSet<K, BuildHasherDefault<Prehashed>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_work_with_hash_keys() {
        let mut m: HashedMap<u128, u32> = HashedMap::default();
        for i in 0..1000u128 {
            m.insert(xxhash_rust::xxh3::xxh3_128(&i.to_le_bytes()), i as u32);
        }
        assert_eq!(m.len(), 1000);
        let k = xxhash_rust::xxh3::xxh3_128(&7u128.to_le_bytes());
        assert_eq!(m[&k], 7);
    }
}
