//! Article duplicates: every article's fingerprint goes through the duplicate search
//! ([`crate::dedup::deduplicate`]); texts are read back from the store only for the
//! candidate pairs that must be verified.

use crate::dedup::minhash::Signature;
use crate::dedup::shingle::{normalize_with, shingle_set};
use crate::dedup::source::ItemSource;
use crate::dedup::{
    deduplicate_using, CandidateHook, DedupRules, Item, Outcome, Stages, VerifyJob,
};
use crate::error::Error;
use crate::history::{Earlier, History};
use crate::record::RecordKind;
use crate::run::decide::Decided;
use crate::run::file_tasks::FileTasks;
use crate::run::signatures::Signatures;
use crate::run::store::ArticleStore;
use crate::run::summaries::Summaries;
use crate::run::summarize::SummaryKind;
use crate::run::verification::{through_tasks, Texts};

/// The article search's stages that run in tasks (the Ray job's partitions); in this
/// process when `None`.
#[derive(Clone, Copy, Default)]
pub struct Tasks<'a> {
    /// The candidate stage.
    pub candidates: Option<CandidateHook<'a, Error>>,
    /// Verification and clusters.
    pub verify: Option<FileTasks<'a>>,
}

/// The search's items over a run's pages: earlier article `i < earlier.len()` from the
/// history's entries (pinned), the others from page `records[i]`'s mapped summary row and
/// signature, read when the search asks for them; their pages are handed back as it goes.
struct PageItems<'s> {
    pages: &'s Summaries,
    sigs: &'s Signatures,
    earlier: &'s [Earlier],
    /// Item → page (`n + e` for earlier entry `e`).
    records: &'s [u32],
}

impl<'s> ItemSource<'s> for PageItems<'s> {
    fn len(&self) -> usize {
        self.records.len()
    }

    fn get(&self, i: u32) -> Item<'s> {
        if let Some(x) = self.earlier.get(i as usize) {
            return Item {
                fp: x.fp.clone(),
                sig: &x.sig,
                replacements: x.row.replacements,
                order: self.records[i as usize] - self.pages.len() as u32,
                pinned: true,
            };
        }
        let pi = self.records[i as usize];
        match self.pages.get(pi as usize).kind {
            SummaryKind::Article {
                fp, replacements, ..
            } => Item {
                fp,
                sig: self.sigs.get(pi),
                replacements,
                order: pi,
                pinned: false,
            },
            _ => unreachable!("page {pi} is searched as an article but is none"),
        }
    }

    fn sig(&self, i: u32) -> &'s Signature {
        match self.earlier.get(i as usize) {
            Some(x) => &x.sig,
            None => self.sigs.get(self.records[i as usize]),
        }
    }

    fn release(&self) {
        self.pages.release();
    }
}

/// The duplicates among the articles of `pages` (with their signatures), and between them
/// and the articles earlier runs kept, by page index; earlier article `e` is record
/// `pages.len() + e` (pinned: never dropped). The stages `tasks` names run there (the
/// Ray job's partitions), the rest here.
pub fn decide(
    (pages, sigs): (&Summaries, &Signatures),
    rules: &DedupRules,
    store: &dyn ArticleStore,
    history: &History,
    tasks: Tasks<'_>,
) -> Result<Decided, Error> {
    let n = pages.len() as u32;
    // Tonight's articles by page (4 bytes an article): the search reads their items from
    // the mapped summary rows and signature column stage by stage ([`PageItems`]).
    let fresh: Vec<u32> = (0..n).filter(|&pi| pages.is_article(pi as usize)).collect();
    let tonight = PageItems {
        pages,
        sigs,
        earlier: &[],
        records: &fresh,
    };
    // Only the earlier articles that can meet tonight's join the search, before them.
    let probed = history.probe(RecordKind::Article, &tonight, rules)?;
    let es = probed.entries;
    let earlier = history.entries(RecordKind::Article, &es)?;
    let records: Vec<u32> = match es.is_empty() {
        true => fresh,
        false => es.iter().map(|&e| n + e).chain(fresh).collect(),
    };
    let items = PageItems {
        pages,
        sigs,
        earlier: &earlier,
        records: &records,
    };
    let m = earlier.len();
    let text = |i: u32| -> Result<String, Error> {
        match (i as usize).checked_sub(m) {
            None => Ok(history
                .record_of(RecordKind::Article, &earlier[i as usize])?
                .text),
            Some(_) => store.text(records[i as usize]),
        }
    };
    let shingles = |i: u32| -> Result<Vec<u64>, Error> {
        Ok(shingle_set(
            &normalize_with(&text(i)?, &rules.normalize),
            rules.shingle_chars,
        ))
    };
    // An earlier record is read through the history (by value); tonight's where it lies.
    let locate = |i: u32| match (i as usize).checked_sub(m) {
        None => None,
        Some(_) => store.locate(records[i as usize]),
    };
    let texts = Texts {
        locate: &locate,
        text: &text,
    };
    let texts = &texts;
    let verify = tasks.verify.map(|t| {
        move |job: &VerifyJob<'_, '_>, sink: &mut dyn FnMut(Outcome)| -> Result<(), Error> {
            through_tasks(&t, job, texts, sink)
        }
    });
    let stages = Stages {
        candidates: tasks.candidates,
        verify: verify.as_ref().map(|f| f as _),
    };
    let will_need = |i: u32| {
        let r = records[i as usize];
        match r.checked_sub(n) {
            Some(e) => history.will_need(RecordKind::Article, e),
            None => store.will_need(r),
        }
    };
    let (dups, mut stats) = deduplicate_using(&items, rules, shingles, Some(&will_need), stages)?;
    // The search has read every signature it needs: their pages leave the run's resident
    // memory for the writing (the index reads the kept ones again).
    sigs.release();
    stats.earlier_found = probed.found;
    stats.earlier_screened = probed.screened;
    Ok(Decided::from_items(dups, &records, stats))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dedup::{fingerprint, MatchKind};
    use crate::record::{ArticleRecord, Reject, RejectReason};
    use crate::run::spill::{SpillRef, Spilled};
    use crate::run::summarize::PageSummary;

    const BASE: &str = "医保个人账户的钱可以用于门诊使用，包括挂号费、检查费和药品费等个人负担的医疗费用，也可以在定点零售药店购买药品和医疗器械。异地就医需要先在参保地办理备案手续。";

    /// Summaries, in-memory records and signatures of pages with these bodies (`None`: a
    /// reject).
    pub(crate) fn pages(
        bodies: &[Option<&str>],
    ) -> (Vec<PageSummary>, Vec<Option<Spilled>>, Signatures) {
        let rules = DedupRules::default();
        let mut sigs = Vec::new();
        let (pages, records) = bodies
            .iter()
            .map(|b| {
                let f = b.map(|t| fingerprint(t, &rules));
                sigs.push(f.as_ref().map(|f| f.signature).unwrap_or_default());
                let kind = match f {
                    Some(f) => SummaryKind::Article {
                        spill: SpillRef::default(),
                        fp: f.fp,
                        title_key: 0,
                        replacements: 0,
                    },
                    None => SummaryKind::Reject {
                        reject: Reject::new(RejectReason::Empty, ""),
                        title: None,
                        snippets: 0,
                    },
                };
                let page = PageSummary {
                    html: false,
                    kind,
                    encoding: Default::default(),
                    stripped: Default::default(),
                    compression: Default::default(),
                };
                let rec = b.map(|t| {
                    let r = ArticleRecord {
                        text: t.to_string(),
                        ..ArticleRecord::default()
                    };
                    Spilled::new(r, Vec::new())
                });
                (page, rec)
            })
            .unzip();
        (pages, records, Signatures::in_memory(sigs))
    }

    #[test]
    fn duplicates_are_found_among_articles_and_named_by_page() {
        let near = BASE.replace("门诊使用", "门诊和住院使用");
        let (pages, store, sigs) = pages(&[
            Some(BASE),
            None,
            Some("完全不同的一段关于生育津贴申领流程的文字内容，需要单位代为申请，材料包括出生证明。"),
            Some(&near),
            Some(BASE),
        ]);
        // A generous k: this tests the step, not the candidate search's recall.
        let rules = DedupRules {
            max_hamming: 16,
            ..DedupRules::default()
        };
        let d = decide(
            (&Summaries::in_memory(pages), &sigs),
            &rules,
            &store,
            &History::empty(),
            Tasks::default(),
        )
        .unwrap();
        // Page 4 is an exact copy of page 0 and page 3 a near copy: page 0 is kept (the
        // pair ties on centrality and decoding; it comes first).
        assert_eq!(d.kept_of(3), 0);
        assert_eq!(d.dropped[&3].kind, MatchKind::Near);
        assert_eq!(d.kept_of(4), 0);
        assert_eq!(d.dropped[&4].kind, MatchKind::Exact);
        assert_eq!(d.members[&0], [3, 4]);
        assert!(!d.dropped.contains_key(&2));
    }
}
