//! Learned boilerplate in the run: the lines sampled in phase 1 are counted
//! ([`crate::boilerplate::learn`]); with `boilerplate.strip`, the learned lines the profile
//! leaves in bodies are removed from every article, whose record is spilled again with a new
//! fingerprint (an article left with no body becomes a `no_answer` reject).

use rayon::prelude::*;

use crate::boilerplate::{self, LearnedReport};
use crate::dedup::fingerprint;
use crate::dedup::minhash::Signature;
use crate::error::Error;
use crate::page::StripKind;
use crate::prehashed::HashedSet;
use crate::record::{hex64, Reject, RejectReason};
use crate::rules::Rules;
use crate::run::signatures::Signatures;
use crate::run::spill::{Spill, Spilled};
use crate::run::summaries::Summaries;
use crate::run::summarize::{PageSummary, Scanned, SummaryKind};
use crate::scan::boilerplate_key;

/// Counts the sampled lines, frees them, and strips learned lines when configured.
pub fn learn_boilerplate(
    scanned: &mut Scanned,
    rules: &Rules,
    spill: &Spill,
) -> Result<LearnedReport, Error> {
    let cfg = &rules.config.boilerplate;
    let (mut learned, in_body) = boilerplate::learn(std::mem::take(&mut scanned.samples), cfg);
    if cfg.strip && !in_body.is_empty() {
        let pages = (&mut scanned.pages, &mut scanned.signatures);
        learned.stripped_pages = strip_learned(pages, &in_body, rules, spill)?;
        spill.flush()?;
    }
    Ok(learned)
}

/// Pages stripped in parallel between two writes of their new summaries and signatures.
const CHUNK: usize = 16_384;

/// Removes the `learned` lines from every article (its summary and its signature
/// replaced in `pages` and `sigs`); returns how many articles changed.
fn strip_learned(
    (pages, sigs): (&mut Summaries, &mut Signatures),
    learned: &HashedSet<u64>,
    rules: &Rules,
    spill: &Spill,
) -> Result<usize, Error> {
    debug_assert_eq!(pages.len(), sigs.len());
    let mut changed = 0;
    for start in (0..pages.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(pages.len());
        let read: &Summaries = pages;
        let new: Vec<Option<(PageSummary, Signature)>> = (start..end)
            .into_par_iter()
            .map(|i| strip_page(read.get(i), learned, rules, spill))
            .collect::<Result<_, Error>>()?;
        for (i, new) in (start..).zip(new) {
            if let Some((p, sig)) = new {
                pages.set(i, p);
                sigs.set(i as u32, &sig);
                changed += 1;
            }
        }
        // The chunk's rows and signatures were read and written: hand them back.
        pages.release();
        sigs.release();
    }
    Ok(changed)
}

/// Strips one page; returns its new summary and signature when it changed.
fn strip_page(
    mut p: PageSummary,
    learned: &HashedSet<u64>,
    rules: &Rules,
    spill: &Spill,
) -> Result<Option<(PageSummary, Signature)>, Error> {
    let SummaryKind::Article { spill: r, fp, .. } = &mut p.kind else {
        return Ok(None);
    };
    let sp = spill.article(*r)?;
    let Some(text) = boilerplate::strip_lines(&sp.text, learned) else {
        return Ok(None);
    };
    p.stripped.insert(StripKind::LearnedBoilerplate);
    if text.is_empty() {
        p.kind = SummaryKind::Reject {
            reject: Reject::new(
                RejectReason::NoAnswer,
                "the body held only learned boilerplate lines (boilerplate.strip)",
            ),
            title: Some(sp.title),
            snippets: sp.related.len(),
        };
        return Ok(Some((p, Signature::default())));
    }
    let f = fingerprint(&text, &rules.dedup);
    *fp = f.fp;
    let mut record = sp.to_record();
    let m = &mut record.metadata;
    m.headings
        .retain(|h| !learned.contains(&boilerplate_key(h)));
    m.chars = text.chars().count();
    m.simhash = hex64(fp.primary());
    m.stripped
        .push(StripKind::LearnedBoilerplate.as_str().to_string());
    record.text = text;
    *r = spill.put_article(&Spilled::new(record, sp.related))?;
    Ok(Some((p, f.signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ArticleRecord;
    use crate::run::decide::articles::tests::pages;

    /// A stripped article's fingerprint and its signature in the column are those of its
    /// new text (the search reads the column, not the summary); a page stripped empty
    /// becomes a reject with a zeroed slot, and a page without the line is left alone.
    #[test]
    fn stripping_replaces_the_fingerprint_and_the_signature_slot() {
        let line = "本页内容由小站编辑部整理发布";
        let answer = "参保人可以在工作日到医保窗口办理异地就医备案，需要携带身份证和社保卡，备案后直接结算。";
        let other = "生育津贴由单位代为申请，材料包括出生证明和结婚证，审核通过后发放到单位账户。";
        let bodies = [
            format!("{answer}\n{line}"),
            line.to_string(),
            other.to_string(),
        ];
        let (mut ps, _, mut sigs) =
            pages(&bodies.iter().map(|b| Some(b.as_str())).collect::<Vec<_>>());
        let d = tempfile::tempdir().unwrap();
        let spill = Spill::create(&d.path().join("spill"), d.path()).unwrap();
        for (p, body) in ps.iter_mut().zip(&bodies) {
            let rec = ArticleRecord {
                text: body.clone(),
                ..ArticleRecord::default()
            };
            if let SummaryKind::Article { spill: r, .. } = &mut p.kind {
                *r = spill.put_article(&Spilled::new(rec, Vec::new())).unwrap();
            }
        }
        spill.flush().unwrap();
        let learned: HashedSet<u64> = [boilerplate_key(line)].into_iter().collect();
        let rules = Rules::builtin();
        let mut ps = Summaries::in_memory(ps);
        let changed = strip_learned((&mut ps, &mut sigs), &learned, &rules, &spill).unwrap();
        assert_eq!(changed, 2);
        let want = fingerprint(answer, &rules.dedup);
        assert_eq!(ps.get(0).article_fp(), Some(&want.fp));
        assert_eq!(*sigs.get(0), want.signature);
        assert!(ps.get(1).article_fp().is_none());
        assert_eq!(*sigs.get(1), Signature::default());
        let kept = fingerprint(other, &rules.dedup);
        assert_eq!(ps.get(2).article_fp(), Some(&kept.fp));
        assert_eq!(*sigs.get(2), kept.signature);
    }
}
