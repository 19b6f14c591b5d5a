//! Learned boilerplate (the CCNet observation: boilerplate repeats across pages, content
//! does not). Lines are counted on a deterministic sample of pages; those on a large share
//! of them are listed with the part the profile put them in, so a profile author sees what
//! the rules miss. With `boilerplate.strip`, the learned lines the profile leaves in
//! article bodies are removed from them too ([`strip_lines`], applied by the run).

use serde::Serialize;

use crate::config::BoilerplateConfig;
use crate::page::LineKind;
use crate::prehashed::{HashedMap, HashedSet};
use crate::scan::{boilerplate_key, LineSample};

/// One learned line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Learned {
    /// The line (cleaned).
    pub text: String,
    /// Sampled pages that carry it.
    pub pages: usize,
    /// pages / sampled pages.
    pub share: f64,
    /// Where the profile put it: `body` means no rule strips it.
    pub part: LineKind,
    /// In words, for the report.
    pub handled_by: String,
}

/// The `learned_boilerplate` section of `report.json`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LearnedReport {
    /// Pages in the sample.
    pub sampled_pages: usize,
    /// Learned lines, most frequent first.
    pub lines: Vec<Learned>,
    /// Whether `boilerplate.strip` was on.
    pub strip: bool,
    /// Articles that lost lines to it.
    pub stripped_pages: usize,
}

/// The share of pages to sample so that about `sample_pages` are.
pub fn sample_rate(files: usize, cfg: &BoilerplateConfig) -> f64 {
    if files == 0 {
        1.0
    } else {
        (cfg.sample_pages as f64 / files as f64).min(1.0)
    }
}

/// Whether the page read from `source` is in the sample (a hash of the path, so it does not
/// depend on thread timing or input order).
pub fn is_sampled(source: &str, rate: f64) -> bool {
    rate >= 1.0
        || (xxhash_rust::xxh3::xxh3_64_with_seed(source.as_bytes(), 0xB011) as f64)
            < rate * u64::MAX as f64
}

/// One sampled page: its distinct lines, with hashes of its title and body. A line is
/// boilerplate only when it recurs on pages with different titles *and* different bodies:
/// copies of one article (a body repeated under new related lists) share their own
/// sub-headings, which are not boilerplate.
#[derive(Debug, Clone, Default)]
pub struct PageSample {
    /// xxh3 of the normalized title (0 without a title).
    pub title: u64,
    /// xxh3 of the normalized body (0 without a body).
    pub body: u64,
    /// The page's distinct lines.
    pub lines: Vec<LineSample>,
}

/// How often one line was seen.
struct LineCount<'a> {
    pages: usize,
    text: &'a str,
    /// The part it was put in most often (ties: by name).
    part: LineKind,
    titles: usize,
    bodies: usize,
}

/// The sampled pages as learning reads them: a row per (line, page) and each distinct
/// line's text once — the earliest page's, which the report shows. Pages may be added in
/// any order (the scan's workers add them as they finish). A sampled page's related
/// blocks and boilerplate repeat across the sample, so this holds the sample's distinct
/// lines, not its pages' bytes (at a million templated pages the pages' own lines were
/// ~100 MB, held through the whole scan).
#[derive(Debug, Default)]
pub struct Samples {
    /// Per sampled page: its index in the input, xxh3 of its normalized title and of its
    /// body.
    pages: Vec<(u32, u64, u64)>,
    /// Per line of a sampled page: its hash, its page, its part.
    rows: Vec<(u64, u32, LineKind)>,
    /// Each distinct line's earliest page and text (a range of `texts`).
    first: HashedMap<u64, (u32, usize, usize)>,
    /// The texts, one after the other (a text replaced by an earlier page's stays).
    texts: String,
}

impl Samples {
    /// Adds the sample of input page `page` (a page with no lines is not sampled).
    pub fn push(&mut self, page: u32, sample: PageSample) {
        if sample.lines.is_empty() {
            return;
        }
        self.pages.push((page, sample.title, sample.body));
        for l in sample.lines {
            self.rows.push((l.hash, page, l.kind));
            let earlier = self.first.get(&l.hash).is_some_and(|f| f.0 < page);
            if !earlier {
                let start = self.texts.len();
                self.texts.push_str(&l.text);
                self.first.insert(l.hash, (page, start, self.texts.len()));
            }
        }
    }

    /// Sampled pages added.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether no page was sampled.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// The text of the line `hash` on the earliest page that has it.
    fn text(&self, hash: u64) -> &str {
        self.first
            .get(&hash)
            .map_or("", |&(_, start, end)| &self.texts[start..end])
    }
}

/// Counts the sampled lines; returns the report section and the hashes of learned lines
/// the profile leaves in bodies.
///
/// The counts come from one flat table of every sampled line, sorted by line: a map with a
/// set per distinct line cost ~80 MB for the 5,000 pages of the sample.
pub fn learn(mut sampled: Samples, cfg: &BoilerplateConfig) -> (LearnedReport, HashedSet<u64>) {
    let n = sampled.pages.len();
    sampled.pages.sort_unstable_by_key(|p| p.0);
    // (line, page): a line is on a page once, so each group is in input order.
    let mut rows = std::mem::take(&mut sampled.rows);
    rows.sort_unstable_by_key(|&(hash, page, _)| (hash, page));
    let distinct = |mut v: Vec<u64>| {
        v.sort_unstable();
        v.dedup();
        v.len()
    };
    let sampled = &sampled;
    let threshold = ((cfg.min_share * n as f64).ceil() as usize).max(cfg.min_pages);
    let mut counts: Vec<(u64, LineCount<'_>)> = Vec::new();
    // A line on fewer pages than the threshold cannot have as many distinct titles and
    // bodies (most sampled lines are on one page): it is not counted.
    for group in rows
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|g| g.len() >= threshold)
    {
        let mut parts: Vec<(LineKind, usize)> = Vec::new();
        for &(_, _, kind) in group {
            match parts.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, c)) => *c += 1,
                None => parts.push((kind, 1)),
            }
        }
        parts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.as_str().cmp(b.0.as_str())));
        let page = |r: &(u64, u32, LineKind)| {
            let at = sampled.pages.binary_search_by_key(&r.1, |p| p.0);
            at.map_or((0, 0), |i| (sampled.pages[i].1, sampled.pages[i].2))
        };
        counts.push((
            group[0].0,
            LineCount {
                pages: group.len(),
                text: sampled.text(group[0].0),
                part: parts[0].0,
                titles: distinct(group.iter().map(|r| page(r).0).collect()),
                bodies: distinct(group.iter().map(|r| page(r).1).collect()),
            },
        ));
    }
    let mut lines: Vec<(u64, Learned)> = counts
        .into_iter()
        .filter(|(_, c)| n > 0 && c.titles >= threshold && c.bodies >= threshold)
        .map(|(hash, c)| {
            (
                hash,
                Learned {
                    text: c.text.to_string(),
                    pages: c.pages,
                    share: (c.pages as f64 / n as f64 * 10_000.0).round() / 10_000.0,
                    handled_by: c.part.handled_by(),
                    part: c.part,
                },
            )
        })
        .collect();
    lines.sort_by(|a, b| b.1.pages.cmp(&a.1.pages).then(a.1.text.cmp(&b.1.text)));
    lines.truncate(cfg.max_listed);
    let in_body: HashedSet<u64> = lines
        .iter()
        .filter(|(_, l)| l.part == LineKind::Body)
        .map(|(h, _)| *h)
        .collect();
    (
        LearnedReport {
            sampled_pages: n,
            lines: lines.into_iter().map(|(_, l)| l).collect(),
            strip: cfg.strip,
            stripped_pages: 0,
        },
        in_body,
    )
}

/// `text` without its `learned` lines, or `None` when it holds none of them.
pub fn strip_lines(text: &str, learned: &HashedSet<u64>) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let kept: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !learned.contains(&boilerplate_key(l)))
        .collect();
    (kept.len() != lines.len()).then(|| kept.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::StripKind;

    /// Page `p` of a made-up sample: a footer every page has (written two ways, so the
    /// reported text shows which page came first), a heading two titles share, and a
    /// line of its own.
    fn page(p: u32) -> PageSample {
        let line = |text: String, kind| LineSample {
            hash: boilerplate_key(&text),
            kind,
            text: text.into(),
        };
        let footer = match p % 2 {
            0 => "提示：以上内容仅供参考".to_string(),
            _ => "提示:以上内容仅供参考".to_string(),
        };
        PageSample {
            title: u64::from(p % 7),
            body: u64::from(p),
            lines: vec![
                line(footer, LineKind::Stripped(StripKind::FooterDisclaimer)),
                line("一、办理流程".to_string(), LineKind::Body),
                line(format!("第{p}页自己的一行"), LineKind::Body),
            ],
        }
    }

    /// Workers add pages as they finish: any order learns what input order learns, and
    /// a line is shown as its earliest page wrote it.
    #[test]
    fn pages_added_in_any_order_learn_the_same_lines() {
        let cfg = BoilerplateConfig::default();
        let learned = |order: &[u32]| {
            let mut s = Samples::default();
            order.iter().for_each(|&p| s.push(p, page(p)));
            s.push(999, PageSample::default());
            assert_eq!(s.len(), order.len());
            learn(s, &cfg)
        };
        let in_order: Vec<u32> = (10..50).collect();
        let mut shuffled = in_order.clone();
        shuffled.reverse();
        shuffled.swap(3, 17);
        let (report, in_body) = learned(&in_order);
        assert_eq!(learned(&shuffled), (report.clone(), in_body.clone()));
        let texts: Vec<&str> = report.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["一、办理流程", "提示：以上内容仅供参考"]);
        assert_eq!(report.sampled_pages, 40);
        assert_eq!(
            in_body.len(),
            1,
            "the heading is left in bodies by the profile"
        );
    }
}
