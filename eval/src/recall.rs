//! Near-duplicate recall by text length and true similarity: the measure behind the recall
//! table in BENCHMARKS.md, the `recall_curve` example and `tests/recall.rs`.
//!
//! Pairs are made from real text — the answer paragraphs and related-snippet texts of the
//! seed pages, read at run time, never stored — and from synthetic text
//! ([`pagesieve::synth::answer_paragraphs`]). A base text of a drawn length is edited in a
//! known way (scattered character edits, a paragraph or sentence dropped or added,
//! paragraphs reordered, punctuation/width/whitespace changes, combinations), its true
//! 4-gram Jaccard similarity to the edit is computed exactly, and the pair is filed under
//! its length bucket (the shorter text's characters) and Jaccard bucket. Hard negatives
//! (same template with different facts; texts sharing one paragraph of four) must never be
//! merged.
//!
//! Each pair is deduplicated on its own, through the same [`deduplicate`] the run uses, so
//! a miss is a pair the candidate search did not propose (or the screen dropped): exactly
//! the pairs "the verifier would accept" but the search lost.

use std::fmt;
use std::path::Path;

use rayon::prelude::*;

use pagesieve::dedup::shingle::{jaccard, normalize_with, shingle_set};
use pagesieve::dedup::{deduplicate, fingerprint, DedupRules, Item, Proposers};
use pagesieve::ingest::InputFile;
use pagesieve::rules::Rules;
use pagesieve::scan::read_parts;
use pagesieve::synth::{answer_paragraphs, same_template_pair, Rng};

/// Length buckets, in characters of the shorter text: `[lo, hi)`.
pub const LENGTHS: [(usize, usize); 4] = [(50, 200), (200, 500), (500, 2000), (2000, 10_000)];

/// Jaccard buckets: `[lo, hi)`, the last one closed.
pub const JACCARDS: [(f64, f64); 5] = [(0.5, 0.6), (0.6, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.0)];

/// How the second text of a pair was made from the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Edit {
    /// Characters substituted, inserted and deleted at scattered places.
    Chars,
    /// One paragraph (or, in a one-paragraph text, one sentence) dropped.
    DropParagraph,
    /// One paragraph added.
    AddParagraph,
    /// One sentence dropped.
    DropSentence,
    /// One sentence added.
    AddSentence,
    /// Paragraphs (or sentences) reordered.
    Reorder,
    /// Punctuation, character widths and whitespace changed, plus a few character edits.
    Punctuation,
    /// Punctuation changes, character edits and a sentence dropped.
    Combination,
    /// Hard negative: the same sentence templates with different facts.
    SameTemplate,
    /// Hard negative: one paragraph of four shared, the others different.
    SharedParagraph,
}

impl Edit {
    const POSITIVE: [Edit; 8] = [
        Edit::Chars,
        Edit::DropParagraph,
        Edit::AddParagraph,
        Edit::DropSentence,
        Edit::AddSentence,
        Edit::Reorder,
        Edit::Punctuation,
        Edit::Combination,
    ];
}

/// One pair with what is known about it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pair {
    /// The first text.
    pub a: String,
    /// The second text.
    pub b: String,
    /// Characters of the shorter text.
    pub chars: usize,
    /// True Jaccard similarity of the two normalized texts' shingle sets.
    pub jaccard: f64,
    /// How `b` was made.
    pub edit: Edit,
    /// Whether the base text is real (from the seed pages) or synthetic.
    pub real: bool,
    /// A planted duplicate (true) or a hard negative (false).
    pub positive: bool,
}

/// Paragraphs of real text: the seed pages' answer paragraphs and snippet texts.
#[derive(Debug, Clone, Default)]
pub struct RealText {
    /// Answer body lines.
    pub paragraphs: Vec<String>,
    /// Related-snippet texts.
    pub snippets: Vec<String>,
}

impl RealText {
    /// Reads every page under `dir` with the bundled profile: its body lines and snippet
    /// texts (empty when the folder is missing).
    pub fn read(dir: &Path, rules: &Rules) -> RealText {
        let mut t = RealText::default();
        let Ok(rd) = std::fs::read_dir(dir) else {
            return t;
        };
        let mut names: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let file = InputFile {
                source: path.display().to_string(),
                path,
                walk_error: None,
            };
            if let Ok((_, _, parts)) = read_parts(&file, rules) {
                t.paragraphs.extend(
                    parts
                        .body
                        .iter()
                        .filter(|l| l.chars().count() >= 20)
                        .map(|l| l.to_string()),
                );
                for b in parts.related {
                    if b.text.chars().count() >= 40 && !t.snippets.contains(&b.text) {
                        t.snippets.push(b.text);
                    }
                }
            }
        }
        t
    }

    fn is_empty(&self) -> bool {
        self.paragraphs.is_empty() && self.snippets.is_empty()
    }
}

/// What to make.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Planted duplicates per (length, Jaccard) cell.
    pub per_cell: usize,
    /// Hard negatives.
    pub negatives: usize,
    /// Seed of the generator.
    pub seed: u64,
}

/// Makes the pairs: `plan.per_cell` positives in every cell that the edits can reach (a
/// bounded number of attempts), and `plan.negatives` hard negatives.
pub fn make_pairs(real: &RealText, plan: &Plan, dedup: &DedupRules) -> Vec<Pair> {
    let mut rng = Rng::new(plan.seed);
    let mut pairs = Vec::new();
    let mut filled = [[0usize; JACCARDS.len()]; LENGTHS.len()];
    let attempts = plan.per_cell * LENGTHS.len() * JACCARDS.len() * 60;
    for attempt in 0..attempts {
        let li = attempt % LENGTHS.len();
        if filled[li].iter().all(|&n| n >= plan.per_cell) {
            if filled.iter().flatten().all(|&n| n >= plan.per_cell) {
                break;
            }
            continue;
        }
        let use_real = !real.is_empty() && rng.chance(0.5);
        let base = base_text(&mut rng, real, use_real, LENGTHS[li]);
        let edit = *rng.pick(&Edit::POSITIVE);
        let other = apply(&mut rng, &base, edit, real, use_real);
        let pair = measure(&base, &other, edit, use_real, true, dedup);
        let (Some(l), Some(j)) = (length_bucket(pair.chars), jaccard_bucket(pair.jaccard)) else {
            continue;
        };
        if filled[l][j] < plan.per_cell {
            filled[l][j] += 1;
            pairs.push(pair);
        }
    }
    let mut negatives = 0;
    let mut tries = 0;
    while negatives < plan.negatives && tries < plan.negatives * 20 {
        tries += 1;
        let pair = hard_negative(&mut rng, real, dedup, tries);
        if pair.jaccard < dedup.min_similarity {
            negatives += 1;
            pairs.push(pair);
        }
    }
    pairs
}

fn measure(
    a: &[String],
    b: &[String],
    edit: Edit,
    real: bool,
    positive: bool,
    d: &DedupRules,
) -> Pair {
    let (a, b) = (a.join("\n"), b.join("\n"));
    let set = |t: &str| shingle_set(&normalize_with(t, &d.normalize), d.shingle_chars);
    Pair {
        chars: a.chars().count().min(b.chars().count()),
        jaccard: jaccard(&set(&a), &set(&b)),
        a,
        b,
        edit,
        real,
        positive,
    }
}

/// The length bucket of a text of `chars` characters.
pub fn length_bucket(chars: usize) -> Option<usize> {
    LENGTHS
        .iter()
        .position(|&(lo, hi)| (lo..hi).contains(&chars))
}

/// The Jaccard bucket of a similarity.
pub fn jaccard_bucket(j: f64) -> Option<usize> {
    JACCARDS
        .iter()
        .position(|&(lo, hi)| j >= lo && (j < hi || (hi >= 1.0 && j <= 1.0)))
}

/// A base text (paragraphs) whose length falls in `bucket`.
fn base_text(
    rng: &mut Rng,
    real: &RealText,
    use_real: bool,
    (lo, hi): (usize, usize),
) -> Vec<String> {
    // Log-uniform target inside the bucket, a little above its floor so that an edit
    // that shortens the text keeps it in the bucket.
    let target = (lo as f64 * 1.1 * ((hi as f64) / (lo as f64 * 1.1)).powf(rng.unit())) as usize;
    let mut out: Vec<String> = Vec::new();
    let mut len = 0;
    while len < target {
        let p = paragraph(rng, real, use_real, target - len);
        len += p.chars().count();
        out.push(p);
    }
    // Short texts are cut to the target, as the site cuts its snippets.
    if hi <= 500 && len > target {
        let extra = len - target;
        if let Some(last) = out.last_mut() {
            let keep = last.chars().count().saturating_sub(extra).max(10);
            *last = last.chars().take(keep).collect();
        }
    }
    out
}

/// One paragraph of real or synthetic text, preferring ones of at most `room` characters.
fn paragraph(rng: &mut Rng, real: &RealText, use_real: bool, room: usize) -> String {
    if use_real {
        let from_snippets = room <= 250 || real.paragraphs.is_empty() || rng.chance(0.3);
        let pool = if from_snippets && !real.snippets.is_empty() {
            &real.snippets
        } else {
            &real.paragraphs
        };
        return rng.pick(pool).clone();
    }
    let paras = answer_paragraphs(rng, room.clamp(60, 600));
    let long: Vec<&String> = paras.iter().filter(|p| p.chars().count() >= 30).collect();
    if long.is_empty() {
        paras.join("")
    } else {
        (*rng.pick(&long)).clone()
    }
}

fn apply(
    rng: &mut Rng,
    base: &[String],
    edit: Edit,
    real: &RealText,
    use_real: bool,
) -> Vec<String> {
    let mut t = base.to_vec();
    match edit {
        Edit::Chars => {
            let rate = 0.01 + 0.09 * rng.unit();
            char_edits(rng, &mut t, rate);
        }
        Edit::DropParagraph => {
            if t.len() >= 2 {
                t.remove(rng.below(t.len()));
            } else {
                drop_sentence(rng, &mut t);
            }
        }
        Edit::AddParagraph => {
            let room = base.iter().map(|p| p.chars().count()).sum::<usize>() / 3;
            let p = paragraph(rng, real, use_real, room.max(40));
            let at = rng.below(t.len() + 1);
            t.insert(at, p);
        }
        Edit::DropSentence => drop_sentence(rng, &mut t),
        Edit::AddSentence => {
            let p = paragraph(rng, real, use_real, 80);
            let s = sentences(&p).into_iter().next().unwrap_or(p);
            let i = rng.below(t.len());
            t[i].push_str(&s);
        }
        Edit::Reorder => {
            if t.len() >= 2 {
                for i in (1..t.len()).rev() {
                    t.swap(i, rng.below(i + 1));
                }
            } else {
                let mut s = sentences(&t[0]);
                let n = s.len();
                if n >= 2 {
                    s.swap(0, n - 1);
                }
                t[0] = s.concat();
            }
        }
        Edit::Punctuation => {
            punctuation(rng, &mut t);
            let rate = 0.02 * rng.unit();
            char_edits(rng, &mut t, rate);
        }
        Edit::Combination => {
            punctuation(rng, &mut t);
            let rate = 0.01 + 0.04 * rng.unit();
            char_edits(rng, &mut t, rate);
            drop_sentence(rng, &mut t);
        }
        Edit::SameTemplate | Edit::SharedParagraph => {}
    }
    t
}

/// Substitutes, inserts and deletes `rate` of the characters, at scattered places, with
/// characters of the text itself.
fn char_edits(rng: &mut Rng, t: &mut [String], rate: f64) {
    for p in t.iter_mut() {
        let mut cs: Vec<char> = p.chars().collect();
        let n = (cs.len() as f64 * rate).round() as usize;
        for _ in 0..n {
            if cs.len() < 2 {
                break;
            }
            let i = rng.below(cs.len());
            let c = cs[rng.below(cs.len())];
            match rng.below(3) {
                0 => cs[i] = c,
                1 => cs.insert(i, c),
                _ => {
                    cs.remove(i);
                }
            }
        }
        *p = cs.into_iter().collect();
    }
}

/// Full-width and ASCII punctuation swapped, digits and letters widened, spaces added.
fn punctuation(rng: &mut Rng, t: &mut [String]) {
    for p in t.iter_mut() {
        let mut out = String::with_capacity(p.len() + 16);
        for c in p.chars() {
            let swapped = match c {
                '，' => ',',
                ',' => '，',
                '。' => '.',
                '：' => ':',
                ':' => '：',
                '（' => '(',
                ')' => '）',
                '0'..='9' | 'a'..='z' | 'A'..='Z' if rng.chance(0.5) => {
                    char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
                }
                other => other,
            };
            out.push(if rng.chance(0.7) { swapped } else { c });
            if rng.chance(0.03) {
                out.push(if rng.chance(0.5) { ' ' } else { '\u{3000}' });
            }
        }
        *p = out;
    }
}

fn sentences(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in p.chars() {
        cur.push(c);
        if matches!(c, '。' | '！' | '？' | '!' | '?' | '；') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn drop_sentence(rng: &mut Rng, t: &mut [String]) {
    let i = rng.below(t.len());
    let mut s = sentences(&t[i]);
    if s.len() >= 2 {
        s.remove(rng.below(s.len()));
        t[i] = s.concat();
    } else {
        // One sentence: drop its last third.
        let n = t[i].chars().count();
        t[i] = t[i].chars().take(n - n / 3).collect();
    }
}

fn hard_negative(rng: &mut Rng, real: &RealText, d: &DedupRules, n: usize) -> Pair {
    if n.is_multiple_of(2) {
        let sizes: Vec<usize> = (0..1 + rng.below(4)).map(|_| 1 + rng.below(4)).collect();
        let (a, b) = same_template_pair(rng, &sizes);
        return measure(&a, &b, Edit::SameTemplate, false, false, d);
    }
    let use_real = !real.is_empty() && rng.chance(0.5);
    let mut a: Vec<String> = (0..4)
        .map(|_| paragraph(rng, real, use_real, 300))
        .collect();
    let mut b: Vec<String> = (0..4)
        .map(|_| paragraph(rng, real, use_real, 300))
        .collect();
    a.dedup();
    b.dedup();
    let shared = a[rng.below(a.len())].clone();
    let at = rng.below(b.len());
    b[at] = shared;
    measure(&a, &b, Edit::SharedParagraph, use_real, false, d)
}

/// What the duplicate search decided for one pair, deduplicated on its own: `Some` with
/// the generators that proposed it when it was merged.
pub fn decide_pair(p: &Pair, d: &DedupRules) -> Option<Proposers> {
    let norm = [&p.a, &p.b].map(|t| normalize_with(t, &d.normalize));
    let fps = [fingerprint(&p.a, d), fingerprint(&p.b, d)];
    let items = [
        Item {
            fp: fps[0].fp.clone(),
            sig: &fps[0].signature,
            replacements: 0,
            order: 0,
            pinned: false,
        },
        Item {
            fp: fps[1].fp.clone(),
            sig: &fps[1].signature,
            replacements: 0,
            order: 1,
            pinned: false,
        },
    ];
    let shingles =
        |i: u32| -> Result<Vec<u64>, ()> { Ok(shingle_set(&norm[i as usize], d.shingle_chars)) };
    let (dups, _) = deduplicate(&items[..], d, shingles).ok()?;
    dups.first().map(|x| x.proposed_by)
}

/// Found and total pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Merged.
    pub found: usize,
    /// In the cell.
    pub total: usize,
}

impl Count {
    /// found / total (1 for an empty cell).
    pub fn recall(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.found as f64 / self.total as f64
        }
    }
}

/// The recall table and the precision figures of one configuration.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Positives per (length, Jaccard) cell.
    pub cells: [[Count; JACCARDS.len()]; LENGTHS.len()],
    /// Positives per edit kind.
    pub by_edit: Vec<(Edit, Count)>,
    /// Positives found from real base text / from synthetic.
    pub real: Count,
    /// Positives found from synthetic base text.
    pub synthetic: Count,
    /// Hard negatives merged, of all hard negatives.
    pub negatives: Count,
    /// Positives proposed by LSH and by simhash (a pair may be both).
    pub by_generator: (usize, usize),
}

impl Table {
    /// Merged positives / all merges.
    pub fn precision(&self) -> f64 {
        let tp: usize = self.cells.iter().flatten().map(|c| c.found).sum();
        let all = tp + self.negatives.found;
        if all == 0 {
            1.0
        } else {
            tp as f64 / all as f64
        }
    }

    /// The cells below the targets: recall ≥ 0.95 for Jaccard 0.5–0.6, ≥ 0.99 above.
    pub fn misses_targets(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (l, row) in self.cells.iter().enumerate() {
            for (j, c) in row.iter().enumerate() {
                let floor = if j == 0 { 0.95 } else { 0.99 };
                if c.recall() < floor {
                    v.push(format!(
                        "length {:?} × J {:?}: {}/{} = {:.3} < {floor}",
                        LENGTHS[l],
                        JACCARDS[j],
                        c.found,
                        c.total,
                        c.recall()
                    ));
                }
            }
        }
        v
    }
}

/// Decides every pair with `d`, in parallel, and tabulates.
pub fn evaluate(pairs: &[Pair], d: &DedupRules) -> Table {
    let decided: Vec<Option<Proposers>> = pairs.par_iter().map(|p| decide_pair(p, d)).collect();
    tabulate(pairs, &decided)
}

/// Tabulates decisions made elsewhere (a peer tool): `decided[i]` is whether pair `i` was
/// merged.
pub fn tabulate(pairs: &[Pair], decided: &[Option<Proposers>]) -> Table {
    let mut t = Table::default();
    for (p, d) in pairs.iter().zip(decided) {
        let hit = d.is_some();
        let add = |c: &mut Count| {
            c.total += 1;
            c.found += usize::from(hit);
        };
        if !p.positive {
            add(&mut t.negatives);
            continue;
        }
        if let (Some(l), Some(j)) = (length_bucket(p.chars), jaccard_bucket(p.jaccard)) {
            add(&mut t.cells[l][j]);
        }
        match t.by_edit.iter_mut().find(|(e, _)| *e == p.edit) {
            Some((_, c)) => add(c),
            None => {
                t.by_edit.push((p.edit, Count::default()));
                add(&mut t.by_edit.last_mut().expect("just pushed").1);
            }
        }
        add(if p.real {
            &mut t.real
        } else {
            &mut t.synthetic
        });
        if let Some(by) = d {
            t.by_generator.0 += usize::from(by.contains(Proposers::LSH));
            t.by_generator.1 += usize::from(by.contains(Proposers::SIMHASH));
        }
    }
    t
}

impl fmt::Display for Table {
    /// The recall table (rows: length, columns: Jaccard) as markdown, then precision.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "| length \\ Jaccard |")?;
        for (lo, hi) in JACCARDS {
            write!(f, " {lo:.1}–{hi:.1} |")?;
        }
        writeln!(f)?;
        writeln!(f, "|---|{}", "---|".repeat(JACCARDS.len()))?;
        for (l, row) in self.cells.iter().enumerate() {
            write!(f, "| {}–{} chars |", LENGTHS[l].0, LENGTHS[l].1)?;
            for c in row {
                write!(f, " {:.3} ({}/{}) |", c.recall(), c.found, c.total)?;
            }
            writeln!(f)?;
        }
        let tp: usize = self.cells.iter().flatten().map(|c| c.found).sum();
        writeln!(
            f,
            "\nprecision {:.4} ({} planted duplicates merged, {} of {} hard negatives merged); \
             recall on real base text {:.4} ({}/{}), synthetic {:.4} ({}/{})",
            self.precision(),
            tp,
            self.negatives.found,
            self.negatives.total,
            self.real.recall(),
            self.real.found,
            self.real.total,
            self.synthetic.recall(),
            self.synthetic.found,
            self.synthetic.total,
        )?;
        let edits: Vec<String> = self
            .by_edit
            .iter()
            .map(|(e, c)| format!("{e:?} {:.3} ({}/{})", c.recall(), c.found, c.total))
            .collect();
        writeln!(f, "by edit: {}", edits.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_their_ranges() {
        assert_eq!(length_bucket(49), None);
        assert_eq!(length_bucket(50), Some(0));
        assert_eq!(length_bucket(9_999), Some(3));
        assert_eq!(jaccard_bucket(0.49), None);
        assert_eq!(jaccard_bucket(0.5), Some(0));
        assert_eq!(jaccard_bucket(0.6), Some(1));
        assert_eq!(jaccard_bucket(1.0), Some(4));
    }

    #[test]
    fn pairs_fill_cells_and_negatives_stay_below_the_threshold() {
        let d = DedupRules::default();
        let plan = Plan {
            per_cell: 3,
            negatives: 10,
            seed: 5,
        };
        let pairs = make_pairs(&RealText::default(), &plan, &d);
        let neg: Vec<&Pair> = pairs.iter().filter(|p| !p.positive).collect();
        assert_eq!(neg.len(), 10);
        assert!(neg.iter().all(|p| p.jaccard < 0.5));
        let t = tabulate(&pairs, &vec![None; pairs.len()]);
        for row in &t.cells {
            for c in row {
                assert_eq!(c.total, 3, "{t}");
            }
        }
    }
}
