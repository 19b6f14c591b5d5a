//! Metadata a downstream user of the site wants, extracted from the parts of a page:
//! headings, years, places and provinces, tags, dates, links, and a snippet's short answer.
//! Every word list and pattern comes from the profile.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa, AhoCorasick, Anchored, MatchKind};
use regex::Regex;

use crate::config::{ConfigError, MetadataConfig, ProfileConfig};
use crate::page::patterns::{compile_list, PatternBudget, Sentences};
use crate::text::char_len;

/// The metadata stage's rules, compiled once from `[metadata]` (and the profile's sentence
/// ends).
#[derive(Debug, Clone)]
pub struct MetadataRules {
    /// `metadata.heading_patterns`, compiled.
    pub headings: Vec<Regex>,
    /// Place names (city or province) → their province, longest names first.
    pub places: PlaceMatcher,
    /// Tag keyword matcher.
    pub tags: TagMatcher,
    /// How a sentence ends.
    pub sentences: Sentences,
    /// The rest of `[metadata]` (lengths, word lists, shares).
    pub config: MetadataConfig,
    /// This compiled set's identity: what a worker remembers of related blocks under other
    /// rules is never returned ([`crate::page::line_cache::block_facts`]).
    pub(crate) id: u64,
}

impl MetadataRules {
    /// Compiles the heading patterns and builds the word matchers.
    pub fn compile(
        m: &MetadataConfig,
        p: &ProfileConfig,
    ) -> Result<MetadataRules, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let headings = compile_list(
            "metadata.heading_patterns",
            &m.heading_patterns,
            &mut PatternBudget::default(),
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(MetadataRules {
            headings,
            places: PlaceMatcher::new(&m.places),
            tags: TagMatcher::new(&m.tags),
            sentences: Sentences::new(p),
            config: m.clone(),
            id: crate::page::line_cache::next_rules_id(),
        })
    }
}

/// Finds city and province names (longest match wins: `海南州` over `海南`).
#[derive(Debug, Clone)]
pub struct PlaceMatcher {
    ac: Option<AhoCorasick>,
    /// pattern index → (name, province)
    names: Vec<(String, String)>,
}

impl PlaceMatcher {
    /// Builds the matcher from `province → cities`.
    pub fn new(places: &BTreeMap<String, Vec<String>>) -> Self {
        let mut names = Vec::new();
        for (province, cities) in places {
            names.push((province.clone(), province.clone()));
            for city in cities {
                names.push((city.clone(), province.clone()));
            }
        }
        let ac = if names.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(names.iter().map(|(n, _)| n.as_str()))
                .ok()
        };
        PlaceMatcher { ac, names }
    }

    /// The places named in `text` (first-seen order, no repeats) and their provinces.
    pub fn find(&self, text: &str) -> (Vec<String>, Vec<String>) {
        let mut places: Vec<String> = Vec::new();
        let mut provinces: Vec<String> = Vec::new();
        if let Some(ac) = &self.ac {
            for m in ac.find_iter(text) {
                let (name, province) = &self.names[m.pattern().as_usize()];
                if !places.contains(name) {
                    places.push(name.clone());
                }
                if !provinces.contains(province) {
                    provinces.push(province.clone());
                }
            }
        }
        (places, provinces)
    }
}

/// Finds tags by keyword.
#[derive(Debug, Clone)]
pub struct TagMatcher {
    /// The keywords' automaton, walked byte by byte ([`TagMatcher::find`]).
    dfa: Option<dfa::DFA>,
    /// pattern index → tag index
    tag_of: Vec<usize>,
    tags: Vec<String>,
}

impl TagMatcher {
    /// Builds the matcher from `tag → keywords`.
    pub fn new(tags: &BTreeMap<String, Vec<String>>) -> Self {
        let mut words = Vec::new();
        let mut tag_of = Vec::new();
        let names: Vec<String> = tags.keys().cloned().collect();
        for (i, kws) in tags.values().enumerate() {
            for w in kws {
                words.push(w.clone());
                tag_of.push(i);
            }
        }
        let dfa = if words.is_empty() {
            None
        } else {
            dfa::DFA::builder()
                .match_kind(MatchKind::Standard)
                .build(&words)
                .ok()
        };
        TagMatcher {
            dfa,
            tag_of,
            tags: names,
        }
    }

    /// Tags whose keywords occur in any of `texts`, in config (sorted) order.
    ///
    /// Every match counts (an overlapping search), but only which tags were hit is kept, so
    /// the automaton is walked directly, one transition a byte, looking at matches only in
    /// match states: the crate's overlapping iterator returns to its caller at every match
    /// and cost ~20 instructions a byte over every article body (4% of the scan on long
    /// answers). The iterator stays the oracle in the tests.
    pub fn find(&self, texts: &[&str]) -> Vec<String> {
        let mut hit = vec![false; self.tags.len()];
        if let Some(dfa) = &self.dfa {
            for t in texts {
                self.walk(dfa, t.as_bytes(), &mut hit);
            }
        }
        self.tags
            .iter()
            .zip(hit)
            .filter(|(_, h)| *h)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Marks in `hit` the tags of every keyword that occurs in `text`.
    fn walk(&self, dfa: &dfa::DFA, text: &[u8], hit: &mut [bool]) {
        let Ok(mut sid) = dfa.start_state(Anchored::No) else {
            return;
        };
        let mut mark = |sid| {
            for i in 0..dfa.match_len(sid) {
                hit[self.tag_of[dfa.match_pattern(sid, i).as_usize()]] = true;
            }
        };
        if dfa.is_match(sid) {
            mark(sid);
        }
        for &b in text {
            sid = dfa.next_state(Anchored::No, sid, b);
            if dfa.is_special(sid) {
                if dfa.is_dead(sid) {
                    return;
                }
                if dfa.is_match(sid) {
                    mark(sid);
                }
            }
        }
    }
}

/// Body lines that are section headings: they match a heading pattern, or they are short,
/// do not end a sentence, are not list items, and more body follows.
pub fn headings(body: &[impl AsRef<str>], rules: &MetadataRules) -> Vec<String> {
    let max = rules.config.heading_max_chars;
    let mut out = Vec::new();
    for (i, line) in body.iter().enumerate() {
        let line = line.as_ref();
        let pattern = rules.headings.iter().any(|r| r.is_match(line));
        let short = max > 0
            && i + 1 < body.len()
            && char_len(line) <= max
            && !rules.sentences.ends(line)
            && !line.ends_with([':', '：', ',', '，', ';', '；'])
            && !is_list_item(line);
        if pattern || short {
            out.push(line.to_string());
        }
    }
    out
}

fn list_item_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^(?:\d{1,3}[.、)）]|[•·●▪◦\-*]|[（(]\d{1,3}[)）])").unwrap())
}

/// A bulleted or numbered list item (`1. …`, `• …`, `（2）…`).
pub fn is_list_item(line: &str) -> bool {
    list_item_re().is_match(line)
}

/// Years (1900–2099) named in `text`.
pub fn years(text: &str) -> Vec<u16> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"(?:^|[^\d])((?:19|20)\d{2})(?:年|[^\d]|$)").unwrap());
    let mut out: Vec<u16> = Vec::new();
    for cap in re.captures_iter(text) {
        if let Ok(y) = cap[1].parse::<u16>() {
            if !out.contains(&y) {
                out.push(y);
            }
        }
    }
    out
}

/// Calendar dates in Chinese (`2024年9月1日`, `2024年9月`) or ISO form, normalized to ISO,
/// distinct, in order of appearance.
pub fn dates(text: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"((?:19|20)\d{2})(?:年(\d{1,2})月(?:(\d{1,2})[日号])?|-(\d{1,2})-(\d{1,2}))")
            .unwrap()
    });
    let mut out: Vec<String> = Vec::new();
    for cap in re.captures_iter(text) {
        let y = &cap[1];
        let month = cap
            .get(2)
            .or(cap.get(4))
            .and_then(|m| m.as_str().parse::<u32>().ok());
        let day = cap
            .get(3)
            .or(cap.get(5))
            .and_then(|m| m.as_str().parse::<u32>().ok());
        let s = match (month, day) {
            (Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d) => {
                format!("{y}-{m:02}-{d:02}")
            }
            (Some(m), None) if (1..=12).contains(&m) => format!("{y}-{m:02}"),
            _ => continue,
        };
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// URLs and e-mail addresses in `text`.
pub fn links(text: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?i)\bhttps?://[^\s<>()（）\p{Han}，。、]+|\bwww\.[a-z0-9-]+(?:\.[a-z0-9-]+)+[^\s<>()（）\p{Han}，。、]*|[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
            .unwrap()
    });
    let mut out: Vec<String> = Vec::new();
    // The regex needs Unicode word boundaries, which are slow: skip texts with no link.
    let b = text.as_bytes();
    let has = |needle: &[u8]| memchr::memmem::find(b, needle).is_some();
    if !(has(b"http") || has(b"www.") || memchr::memchr(b'@', b).is_some()) {
        return out;
    }
    for m in re.find_iter(text) {
        let s = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':'])
            .to_string();
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn bigrams(s: &str) -> Vec<(char, char)> {
    let cs: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
    cs.windows(2).map(|w| (w[0], w[1])).collect()
}

/// The short answer a snippet text leads with (`可以 医保卡…` → `可以`).
///
/// The lead is the text up to the first space. It is an answer when it is short, does not
/// end like a heading, the words after it restate the title (at least
/// `answer_min_restatement` of the title's bigrams), and it either starts with an answer
/// word or does not itself restate the title (shares under `answer_max_title_overlap` of
/// its bigrams with it).
pub fn short_answer(title: &str, text: &str, rules: &MetadataRules) -> Option<String> {
    let m = &rules.config;
    let (lead, rest) = text.split_once(' ')?;
    if rest.trim().is_empty() || lead.is_empty() || char_len(lead) > m.answer_max_chars {
        return None;
    }
    if lead
        .chars()
        .any(|ch| rules.sentences.is_end(ch) || matches!(ch, ',' | '，' | ':' | '：' | ';' | '；'))
    {
        return None;
    }
    if m.heading_suffixes
        .iter()
        .any(|s| lead.ends_with(s.as_str()))
    {
        return None;
    }
    let tb = bigrams(title);
    // An answer is followed by a restatement of the question: the first words after it
    // share a good part of the title's bigrams.
    let window: String = rest.chars().take(char_len(title) + 8).collect();
    let wb = bigrams(&window);
    let restated = tb.iter().filter(|b| wb.contains(b)).count();
    if tb.is_empty() || (restated as f64) / (tb.len() as f64) < m.answer_min_restatement {
        return None;
    }
    if m.answer_words.iter().any(|w| lead.starts_with(w.as_str())) && char_len(lead) <= 8 {
        return Some(lead.to_string());
    }
    let lb = bigrams(lead);
    if lb.is_empty() {
        // A one-character lead that is not an answer word (`3家` has bigrams; `是` would not).
        return None;
    }
    let shared = lb.iter().filter(|b| tb.contains(b)).count();
    if (shared as f64) / (lb.len() as f64) < m.answer_max_title_overlap {
        Some(lead.to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, BUILTIN_PROFILE};

    fn compiled() -> MetadataRules {
        let c = Config::parse(BUILTIN_PROFILE).unwrap();
        MetadataRules::compile(&c.metadata, &c.profile).unwrap()
    }

    #[test]
    fn short_answers_and_heading_leads() {
        let c = compiled();
        let a = |t: &str, x: &str| short_answer(t, x, &c);
        assert_eq!(
            a("临川医保能跨省用吗", "可以 临川医保可以跨省使用。").as_deref(),
            Some("可以")
        );
        assert_eq!(
            a(
                "灵活就业参保多久能用",
                "三个月 灵活就业人员参保后一般要等待"
            )
            .as_deref(),
            Some("三个月")
        );
        assert_eq!(
            a(
                "松阳新农合报销比例是多少",
                "一级医院七成 松阳新农合的报销比例如下:"
            )
            .as_deref(),
            Some("一级医院七成")
        );
        assert_eq!(
            a(
                "松阳医保停保怎么办",
                "松阳医保停保办理概览 对于灵活就业人员"
            ),
            None
        );
        assert_eq!(
            a("2025年临川补牙医保能报销吗", "2025年临川补牙医保报销 根据"),
            None
        );
        assert_eq!(a("题目", "没有空格的正文"), None);
        // A lead followed by something other than the question restated is not an answer.
        assert_eq!(
            a(
                "临川拔牙多少钱可以用医保吗",
                "拔牙的费用通常在 一百元到一千元 之间"
            ),
            None
        );
        assert_eq!(
            a(
                "松阳医保卡可以取现吗",
                "松阳医保卡个人账户资金 原则上不能直接取现"
            ),
            None
        );
    }

    #[test]
    fn places_years_dates_links() {
        let c = compiled();
        let (p, prov) = c.places.find("2025年深圳和海口的医保");
        assert_eq!(p, ["深圳", "海口"]);
        assert_eq!(prov, ["广东", "海南"]);
        assert_eq!(years("2024年和2025年的政策,电话12025678"), [2024, 2025]);
        assert_eq!(
            dates("自2024年9月1日至2024年12月31日,2025年3月起,见2025-04-18"),
            ["2024-09-01", "2024-12-31", "2025-03", "2025-04-18"]
        );
        assert_eq!(
            links("详见 https://example.org/a?b=1，或发邮件至 help@example.org。"),
            ["https://example.org/a?b=1", "help@example.org"]
        );
    }

    #[test]
    fn headings_and_tags() {
        let c = compiled();
        let body: Vec<String> = [
            "一、使用范围",
            "个人账户可以在门诊使用。",
            "注意事项",
            "1. 先备案",
            "需要备案。",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(headings(&body, &c), ["一、使用范围", "注意事项"]);
        assert_eq!(c.tags.find(&["门诊异地备案"]), ["异地就医", "门诊"]);
    }

    /// The tags of the crate's overlapping iterator, for the oracle test.
    fn tags_by_iterator(tags: &BTreeMap<String, Vec<String>>, texts: &[&str]) -> Vec<String> {
        let words: Vec<(&String, &String)> = tags
            .iter()
            .flat_map(|(t, ws)| ws.iter().map(move |w| (t, w)))
            .collect();
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(words.iter().map(|(_, w)| w))
            .expect("builds");
        let mut hit: Vec<String> = texts
            .iter()
            .flat_map(|t| ac.find_overlapping_iter(*t).collect::<Vec<_>>())
            .map(|m| words[m.pattern().as_usize()].0.clone())
            .collect();
        hit.sort();
        hit.dedup();
        hit
    }

    /// Walking the automaton finds the tags the crate's overlapping search finds, on texts
    /// made of keywords that overlap, nest and share prefixes, with other text between.
    #[test]
    fn walking_the_automaton_finds_what_the_overlapping_search_finds() {
        let mut rng = crate::synth::Rng::new(11);
        let alphabet = [
            "门", "诊", "异", "地", "医", "保", "备", "案", "a", "b", "。", " ",
        ];
        let word = |rng: &mut crate::synth::Rng, len: usize| -> String {
            (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        };
        for round in 0..300 {
            let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for t in 0..1 + rng.below(6) {
                let n = 1 + rng.below(4);
                let ws = (0..n)
                    .map(|_| {
                        let len = 1 + rng.below(4);
                        word(&mut rng, len)
                    })
                    .collect();
                tags.insert(format!("tag{t}"), ws);
            }
            let m = TagMatcher::new(&tags);
            let texts: Vec<String> = (0..1 + rng.below(3))
                .map(|_| {
                    let len = rng.below(40);
                    word(&mut rng, len)
                })
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            assert_eq!(
                m.find(&refs),
                tags_by_iterator(&tags, &refs),
                "round {round}: {tags:?} in {texts:?}"
            );
        }
    }
}
