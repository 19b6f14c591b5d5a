//! `report.json`'s figures, from the page summaries and the decisions.

use std::collections::BTreeMap;

use crate::boilerplate::LearnedReport;
use crate::output::report::{DedupReport, FileCounts, GuardReport, IndexReport, Report};
use crate::page::StripKind;
use crate::record::RejectReason;
use crate::rules::Rules;
use crate::run::decide::Decisions;
use crate::run::summarize::{Scanned, SummaryKind};

/// What the report says besides the decisions' figures.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    /// When the run started, UTC.
    pub started: String,
    /// What the walk excluded, skipped and could not list.
    pub walked: crate::run::WalkFacts,
    /// The phases' wall times so far.
    pub timings: BTreeMap<String, u64>,
    /// Warnings for a person.
    pub warnings: Vec<String>,
    /// The index searched and written.
    pub index: IndexReport,
    /// The drop-rate guard.
    pub guard: Option<GuardReport>,
}

/// The run's report.
pub fn build(
    scanned: &Scanned,
    d: &Decisions,
    learned: LearnedReport,
    rules: &Rules,
    facts: RunFacts,
) -> Report {
    let pages = page_counts(scanned);
    let a = &d.counts.articles;
    Report {
        version: env!("CARGO_PKG_VERSION").to_string(),
        started: facts.started,
        profile: rules.config.profile.name.clone(),
        config: rules.config.clone(),
        files: FileCounts {
            seen: scanned.pages.len(),
            articles: a.kept + a.dropped_exact + a.dropped_near,
            rejected: pages.rejects.values().sum(),
            excluded: facts.walked.excluded,
            skipped: facts.walked.skipped.len(),
            html: pages.html,
        },
        articles: a.clone(),
        snippets: d.counts.snippets.clone(),
        rejects: pages.rejects,
        stripped: pages.stripped,
        encodings: pages.encodings,
        compression: pages.compression,
        dedup: DedupReport {
            articles: d.articles.stats,
            snippets: d.snippets.decided.stats,
        },
        index: facts.index,
        guard: facts.guard,
        warnings: facts.warnings,
        skipped: facts.walked.skipped.clone(),
        walk_problems: facts.walked.problems.clone(),
        learned_boilerplate: learned,
        timings_ms: facts.timings,
    }
}

/// Per-page counts: rejects by reason, boilerplate kinds, encodings, compression.
struct PageCounts {
    rejects: BTreeMap<String, usize>,
    stripped: BTreeMap<String, usize>,
    encodings: BTreeMap<String, usize>,
    compression: BTreeMap<String, usize>,
    html: usize,
}

fn page_counts(scanned: &Scanned) -> PageCounts {
    let zeros = |names: &mut dyn Iterator<Item = &'static str>| -> BTreeMap<String, usize> {
        names.map(|k| (k.to_string(), 0)).collect()
    };
    let mut c = PageCounts {
        rejects: zeros(&mut RejectReason::ALL.iter().map(|r| r.as_str())),
        stripped: zeros(&mut StripKind::PROFILE.iter().map(|k| k.as_str())),
        encodings: BTreeMap::new(),
        compression: BTreeMap::new(),
        html: 0,
    };
    for p in scanned.pages.iter() {
        c.html += usize::from(p.html);
        for k in p.stripped.iter() {
            *c.stripped.entry(k.as_str().to_string()).or_default() += 1;
        }
        if let Some(e) = p.encoding.name() {
            *c.encodings.entry(e.to_string()).or_default() += 1;
        }
        match &p.kind {
            SummaryKind::Reject { reject, .. } => {
                *c.rejects
                    .entry(reject.reason.as_str().to_string())
                    .or_default() += 1;
            }
            SummaryKind::Article { .. } => {
                if let Some(z) = p.compression.name() {
                    *c.compression.entry(z.to_string()).or_default() += 1;
                }
            }
        }
    }
    c
}
