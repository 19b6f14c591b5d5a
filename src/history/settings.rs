//! The settings an index depends on: every `[dedup]` key that changes what is stored
//! (normalization, shingle sizes, fingerprints) or what a match means (thresholds, the
//! candidate search), plus the version of the fingerprint algorithms. A run against an
//! index made under other settings would silently give wrong answers, so it stops and
//! names the keys that differ.
//!
//! Left out: `dedup.keep` (which record of a new cluster is kept: earlier records are kept
//! whatever it says) and the bucket limits `max_bucket` and `bucket_leaders` (how much
//! work a dense bucket gets, not what a match is).

use serde_json::{Map, Value};
use xxhash_rust::xxh3::xxh3_64;

use crate::config::DedupConfig;

/// Bumped whenever the code computing normalized texts, simhashes, MinHash signatures or
/// exact hashes changes the values an index holds for the same settings.
pub const ALGORITHM: u64 = 1;

/// Keys of `[dedup]` that do not change what an index holds or what a match means.
const NOT_HASHED: [&str; 3] = ["keep", "max_bucket", "bucket_leaders"];

/// The settings an index is valid for, as a flat map `dedup.key` → value (nested tables
/// flattened: `dedup.normalize.nfkc`), plus `algorithm`.
pub fn of(dedup: &DedupConfig) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("algorithm".into(), Value::from(ALGORITHM));
    let v = serde_json::to_value(dedup).expect("the dedup config serializes");
    flatten("dedup", &v, &mut out);
    for k in NOT_HASHED {
        out.remove(&format!("dedup.{k}"));
    }
    out
}

fn flatten(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// The hash written in an index header: xxh3-64 of the settings as compact JSON (keys in
/// sorted order).
pub fn hash(settings: &Map<String, Value>) -> u64 {
    let sorted: std::collections::BTreeMap<&String, &Value> = settings.iter().collect();
    xxh3_64(&serde_json::to_vec(&sorted).expect("settings serialize"))
}

/// Each key whose value differs, as `key: index V, this run W` (a key missing on one side
/// shows as `absent`).
pub fn differences(index: &Map<String, Value>, now: &Map<String, Value>) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = index.keys().chain(now.keys()).collect();
    let show = |v: Option<&Value>| v.map_or("absent".to_string(), Value::to_string);
    keys.into_iter()
        .filter(|k| index.get(*k) != now.get(*k))
        .map(|k| {
            format!(
                "{k}: index {}, this run {}",
                show(index.get(k)),
                show(now.get(k))
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_and_bucket_limits_do_not_change_the_hash() {
        let base = DedupConfig::default();
        let other = DedupConfig {
            keep: crate::config::KeepPolicy::First,
            max_bucket: 99,
            bucket_leaders: 9,
            ..DedupConfig::default()
        };
        assert_eq!(hash(&of(&base)), hash(&of(&other)));
        let s = of(&base);
        assert!(s.contains_key("dedup.normalize.nfkc"), "{s:?}");
        assert!(s.contains_key("dedup.shingle_chars"));
    }

    #[test]
    fn differences_name_each_key() {
        let a = of(&DedupConfig::default());
        let b = of(&DedupConfig {
            shingle_chars: 5,
            min_similarity: 0.7,
            ..DedupConfig::default()
        });
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(
            differences(&a, &b),
            [
                "dedup.min_similarity: index 0.5, this run 0.7",
                "dedup.shingle_chars: index 4, this run 5"
            ]
        );
    }
}
