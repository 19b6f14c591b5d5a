//! The plain data the duplicate search's stages hand each other: the items searched, the
//! candidate pairs' proposers, the decisions and the search's counters.

use serde::{Serialize, Serializer};

use crate::dedup::buckets::TableStats;
use crate::dedup::fingerprint::MAX_FINGERPRINTS;
use crate::dedup::keep::KeptBy;
use crate::dedup::minhash::Signature;
use crate::dedup::Fingerprint;

/// One text to deduplicate, as the search reads it from an [`ItemSource`]: the search
/// holds items only for the texts a stage is working on (the members of the candidate
/// components, an exact group), not for every text.
///
/// [`ItemSource`]: crate::dedup::source::ItemSource
#[derive(Debug, Clone)]
pub struct Item<'a> {
    /// Its fingerprint.
    pub fp: Fingerprint,
    /// Its MinHash signature (borrowed too: a page's is in the run's signature column).
    pub sig: &'a Signature,
    /// Replacement characters its decoding produced (the keep policy prefers fewer).
    pub replacements: u32,
    /// Its position in input order (ties in preference go to the smaller).
    pub order: u32,
    /// Kept by an earlier run (`run --against`): never dropped, preferred over every item
    /// that is not pinned, and never compared with another pinned item (their pairs were
    /// decided by the runs that kept them).
    pub pinned: bool,
}

/// Exact or near.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Same normalized text.
    Exact,
    /// Verified near duplicate.
    Near,
}

impl MatchKind {
    /// `exact` or `near`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Near => "near",
        }
    }
}

/// What proposed a pair for verification: generators, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Proposers(u8);

impl Proposers {
    /// Equal normalized texts.
    pub const EXACT: Proposers = Proposers(1);
    /// MinHash LSH bands.
    pub const LSH: Proposers = Proposers(2);
    /// Simhash fingerprints within `max_hamming`.
    pub const SIMHASH: Proposers = Proposers(4);
    /// Not a candidate pair itself: verified against the kept item because both were in
    /// one component of candidate pairs.
    pub const COMPONENT: Proposers = Proposers(8);

    const NAMES: [(Proposers, &'static str); 4] = [
        (Proposers::EXACT, "exact"),
        (Proposers::LSH, "lsh"),
        (Proposers::SIMHASH, "simhash"),
        (Proposers::COMPONENT, "component"),
    ];

    /// The bits, as stored between stages.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Proposers from stored bits; bits no generator uses are an error.
    pub fn from_bits(bits: u8) -> std::io::Result<Proposers> {
        match bits & !0x0f {
            0 => Ok(Proposers(bits)),
            _ => Err(crate::codec::corrupt("proposer bits")),
        }
    }

    /// Both sets of bits.
    pub fn union(self, o: Proposers) -> Proposers {
        Proposers(self.0 | o.0)
    }

    /// Whether every bit of `o` is set.
    pub fn contains(self, o: Proposers) -> bool {
        self.0 & o.0 == o.0
    }

    /// The names of the bits set, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Proposers::NAMES
            .iter()
            .filter(|(p, _)| self.contains(*p))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl Serialize for Proposers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

/// The decision to drop one item as a duplicate of a kept one, with its evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duplicate {
    /// Index of the dropped item.
    pub member: u32,
    /// Index of the kept item.
    pub kept: u32,
    /// How they matched.
    pub kind: MatchKind,
    /// Hamming distance of their primary simhashes (`metadata.simhash`).
    pub hamming: u32,
    /// Hamming distance of each of their fingerprints (unused entries 0).
    pub hammings: [u32; MAX_FINGERPRINTS],
    /// Jaccard similarity of their shingle sets.
    pub similarity: f64,
    /// What proposed the pair.
    pub proposed_by: Proposers,
    /// The criterion that kept the other record instead of this one.
    pub kept_by: KeptBy,
}

/// Counters of one deduplication, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DedupStats {
    /// Candidate pairs looked at by the screen, over all generators (a pair both
    /// generators propose is counted by each).
    pub candidates: usize,
    /// The same, per generator.
    pub by_generator: GeneratorCounts,
    /// Candidate pairs screened out by their signatures before verification.
    pub screened: usize,
    /// Candidate pairs that passed verification.
    pub verified: usize,
    /// Members split off a component because they failed verification against its kept item.
    pub chain_splits: usize,
    /// Buckets larger than `dedup.max_bucket`, walked with leaders.
    pub oversized_buckets: usize,
    /// Pairs inside those buckets that were not compared.
    pub bucket_pairs_cut: usize,
    /// With `--against`: earlier entries the probe found sharing a band key (or the exact
    /// hash) with a new text.
    pub earlier_found: usize,
    /// Of those, left out before the search: the signature screen rejected them against
    /// every new text they share a band with.
    pub earlier_screened: usize,
    /// Wall time of the candidate search (not in `report.json` → `dedup`, which must not
    /// vary between runs: the run reports it in `timings_ms`).
    #[serde(skip)]
    pub candidate_time: std::time::Duration,
    /// Wall time of verification and clustering.
    #[serde(skip)]
    pub verify_time: std::time::Duration,
}

/// Candidate pairs looked at, per generator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct GeneratorCounts {
    /// By MinHash LSH bands.
    pub lsh: usize,
    /// By simhash fingerprints.
    pub simhash: usize,
}

impl DedupStats {
    /// Adds one table's comparisons; returns how many pairs it compared.
    pub(crate) fn add(&mut self, st: TableStats) -> usize {
        self.candidates += st.compared;
        self.screened += st.rejected;
        self.oversized_buckets += st.oversized;
        self.bucket_pairs_cut += st.cut;
        st.compared
    }
}

/// Items in input order over fingerprints, item `i` pinned when `pinned(i)` (tests).
#[cfg(test)]
pub(crate) fn items_of(
    fps: &[crate::dedup::Fingerprinted],
    pinned: impl Fn(usize) -> bool,
) -> Vec<Item<'_>> {
    fps.iter()
        .enumerate()
        .map(|(i, f)| Item {
            fp: f.fp.clone(),
            sig: &f.signature,
            replacements: 0,
            order: i as u32,
            pinned: pinned(i),
        })
        .collect()
}
