//! Scoring duplicate decisions against the labels `pagesieve synth` plants.
//!
//! * **Recall per tier**: the share of planted copies (`exact`, `near_a`, `near_b`) that end
//!   in the same cluster as the page they were made from.
//! * **Precision**: the share of drop decisions (dropped page → kept page) whose two pages
//!   carry the same label group.
//! * **Hard negatives merged**: `negative` pages that end in their base page's cluster
//!   (must be zero).

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use pagesieve::synth::{Label, LABELS_FILE};

/// Recall on one tier.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TierScore {
    /// `exact`, `near_a` or `near_b`.
    pub tier: String,
    /// Planted copies whose page and base both became articles.
    pub pairs: usize,
    /// Of those, found in the same cluster.
    pub found: usize,
    /// found / pairs.
    pub recall: f64,
}

/// The whole score.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Quality {
    /// Per tier.
    pub tiers: Vec<TierScore>,
    /// Drop decisions made.
    pub decisions: usize,
    /// Of those, correct.
    pub correct: usize,
    /// correct / decisions (1.0 when there are none).
    pub precision: f64,
    /// Recall over every planted copy.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Hard negatives merged with their base (must be 0).
    pub negatives_merged: usize,
    /// Hard negatives scored.
    pub negatives: usize,
}

/// Reads `.labels.jsonl` from a synth folder.
pub fn read_labels(input: &Path) -> std::io::Result<Vec<Label>> {
    std::fs::read_to_string(input.join(LABELS_FILE))?
        .lines()
        .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
        .collect()
}

/// Scores from `source → cluster` (a kept page's cluster is its own source).
pub fn score(labels: &[Label], cluster_of: &HashMap<String, String>) -> Quality {
    let group: HashMap<&str, u64> = labels
        .iter()
        .map(|l| (l.source.as_str(), l.group))
        .collect();
    let mut tiers: Vec<TierScore> = ["exact", "near_a", "near_b"]
        .iter()
        .map(|t| TierScore {
            tier: t.to_string(),
            pairs: 0,
            found: 0,
            recall: 1.0,
        })
        .collect();
    let (mut negatives, mut negatives_merged) = (0, 0);
    for l in labels {
        let Some(base) = &l.base else { continue };
        let (Some(a), Some(b)) = (cluster_of.get(&l.source), cluster_of.get(base)) else {
            continue;
        };
        if l.role == "negative" {
            negatives += 1;
            negatives_merged += usize::from(a == b);
        } else if let Some(t) = tiers.iter_mut().find(|t| t.tier == l.role) {
            t.pairs += 1;
            t.found += usize::from(a == b);
        }
    }
    for t in &mut tiers {
        if t.pairs > 0 {
            t.recall = t.found as f64 / t.pairs as f64;
        }
    }
    let (mut decisions, mut correct) = (0, 0);
    for (src, kept) in cluster_of {
        if src != kept {
            decisions += 1;
            correct += usize::from(group.get(src.as_str()) == group.get(kept.as_str()));
        }
    }
    let precision = if decisions == 0 {
        1.0
    } else {
        correct as f64 / decisions as f64
    };
    let (found, pairs) = tiers
        .iter()
        .fold((0, 0), |a, t| (a.0 + t.found, a.1 + t.pairs));
    let recall = if pairs == 0 {
        1.0
    } else {
        found as f64 / pairs as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Quality {
        tiers,
        decisions,
        correct,
        precision,
        recall,
        f1,
        negatives_merged,
        negatives,
    }
}

/// `source → cluster` from a pagesieve output folder (articles only): a kept article's
/// cluster is its own source, a dropped one's the source of the article it duplicates.
pub fn clusters_from_output(out: &Path) -> std::io::Result<HashMap<String, String>> {
    let read = |name: &str| -> std::io::Result<Vec<serde_json::Value>> {
        std::fs::read_to_string(out.join(name))?
            .lines()
            .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
            .collect()
    };
    let mut id_to_source: HashMap<String, String> = HashMap::new();
    let mut cluster_of = HashMap::new();
    for a in read("articles.jsonl")? {
        let (id, src) = (a["id"].as_str(), a["source"].as_str());
        if let (Some(id), Some(src)) = (id, src) {
            id_to_source.insert(id.to_string(), src.to_string());
            cluster_of.insert(src.to_string(), src.to_string());
        }
    }
    for d in read("dropped.jsonl")? {
        if d["kind"] != "article" {
            continue;
        }
        if let (Some(src), Some(kept)) = (d["source"].as_str(), d["duplicate_of"].as_str()) {
            if let Some(kept_src) = id_to_source.get(kept) {
                cluster_of.insert(src.to_string(), kept_src.clone());
            }
        }
    }
    Ok(cluster_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(source: &str, group: u64, role: &str, base: Option<&str>) -> Label {
        Label {
            source: source.into(),
            group,
            role: role.into(),
            base: base.map(str::to_string),
        }
    }

    #[test]
    fn scores_recall_precision_and_negatives() {
        let labels = vec![
            label("a", 1, "original", None),
            label("a2", 1, "near_a", Some("a")),
            label("a3", 1, "near_b", Some("a")),
            label("b", 2, "original", None),
            label("n", 3, "negative", Some("b")),
        ];
        let cluster_of: HashMap<String, String> = [
            ("a", "a"),
            ("a2", "a"),
            ("a3", "a3"),
            ("b", "b"),
            ("n", "b"),
        ]
        .iter()
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
        let q = score(&labels, &cluster_of);
        assert_eq!(q.tiers[1].found, 1);
        assert_eq!(q.tiers[2].found, 0);
        assert_eq!((q.decisions, q.correct), (2, 1));
        assert_eq!(q.negatives_merged, 1);
        assert_eq!(q.recall, 0.5);
    }
}
