//! Verification and clusters over partitions of the candidate components: the search's
//! stage 3 and 4 ([`crate::dedup::search`]) as the Ray job's `pagesieve.verify[p]` tasks
//! run them, apart from the search that found the components.
//!
//! A component is verified and clustered on its own (its members' shingle sets, its
//! pairs, the keep policy's order among its members), so components can go to different
//! tasks. [`deal`] hands each partition a contiguous run of components of about equal
//! weight; a partition's [`PartJob`] carries, for each of its members, what the
//! verification reads of an item (fingerprint, replacements, input order, pinned; not the
//! signature, which only the candidate stage reads) and where its text is
//! ([`TextAt`]: a record in a file every task can read, or the text itself). The task
//! verifies its components with the search's own `verify_component` and gives back one
//! [`Outcome`] per component in the search's item indices; the search takes the outcomes
//! of every partition in partition order, which is component order — what it gets when
//! it verifies in process, whatever the partition count or the schedule.
//!
//! Inside a task the members are numbered in ascending item index, so every comparison of
//! item indices (the last tie-break of the keep policy's order) comes out as in the
//! search.

use std::io::Write;
use std::ops::Range;

use rayon::prelude::*;

use crate::codec::{corrupt, Dec, Enc};
use crate::config::MAX_FINGERPRINTS;
use crate::dedup::components::Component;
use crate::dedup::fingerprint::Fingerprint;
use crate::dedup::keep::KeptBy;
use crate::dedup::minhash::Signature;
use crate::dedup::search::{verify_component, MAX_SETS_HELD};
use crate::dedup::{DedupRules, Duplicate, Item, MatchKind, Outcome, Proposers};

const JOB_MAGIC: &[u8; 8] = b"PSVJOB01";
const OUTCOME_MAGIC: &[u8; 8] = b"PSVOUT01";

/// Splits `comps` into `parts` contiguous runs (some may be empty) of about equal
/// weight, a component weighing its members and pairs (what its verification reads and
/// tests).
pub fn deal(comps: &[Component], parts: u32) -> Vec<Range<usize>> {
    let parts = parts.max(1) as usize;
    let weight = |c: &Component| (c.members.len() + c.pairs.len()) as u64;
    let total: u64 = comps.iter().map(weight).sum();
    let mut ranges = Vec::with_capacity(parts);
    let (mut start, mut sum) = (0, 0u64);
    for (i, c) in comps.iter().enumerate() {
        sum += weight(c);
        // Partition p ends once the running weight reaches (p + 1) / parts of the total.
        let p = ranges.len() as u64;
        if ranges.len() + 1 < parts && sum * parts as u64 >= total * (p + 1) {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    ranges.push(start..comps.len());
    while ranges.len() < parts {
        ranges.push(comps.len()..comps.len());
    }
    ranges
}

/// Where a member's text is.
#[derive(Debug, Clone, PartialEq)]
pub enum TextAt {
    /// A spilled article record: `len` bytes at `offset` of file `file` of the job's
    /// file list.
    Record {
        /// Index into [`PartJob::files`].
        file: u32,
        /// Byte offset of the record.
        offset: u64,
        /// Its length.
        len: u32,
    },
    /// The text itself (a record no task can read where it is: an earlier run's, or one
    /// phase 2 spilled again).
    Text(String),
}

/// What a partition's verification reads of one member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Its index among the search's items (what its outcomes name it by).
    pub item: u32,
    /// Its fingerprint.
    pub fp: Fingerprint,
    /// Replacement characters its decoding produced.
    pub replacements: u32,
    /// Its position in input order.
    pub order: u32,
    /// Kept by an earlier run.
    pub pinned: bool,
    /// Where its text is.
    pub text: TextAt,
}

impl Member {
    /// Member `item` of the search, whose item is `it`, with its text at `text`.
    pub fn of(item: u32, it: &Item<'_>, text: TextAt) -> Member {
        Member {
            item,
            fp: it.fp.clone(),
            replacements: it.replacements,
            order: it.order,
            pinned: it.pinned,
            text,
        }
    }
}

/// One partition's verification: its components (local indices as the search numbered
/// them) and their members, ascending by item; as [`PartJob::decode`] reads it, every
/// local index a component names is one member's.
#[derive(Debug, Clone, PartialEq)]
pub struct PartJob {
    /// The record files [`TextAt::Record`] refers to.
    pub files: Vec<String>,
    /// Each member's local index in the components.
    pub locals: Vec<u32>,
    /// The members, ascending by [`Member::item`], `locals[i]` being member `i`'s.
    pub members: Vec<Member>,
    /// The components, in the search's order.
    pub comps: Vec<Component>,
}

/// Writes a [`PartJob`] a member at a time (the texts of a partition need not be held
/// together): the file list, the components, then [`JobWriter::member`] once per member,
/// ascending by item.
pub struct JobWriter<W: Write> {
    out: W,
    left: u32,
}

impl<W: Write> JobWriter<W> {
    /// Starts a job of `members` members over `comps`, with record files `files`.
    pub fn start(
        mut out: W,
        files: &[String],
        comps: &[Component],
        members: u32,
    ) -> std::io::Result<Self> {
        let mut e = Enc::default();
        e.0.extend_from_slice(JOB_MAGIC);
        e.u8(MAX_FINGERPRINTS as u8);
        e.u32(files.len() as u32);
        files.iter().for_each(|f| e.str(f));
        e.u32(comps.len() as u32);
        for c in comps {
            e.u32(c.pairs.len() as u32);
            for &(a, b, p) in &c.pairs {
                e.u32(a);
                e.u32(b);
                e.u8(p.bits());
            }
        }
        e.u32(members);
        out.write_all(&e.0)?;
        Ok(JobWriter { out, left: members })
    }

    /// Writes the next member, whose local index is `local`.
    pub fn member(&mut self, local: u32, m: &Member) -> std::io::Result<()> {
        self.left = self
            .left
            .checked_sub(1)
            .ok_or_else(|| corrupt("more members than announced"))?;
        let mut e = Enc::default();
        e.u32(m.item);
        e.u32(local);
        put_fp(&mut e, &m.fp);
        e.u32(m.replacements);
        e.u32(m.order);
        e.bool(m.pinned);
        match &m.text {
            TextAt::Record { file, offset, len } => {
                e.u8(0);
                e.u32(*file);
                e.u64(*offset);
                e.u32(*len);
            }
            TextAt::Text(t) => {
                e.u8(1);
                e.str(t);
            }
        }
        self.out.write_all(&e.0)
    }

    /// Ends the job (every announced member written); returns the writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        if self.left != 0 {
            return Err(corrupt("fewer members than announced"));
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

fn put_fp(e: &mut Enc, fp: &Fingerprint) {
    for i in 0..MAX_FINGERPRINTS {
        e.u64(fp.simhash(i));
    }
    e.bool(fp.more.is_some());
    e.u64(fp.exact[0]);
    e.u64(fp.exact[1]);
    e.u32(fp.chars);
}

fn get_fp(d: &mut Dec<'_>) -> std::io::Result<Fingerprint> {
    let mut hashes = [0u64; MAX_FINGERPRINTS];
    for h in &mut hashes {
        *h = d.u64()?;
    }
    let more = match d.bool()? {
        true => Some(Box::new(std::array::from_fn(|i| hashes[i + 1]))),
        false => None,
    };
    Ok(Fingerprint {
        primary: hashes[0],
        more,
        exact: [d.u64()?, d.u64()?],
        chars: d.u32()?,
    })
}

impl PartJob {
    /// Reads what a [`JobWriter`] wrote; damaged bytes are an error.
    pub fn decode(bytes: &[u8]) -> std::io::Result<PartJob> {
        let mut d = match bytes.strip_prefix(JOB_MAGIC.as_slice()) {
            Some(rest) => Dec(rest),
            None => return Err(corrupt("verification job")),
        };
        if d.u8()? as usize != MAX_FINGERPRINTS {
            return Err(corrupt("verification job of another build"));
        }
        let files = (0..d.u32()?)
            .map(|_| d.string())
            .collect::<std::io::Result<Vec<_>>>()?;
        let comps = (0..d.u32()?)
            .map(|_| {
                let pairs = (0..d.u32()?)
                    .map(|_| Ok((d.u32()?, d.u32()?, Proposers::from_bits(d.u8()?)?)))
                    .collect::<std::io::Result<Vec<_>>>()?;
                Ok(Component::new(pairs))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        let n = d.u32()? as usize;
        let (mut locals, mut members) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let item = d.u32()?;
            locals.push(d.u32()?);
            let fp = get_fp(&mut d)?;
            let (replacements, order, pinned) = (d.u32()?, d.u32()?, d.bool()?);
            let text = match d.u8()? {
                0 => TextAt::Record {
                    file: d.u32()?,
                    offset: d.u64()?,
                    len: d.u32()?,
                },
                1 => TextAt::Text(d.string()?),
                _ => return Err(corrupt("text place")),
            };
            members.push(Member {
                item,
                fp,
                replacements,
                order,
                pinned,
                text,
            });
        }
        if !d.is_empty() {
            return Err(corrupt("trailing bytes"));
        }
        let bad_file = |m: &Member| match m.text {
            TextAt::Record { file, .. } => file as usize >= files.len(),
            TextAt::Text(_) => false,
        };
        let mut named: Vec<u32> = locals.clone();
        named.sort_unstable();
        let unnamed = |l: &u32| named.binary_search(l).is_err();
        if members.windows(2).any(|w| w[0].item >= w[1].item)
            || members.iter().any(bad_file)
            || named.windows(2).any(|w| w[0] == w[1])
            || comps.iter().any(|c| c.members.iter().any(unnamed))
        {
            return Err(corrupt("verification job members"));
        }
        Ok(PartJob {
            files,
            locals,
            members,
            comps,
        })
    }

    /// Verifies and clusters every component of the job (in parallel, outcomes in
    /// component order), reading member `i`'s text with `text(&members[i])`; the
    /// outcomes name items by their index among the search's items.
    pub fn run<E, T>(&self, cfg: &DedupRules, text: T) -> Result<Vec<Outcome>, E>
    where
        T: Fn(&Member) -> Result<String, E> + Sync,
        E: Send,
    {
        static NO_SIGNATURE: Signature = Signature([0; crate::dedup::minhash::SIGNATURE_BINS]);
        let items: Vec<Item<'_>> = self
            .members
            .iter()
            .map(|m| Item {
                fp: m.fp.clone(),
                sig: &NO_SIGNATURE,
                replacements: m.replacements,
                order: m.order,
                pinned: m.pinned,
            })
            .collect();
        // Local index → member (task index); every local a component names is a member
        // ([`PartJob::decode`] checks it).
        let top = self.locals.iter().max().map_or(0, |&l| l as usize + 1);
        let mut near = vec![u32::MAX; top];
        for (i, &l) in self.locals.iter().enumerate() {
            near[l as usize] = i as u32;
        }
        let shingles = |m: u32| -> Result<Vec<u64>, E> {
            let t = text(&self.members[m as usize])?;
            let norm = crate::dedup::shingle::normalize_with(&t, &cfg.normalize);
            Ok(crate::dedup::shingle::shingle_set(&norm, cfg.shingle_chars))
        };
        let back = |d: Duplicate| Duplicate {
            member: self.members[d.member as usize].item,
            kept: self.members[d.kept as usize].item,
            ..d
        };
        self.comps
            .par_iter()
            .map(|c| {
                let o = verify_component(c, &near, &items, cfg, &shingles, MAX_SETS_HELD)?;
                Ok(Outcome {
                    drops: o.drops.into_iter().map(back).collect(),
                    ..o
                })
            })
            .collect()
    }
}

/// The outcomes of one partition, as its task writes them.
pub fn encode_outcomes(outcomes: &[Outcome]) -> Vec<u8> {
    let mut e = Enc::default();
    e.0.extend_from_slice(OUTCOME_MAGIC);
    e.u32(outcomes.len() as u32);
    for o in outcomes {
        e.u64(o.splits as u64);
        e.u64(o.verified as u64);
        e.u32(o.drops.len() as u32);
        for d in &o.drops {
            e.u32(d.member);
            e.u32(d.kept);
            e.u8(match d.kind {
                MatchKind::Exact => 0,
                MatchKind::Near => 1,
            });
            e.u32(d.hamming);
            d.hammings.iter().for_each(|&h| e.u32(h));
            e.u64(d.similarity.to_bits());
            e.u8(d.proposed_by.bits());
            e.u8(kept_by_code(d.kept_by));
        }
    }
    e.0
}

/// Reads what [`encode_outcomes`] wrote; damaged bytes are an error.
pub fn decode_outcomes(bytes: &[u8]) -> std::io::Result<Vec<Outcome>> {
    let mut d = match bytes.strip_prefix(OUTCOME_MAGIC.as_slice()) {
        Some(rest) => Dec(rest),
        None => return Err(corrupt("verification outcomes")),
    };
    let outcomes = (0..d.u32()?)
        .map(|_| {
            let splits = d.u64()? as usize;
            let verified = d.u64()? as usize;
            let drops = (0..d.u32()?)
                .map(|_| {
                    let (member, kept) = (d.u32()?, d.u32()?);
                    let kind = match d.u8()? {
                        0 => MatchKind::Exact,
                        1 => MatchKind::Near,
                        _ => return Err(corrupt("match kind")),
                    };
                    let hamming = d.u32()?;
                    let mut hammings = [0u32; MAX_FINGERPRINTS];
                    for h in &mut hammings {
                        *h = d.u32()?;
                    }
                    Ok(Duplicate {
                        member,
                        kept,
                        kind,
                        hamming,
                        hammings,
                        similarity: f64::from_bits(d.u64()?),
                        proposed_by: Proposers::from_bits(d.u8()?)?,
                        kept_by: kept_by_of(d.u8()?)?,
                    })
                })
                .collect::<std::io::Result<Vec<_>>>()?;
            Ok(Outcome {
                drops,
                splits,
                verified,
            })
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    match d.is_empty() {
        true => Ok(outcomes),
        false => Err(corrupt("trailing bytes")),
    }
}

const KEPT_BY: [KeptBy; 5] = [
    KeptBy::MostCentral,
    KeptBy::FewerReplacements,
    KeptBy::Longest,
    KeptBy::FirstInInput,
    KeptBy::EarlierRun,
];

fn kept_by_code(k: KeptBy) -> u8 {
    KEPT_BY.iter().position(|&x| x == k).unwrap_or(0) as u8
}

fn kept_by_of(code: u8) -> std::io::Result<KeptBy> {
    KEPT_BY
        .get(code as usize)
        .copied()
        .ok_or_else(|| corrupt("kept-by criterion"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::fingerprint::fingerprint;
    use crate::dedup::shingle::{normalize, shingle_set};
    use crate::dedup::{deduplicate, deduplicate_using, Fingerprinted, Stages, VerifyJob};

    const BASE: &str = "医保个人账户的钱可以用于门诊使用，包括挂号费、检查费和药品费等个人负担的医疗费用，也可以在定点零售药店购买药品和医疗器械。异地就医需要先在参保地办理备案手续，备案成功后可以直接结算。";

    /// Texts with families of near copies (edits at different places), exact copies and
    /// unrelated texts, shuffled by a fixed step.
    fn texts() -> Vec<String> {
        let mut out = Vec::new();
        for f in 0..12 {
            let base = format!(
                "第{f}类问题：{BASE}{}",
                "参保人员需携带社保卡办理。".repeat(f % 4 + 1)
            );
            out.push(base.clone());
            out.push(base.replacen("门诊", "住院", 1));
            out.push(base.replacen("药店", "医院", 1));
            if f % 3 == 0 {
                out.push(base.clone());
            }
            out.push(format!(
                "{f}号无关内容：生育津贴由单位代为申请，材料包括出生证明。{}",
                "审核后发放。".repeat(f + 1)
            ));
        }
        let n = out.len();
        (0..n).map(|i| out[(i * 7) % n].clone()).collect()
    }

    /// The search with its verification dealt to `parts` jobs, each encoded, decoded and
    /// run, equals the search verifying in process, for every partition count.
    #[test]
    fn dealt_verification_decides_as_the_search_does() {
        let cfg = DedupRules {
            max_hamming: 16,
            ..DedupRules::default()
        };
        let texts = texts();
        let norms: Vec<String> = texts.iter().map(|t| normalize(t)).collect();
        let fps: Vec<Fingerprinted> = norms.iter().map(|n| fingerprint(n, &cfg)).collect();
        let items = crate::dedup::types::items_of(&fps, |i| i == 5);
        let sets = |i: u32| -> Result<Vec<u64>, ()> {
            Ok(shingle_set(&norms[i as usize], cfg.shingle_chars))
        };
        let whole = deduplicate(&items[..], &cfg, sets).unwrap();
        assert!(
            whole.0.iter().any(|d| d.kind == MatchKind::Near),
            "{whole:?}"
        );
        for parts in [1, 2, 3, 5, 16] {
            let hook = |job: &VerifyJob<'_, '_>, sink: &mut dyn FnMut(Outcome)| {
                for r in deal(job.comps, parts) {
                    let comps = &job.comps[r];
                    let mut locals: Vec<u32> = comps
                        .iter()
                        .flat_map(|c| c.members.iter().copied())
                        .collect();
                    locals.sort_by_key(|&l| job.members.slot[l as usize]);
                    let mut w =
                        JobWriter::start(Vec::new(), &[], comps, locals.len() as u32).unwrap();
                    for &l in &locals {
                        let p = job.members.slot[l as usize];
                        let i = job.members.item(p);
                        let text = TextAt::Text(texts[(job.origin)(i) as usize].clone());
                        let m = Member::of(i, &job.members.items[p as usize], text);
                        w.member(l, &m).unwrap();
                    }
                    let job = PartJob::decode(&w.finish().unwrap()).unwrap();
                    let text = |m: &Member| match &m.text {
                        TextAt::Text(t) => Ok(t.clone()),
                        TextAt::Record { .. } => Err(()),
                    };
                    let outcomes = job.run(&cfg, text)?;
                    decode_outcomes(&encode_outcomes(&outcomes))
                        .unwrap()
                        .into_iter()
                        .for_each(&mut *sink);
                }
                Ok::<(), ()>(())
            };
            let stages = Stages {
                candidates: None,
                verify: Some(&hook),
            };
            let dealt = deduplicate_using(&items[..], &cfg, sets, None, stages).unwrap();
            assert_eq!(dealt.0, whole.0, "{parts} partitions");
            assert_eq!(untimed(dealt.1), untimed(whole.1), "{parts} partitions");
        }
    }

    fn untimed(s: crate::dedup::DedupStats) -> crate::dedup::DedupStats {
        crate::dedup::DedupStats {
            candidate_time: Default::default(),
            verify_time: Default::default(),
            ..s
        }
    }

    #[test]
    fn dealing_covers_every_component_once_in_order() {
        let p = Proposers::LSH;
        let comps: Vec<Component> = (0..10u32)
            .map(|i| Component::new((0..=i).map(|k| (100 * i, 100 * i + k + 1, p)).collect()))
            .collect();
        for parts in [1, 2, 3, 7, 10, 16] {
            let r = deal(&comps, parts);
            assert_eq!(r.len(), parts as usize);
            assert_eq!(r[0].start, 0);
            assert_eq!(r.last().unwrap().end, comps.len());
            assert!(r.windows(2).all(|w| w[0].end == w[1].start));
        }
        assert!(deal(&[], 4).iter().all(|r| r.is_empty()));
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let o = vec![Outcome {
            drops: vec![crate::run::decide::tests::dup(3, 1, MatchKind::Near)],
            splits: 1,
            verified: 2,
        }];
        let bytes = encode_outcomes(&o);
        assert_eq!(decode_outcomes(&bytes).unwrap(), o);
        for cut in 0..bytes.len() {
            assert!(decode_outcomes(&bytes[..cut]).is_err());
        }
        let comps = [Component::new(vec![(0, 1, Proposers::LSH)])];
        let job = JobWriter::start(Vec::new(), &[], &comps, 0).unwrap();
        let bytes = job.finish().unwrap();
        for cut in 0..bytes.len() {
            assert!(PartJob::decode(&bytes[..cut]).is_err());
        }
    }
}
