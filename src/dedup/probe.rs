//! Which pinned items (records earlier runs kept) can take part in tonight's decisions:
//! those with the exact hash of a new item, or sharing an LSH band with one. The search
//! then runs over those and the new items only, so a night costs one pass of hash lookups
//! over the index instead of band tables over all of it. A pinned item outside this set
//! has no candidate pair with a new item (pairs of two pinned items are never compared),
//! so leaving it out changes no decision: every bucket that holds a new item holds the
//! same items either way.

use rayon::prelude::*;

use crate::dedup::source::{self, ItemSource};
use crate::dedup::DedupRules;
use crate::prehashed::HashedSet;

/// Spreads a band number and band key over 64 bits (the set keys are used as hashes).
#[inline]
fn mix(band: usize, key: u32) -> u64 {
    (((band as u64) << 32) | u64::from(key)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A set of band keys with a bitmap in front: one bit per hash slot, ~32 slots per key, so
/// most lookups of keys that are absent (nearly all of them) stop at one L2-resident bit.
struct BandSet {
    bits: Vec<u64>,
    shift: u32,
    keys: HashedSet<u64>,
}

impl BandSet {
    fn new(keys: HashedSet<u64>) -> BandSet {
        let slots = (keys.len().max(1) * 32)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 30);
        let mut bits = vec![0u64; slots / 64];
        let shift = 64 - slots.trailing_zeros();
        for &k in &keys {
            let s = (k >> shift) as usize;
            bits[s / 64] |= 1 << (s % 64);
        }
        BandSet { bits, shift, keys }
    }

    #[inline]
    fn contains(&self, k: u64) -> bool {
        let s = (k >> self.shift) as usize;
        self.bits[s / 64] & (1 << (s % 64)) != 0 && self.keys.contains(&k)
    }
}

/// The indices of the items to search, when some are pinned (`None`: none is, every item
/// is searched): every item that is not pinned, and the pinned ones that can meet one.
/// With the `simhash` generator every pinned item is kept (its block-permutation index
/// has no cheap probe).
pub fn relevant<'s, S>(items: &S, cfg: &DedupRules) -> Option<Vec<u32>>
where
    S: ItemSource<'s> + ?Sized,
{
    // One pass: each item's exact hash, whether it is long enough for the bands, pinned.
    let mut heads: Vec<(u64, bool, bool)> = Vec::with_capacity(items.len());
    source::each(items, 0..items.len() as u32, |_, it| {
        let near = it.fp.chars as usize >= cfg.min_chars_near;
        heads.push((it.fp.exact[0], near, it.pinned));
    });
    if !heads.iter().any(|h| h.2) {
        return None;
    }
    let every = || (0..items.len() as u32).collect();
    if cfg.simhash {
        return Some(every());
    }
    let fresh = || (0..items.len() as u32).filter(|&i| !heads[i as usize].2);
    let exact: HashedSet<u64> = fresh().map(|i| heads[i as usize].0).collect();
    let bands = BandSet::new(match cfg.lsh {
        Some(b) => fresh()
            .filter(|&i| heads[i as usize].1)
            .flat_map(|i| {
                let sig = items.sig(i);
                (0..b.bands).map(move |k| mix(k, sig.band_key(k, b.rows)))
            })
            .collect(),
        None => HashedSet::default(),
    });
    let meets = |i: u32| {
        let (hash, near, _) = heads[i as usize];
        if exact.contains(&hash) {
            return true;
        }
        match cfg.lsh {
            Some(b) if near => {
                let sig = items.sig(i);
                (0..b.bands).any(|k| bands.contains(mix(k, sig.band_key(k, b.rows))))
            }
            _ => false,
        }
    };
    Some(
        (0..items.len() as u32)
            .into_par_iter()
            .filter(|&i| !heads[i as usize].2 || meets(i))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::fingerprint::fingerprint;
    use crate::dedup::Item;

    #[test]
    fn keeps_new_items_and_the_pinned_ones_they_can_meet() {
        let rules = DedupRules::default();
        let base = "职工医保个人账户的钱可以用于支付本人在定点医疗机构发生的门诊费用和住院费用中个人负担的部分，也可以在定点零售药店购药";
        let near = base.replace("门诊费用", "门诊检查费用");
        let other = "生育津贴由单位向社保经办机构申请，材料包括出生医学证明和住院病历等，审核通过后发放到单位账户";
        let texts = [
            base,
            other,
            &near,
            "完全无关的一段话，讲的是如何办理居住证和积分落户的流程",
        ];
        let fps: Vec<_> = texts.iter().map(|t| fingerprint(t, &rules)).collect();
        let items: Vec<Item> = crate::dedup::types::items_of(&fps, |i| i != 2);
        // Item 2 is new; pinned 0 is its near copy; pinned 1 and 3 meet nothing.
        assert_eq!(relevant(&items[..], &rules), Some(vec![0, 2]));
        let fresh = crate::dedup::types::items_of(&fps, |_| false);
        assert_eq!(relevant(&fresh[..], &rules), None);
    }
}
