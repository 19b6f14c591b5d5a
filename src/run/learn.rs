//! Learned boilerplate in the run: the lines sampled in phase 1 are counted
//! ([`crate::boilerplate::learn`]); with `boilerplate.strip`, the learned lines the profile
//! leaves in bodies are removed from every article, whose record is spilled again with a new
//! fingerprint (an article left with no body becomes a `no_answer` reject).

use rayon::prelude::*;

use crate::boilerplate::{self, LearnedReport};
use crate::dedup::fingerprint;
use crate::error::Error;
use crate::page::StripKind;
use crate::prehashed::HashedSet;
use crate::record::{hex64, Reject, RejectReason};
use crate::rules::Rules;
use crate::run::spill::{Spill, Spilled};
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
        learned.stripped_pages = strip_learned(&mut scanned.pages, &in_body, rules, spill)?;
        spill.flush()?;
    }
    Ok(learned)
}

/// Removes the `learned` lines from every article; returns how many articles changed.
fn strip_learned(
    pages: &mut [PageSummary],
    learned: &HashedSet<u64>,
    rules: &Rules,
    spill: &Spill,
) -> Result<usize, Error> {
    let changed: Vec<bool> = pages
        .par_iter_mut()
        .map(|p| strip_page(p, learned, rules, spill))
        .collect::<Result<_, Error>>()?;
    Ok(changed.into_iter().filter(|&c| c).count())
}

/// Strips one page; returns whether it changed.
fn strip_page(
    p: &mut PageSummary,
    learned: &HashedSet<u64>,
    rules: &Rules,
    spill: &Spill,
) -> Result<bool, Error> {
    let SummaryKind::Article { spill: r, fp, .. } = &mut p.kind else {
        return Ok(false);
    };
    let sp = spill.article(*r)?;
    let Some(text) = boilerplate::strip_lines(&sp.text, learned) else {
        return Ok(false);
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
        return Ok(true);
    }
    *fp = fingerprint(&text, &rules.dedup);
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
    Ok(true)
}
