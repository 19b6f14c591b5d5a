//! Property tests (proptest) for the invariants the pipeline promises:
//! - segmentation gives every non-blank input line exactly one label, and the body loses
//!   nothing but the documented cleanups (spaces, invisible characters);
//! - the fingerprint index returns exactly the pairs brute force returns, for any k;
//! - ids and every output file are the same under any input order and thread count.

mod common;

use std::path::Path;

use pagesieve::dedup::index::{pairs_within, pairs_within_brute_force};
use pagesieve::page::{segment, Part};
use pagesieve::text::{is_invisible, match_form};
use proptest::prelude::*;

/// Lines of every kind a page can hold, in every spelling the tolerances cover.
fn line() -> impl Strategy<Value = String> {
    let text = proptest::collection::vec(
        prop::sample::select(vec![
            "医",
            "保",
            "报",
            "销",
            "异",
            "地",
            "账",
            "户",
            "，",
            "。",
            "、",
            " ",
            "\u{3000}",
            "\u{a0}",
            "提示",
            "相关推荐",
            "首页",
            "a",
            "1",
            ":",
            "：",
            "\u{200b}",
        ]),
        1..40,
    )
    .prop_map(|v| v.concat());
    prop_oneof![
        4 => text,
        1 => Just(String::new()),
        1 => Just("   ".to_string()),
        1 => prop::sample::select(vec![
            "提示:本内容不能代替面诊。",
            "提示：本内容不能代替面诊，请就医。",
            "\u{3000}提示 : 本内容不能代替面诊",
            "本信息整理自互联网公开渠道,仅供参考。",
            "大家都在搜",
            "大家都在搜 医保 报销",
            "相关推荐",
            " 相关推荐\u{a0}",
            "健康新闻 2025-04-18",
            "医保政策 2024/1/2",
            "首页 顶部",
            "首页\u{a0}顶部",
        ])
        .prop_map(str::to_string),
    ]
}

fn squeeze(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !is_invisible(*c) && !c.is_control())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn segmentation_accounts_for_every_line(lines in proptest::collection::vec(line(), 0..60), crlf in any::<bool>()) {
        let c = common::compiled();
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let text = text.replace("\r\n", "\n");
        let parts = segment(&text, &c.segment);
        let raw: Vec<&str> = text.split('\n').collect();
        let non_blank: Vec<usize> = raw
            .iter()
            .enumerate()
            .filter(|(_, l)| !match_form(l).is_empty())
            .map(|(i, _)| i + 1)
            .collect();
        let labelled: Vec<usize> = parts.labels.iter().map(|l| l.line).collect();
        prop_assert_eq!(labelled, non_blank);
        // The body is the body lines, in order, with only spaces and invisibles removed.
        let from_labels: String = parts
            .labels
            .iter()
            .filter(|l| l.part == Part::Body)
            .map(|l| squeeze(raw[l.line - 1]))
            .collect();
        let from_body: String = parts.body.iter().map(|b| squeeze(b)).collect();
        prop_assert_eq!(from_body, from_labels);
    }

    #[test]
    fn index_equals_brute_force(
        base in proptest::collection::vec(any::<u64>(), 1..400),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), proptest::collection::vec(0u32..64, 0..9)), 0..400),
        k in 0u32..=7,
    ) {
        let mut fps = base.clone();
        for (i, bits) in &flips {
            let mut f = base[i.index(base.len())];
            for b in bits {
                f ^= 1 << b;
            }
            fps.push(f);
        }
        prop_assert_eq!(pairs_within(&fps, k), pairs_within_brute_force(&fps, k));
    }
}

/// Pages of both synthetic shapes, read from a generated corpus (any encoding).
fn generated_pages(seed: u64, shape: pagesieve::synth::Shape) -> Vec<String> {
    let d = tempfile::tempdir().unwrap();
    pagesieve::synth::generate(
        &pagesieve::synth::Options {
            pages: 30,
            seed,
            sample: false,
            shape,
            encodings: Default::default(),
        },
        d.path(),
    )
    .unwrap();
    let rules = common::compiled();
    let mut names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|path| {
            let file = pagesieve::ingest::InputFile {
                source: "p".into(),
                path,
                walk_error: None,
            };
            let raw = pagesieve::ingest::read_file(&file, &rules.input).ok()?;
            pagesieve::ingest::decode(&raw.bytes, &rules.input)
                .ok()
                .map(|p| p.text)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// The line cache changes nothing: segmenting generated pages (whose related blocks
    /// repeat, so the cache is hit) gives the same parts as without it, whatever the cache
    /// size (a small one is emptied often), and whatever order the pages come in.
    #[test]
    fn line_cache_gives_the_same_parts(seed in 0u64..1000, templated in any::<bool>(), budget in 1usize..200_000) {
        use pagesieve::synth::Shape;
        let shape = if templated { Shape::Templated } else { Shape::Site };
        let pages = generated_pages(seed, shape);
        let base = common::compiled();
        let mut uncached = base.clone();
        uncached.segment = pagesieve::page::SegmentRules::compile(&base.config.profile, &base.config.clean, 0).unwrap();
        let mut cached = base.clone();
        cached.segment = pagesieve::page::SegmentRules::compile(&base.config.profile, &base.config.clean, budget).unwrap();
        for text in pages.iter().chain(pages.iter().rev()) {
            prop_assert_eq!(segment(text, &cached.segment), segment(text, &uncached.segment));
        }
    }
}

fn write_corpus(dir: &Path, pages: &[(String, Vec<u8>)], order: &[usize]) {
    std::fs::create_dir_all(dir).unwrap();
    for &i in order {
        let (name, bytes) = &pages[i];
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// Ids and output do not depend on the order files were created in (so on directory
    /// order) nor on the thread count.
    #[test]
    fn output_is_invariant_under_input_order_and_threads(seed in 0u64..1000, perm_seed in any::<u64>()) {
        let gen = tempfile::tempdir().unwrap();
        pagesieve::synth::generate(
            &pagesieve::synth::Options { pages: 40, seed, sample: false, shape: Default::default(), encodings: Default::default() },
            gen.path(),
        )
        .unwrap();
        let mut pages: Vec<(String, Vec<u8>)> = std::fs::read_dir(gen.path())
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap()))
            .collect();
        pages.sort();
        // Nest some files so the walk order matters more.
        for (i, p) in pages.iter_mut().enumerate() {
            if i % 3 == 0 {
                p.0 = format!("sub{}/{}", i % 2, p.0);
            }
        }
        let forward: Vec<usize> = (0..pages.len()).collect();
        let mut shuffled = forward.clone();
        let mut rng = pagesieve::synth::Rng::new(perm_seed);
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, rng.below(i + 1));
        }
        let d = tempfile::tempdir().unwrap();
        write_corpus(&d.path().join("a"), &pages, &forward);
        write_corpus(&d.path().join("b"), &pages, &shuffled);
        common::run_ok(&d.path().join("a"), &d.path().join("oa"), &["--threads", "1"]);
        common::run_ok(&d.path().join("b"), &d.path().join("ob"), &["--threads", "2"]);
        prop_assert_eq!(
            common::snapshot(&d.path().join("oa")),
            common::snapshot(&d.path().join("ob"))
        );
    }
}
