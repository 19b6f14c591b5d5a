//! A run split into shards (what the Ray job does, without Ray): phase 1 over contiguous
//! shards of the file list, each written to its own files, then phase 2 over the shard
//! files — the same output files, byte for byte, as one `pagesieve run`.

mod common;

use std::path::Path;

use common::{snapshot, FILES};
use pagesieve::run::shard::{scan_shard, shard_file, ShardOf};
use pagesieve::run::{list, run, run_shards, Finish, Phase1, Settings};
use pagesieve::Rules;

/// A shard of a run over `total` files under `input`, symlinks not followed.
fn of(input: &Path, total: usize) -> ShardOf<'_> {
    ShardOf {
        total_files: total,
        input,
        follow_symlinks: false,
    }
}

fn sharded(input: &Path, out: &Path, work: &Path, per_shard: usize) {
    let s = Settings::new(input.into(), out.into(), Rules::builtin());
    let listing = list(&s).unwrap();
    let total = listing.files.len();
    let mut count = 0;
    // Shards in reverse order: each is a pure function of its files.
    let shards: Vec<_> = listing.files.chunks(per_shard).enumerate().collect();
    for (i, files) in shards.into_iter().rev() {
        scan_shard(files.to_vec(), of(input, total), &s.rules, work, i as u32).unwrap();
        count += 1;
    }
    let phase1 = Phase1::Shards {
        dir: work.into(),
        count,
        pages: total,
    };
    run_shards(&s, phase1, listing.split().1, Finish::default()).unwrap();
}

#[test]
fn shards_give_the_cli_output_byte_for_byte() {
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("corpus");
    pagesieve::synth::generate(
        &pagesieve::synth::Options {
            pages: 700,
            seed: 11,
            sample: false,
            shape: pagesieve::synth::Shape::Site,
            encodings: Default::default(),
        },
        &corpus,
    )
    .unwrap();
    for (name, input) in [("sample", common::repo().join("input")), ("site", corpus)] {
        let one = d.path().join(format!("{name}-one"));
        let s = Settings::new(input.clone(), one.clone(), Rules::builtin());
        run(&s).unwrap();
        for per in [1, 7, 250] {
            let out = d.path().join(format!("{name}-sharded-{per}"));
            let work = d.path().join(format!("{name}-work-{per}"));
            sharded(&input, &out, &work, per);
            let (a, b) = (snapshot(&one), snapshot(&out));
            for (i, f) in FILES.iter().enumerate() {
                assert!(a[i] == b[i], "{name}, {per} files a shard: {f} differs");
            }
        }
    }
}

#[test]
fn a_shard_rewritten_gives_the_same_bytes_and_a_damaged_one_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let input = common::repo().join("input");
    let s = Settings::new(input.clone(), d.path().join("out"), Rules::builtin());
    let listing = list(&s).unwrap();
    let n = listing.files.len();
    let work = d.path().join("work");
    scan_shard(
        listing.files[..10].to_vec(),
        of(&input, n),
        &s.rules,
        &work,
        0,
    )
    .unwrap();
    let first = std::fs::read(shard_file(&work, 0, "pages")).unwrap();
    let spill = std::fs::read(shard_file(&work, 0, "spill")).unwrap();
    scan_shard(
        listing.files[..10].to_vec(),
        of(&input, n),
        &s.rules,
        &work,
        0,
    )
    .unwrap();
    assert_eq!(first, std::fs::read(shard_file(&work, 0, "pages")).unwrap());
    assert_eq!(spill, std::fs::read(shard_file(&work, 0, "spill")).unwrap());
    std::fs::write(shard_file(&work, 0, "pages"), &first[..first.len() / 2]).unwrap();
    let phase1 = Phase1::Shards {
        dir: work.clone(),
        count: 1,
        pages: 10,
    };
    let err = run_shards(&s, phase1, Default::default(), Finish::default()).unwrap_err();
    assert!(err.to_string().contains("shard-000000.pages"), "{err}");
    assert!(!d.path().join("out/articles.jsonl").exists());
}

#[test]
fn a_related_block_is_written_once_per_shard_and_named_by_its_key_after() {
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("corpus");
    let opts = pagesieve::synth::Options {
        pages: 400,
        seed: 3,
        sample: false,
        shape: pagesieve::synth::Shape::Site,
        encodings: Default::default(),
    };
    pagesieve::synth::generate(&opts, &corpus).unwrap();
    let s = Settings::new(corpus.clone(), d.path().join("out"), Rules::builtin());
    let listing = list(&s).unwrap();
    let work = d.path().join("work");
    // A shard of a run over a million pages: one page in ~200 is in the learned-boilerplate
    // sample (which keeps its lines), as in the runs this is for.
    scan_shard(
        listing.files.clone(),
        of(&corpus, 1_000_000),
        &s.rules,
        &work,
        0,
    )
    .unwrap();
    let pages = std::fs::metadata(shard_file(&work, 0, "pages"))
        .unwrap()
        .len();
    // Site-shaped pages carry 12–20 blocks of ~600 bytes from a pool of a few hundred:
    // written at every occurrence that is ~10 KB a page.
    let per_page = pages / listing.files.len() as u64;
    assert!(
        per_page < 2_500,
        "{per_page} bytes a page in shard-000000.pages"
    );
}

/// Phase 2 of a distributed run with its driver's facts: what `extra` writes into the
/// staging folder is published with the generation, and a failing `extra` publishes
/// nothing (the previous output stays whole); `report.json`'s total is the job's clock.
#[test]
fn what_the_driver_adds_before_the_commit_is_published_with_the_run_or_not_at_all() {
    let d = tempfile::tempdir().unwrap();
    let input = common::repo().join("input");
    let out = d.path().join("out");
    let s = Settings::new(input.clone(), out.clone(), Rules::builtin());
    let listing = list(&s).unwrap();
    let total = listing.files.len();
    let work = d.path().join("work");
    scan_shard(listing.files.clone(), of(&input, total), &s.rules, &work, 0).unwrap();
    let phase1 = || Phase1::Shards {
        dir: work.clone(),
        count: 1,
        pages: total,
    };
    let write = |dir: &Path| -> Result<(), pagesieve::Error> {
        std::fs::write(dir.join("articles.parquet"), b"PAR1 a copy")
            .map_err(pagesieve::Error::output(dir))
    };
    let finish = Finish {
        before: std::time::Duration::from_secs(5),
        phases: vec![("ray_scan".into(), std::time::Duration::from_secs(4))],
        extra: Some(&write),
        candidates: None,
    };
    let walked = || list(&s).unwrap().split().1;
    run_shards(&s, phase1(), walked(), finish).unwrap();
    assert_eq!(
        std::fs::read(out.join("articles.parquet")).unwrap(),
        b"PAR1 a copy"
    );
    assert_eq!(
        std::fs::read_link(out.join("articles.parquet")).unwrap(),
        Path::new(".pagesieve/current/articles.parquet")
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let t = &report["timings_ms"];
    assert_eq!(t["ray_scan"], 4000);
    assert!(t["total"].as_u64().unwrap() >= 5000, "{t}");
    let before = snapshot(&out);

    let fail = |_: &Path| -> Result<(), pagesieve::Error> {
        Err(pagesieve::Error::Usage("the Parquet writer failed".into()))
    };
    let finish = Finish {
        extra: Some(&fail),
        ..Finish::default()
    };
    let err = run_shards(&s, phase1(), walked(), finish).unwrap_err();
    assert!(err.to_string().contains("Parquet writer failed"), "{err}");
    assert!(
        snapshot(&out) == before,
        "a failed extra left the previous output whole"
    );
    assert_eq!(
        std::fs::read(out.join("articles.parquet")).unwrap(),
        b"PAR1 a copy"
    );

    // A run without the copies takes the old ones away with their generation, and a
    // plain file an older Ray job left beside the output goes too.
    run(&s).unwrap();
    assert!(std::fs::symlink_metadata(out.join("articles.parquet")).is_err());
    std::fs::write(out.join("dropped.parquet"), b"an older job's copy").unwrap();
    run(&s).unwrap();
    assert!(std::fs::symlink_metadata(out.join("dropped.parquet")).is_err());
}

/// A file swapped for a symlink out of the input between the listing and a shard task's
/// read is refused at open time, as in the CLI (`outside_input`), and its bytes are
/// nowhere in the output.
#[test]
fn a_shard_task_refuses_a_file_swapped_for_a_symlink_out_of_the_input() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("pages");
    std::fs::create_dir(&input).unwrap();
    for f in ["page_000.txt", "page_001.txt"] {
        std::fs::copy(common::repo().join("input").join(f), input.join(f)).unwrap();
    }
    let secret = d.path().join("secret.txt");
    std::fs::write(&secret, "机密文件的标题\n不应该出现在输出里的一段内容。\n").unwrap();
    let out = d.path().join("out");
    let s = Settings::new(input.clone(), out.clone(), Rules::builtin());
    let listing = list(&s).unwrap();
    std::fs::remove_file(input.join("page_000.txt")).unwrap();
    std::os::unix::fs::symlink(&secret, input.join("page_000.txt")).unwrap();
    let work = d.path().join("work");
    scan_shard(listing.files.clone(), of(&input, 2), &s.rules, &work, 0).unwrap();
    let phase1 = Phase1::Shards {
        dir: work,
        count: 1,
        pages: 2,
    };
    run_shards(&s, phase1, listing.split().1, Finish::default()).unwrap();
    let rejects = std::fs::read_to_string(out.join("rejects.jsonl")).unwrap();
    assert!(
        rejects.contains(r#""source":"page_000.txt","reason":"outside_input""#),
        "{rejects}"
    );
    for f in FILES {
        let text = std::fs::read_to_string(out.join(f)).unwrap_or_default();
        assert!(!text.contains("机密"), "{f} holds the secret");
    }
}

/// Phase 2 with the article search's candidate stage in partitions (what the Ray job's
/// `partitions=N` runs as tasks: both rounds through their files) gives the CLI's
/// output byte for byte, for any number of partitions, with both generators and buckets
/// small enough to be oversized.
#[test]
fn partitioned_candidates_give_the_cli_output_byte_for_byte() {
    use pagesieve::run::partitions::in_process;
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("corpus");
    for (shape, seed) in [
        (pagesieve::synth::Shape::Site, 12),
        (pagesieve::synth::Shape::Templated, 13),
    ] {
        let opts = pagesieve::synth::Options {
            pages: 400,
            seed,
            sample: false,
            shape,
            encodings: Default::default(),
        };
        pagesieve::synth::generate(&opts, &corpus.join(format!("{seed}"))).unwrap();
    }
    let profile = format!(
        "{}\n[dedup]\ncandidates = [\"lsh\", \"simhash\"]\nmax_bucket = 6\n",
        pagesieve::config::BUILTIN_PROFILE
    );
    let rules = Rules::from_text(&profile, "test profile").unwrap();
    let one = d.path().join("one");
    let s = Settings::new(corpus.clone(), one.clone(), rules.clone());
    run(&s).unwrap();
    let report = common::report(&one);
    assert!(
        report["dedup"]["articles"]["oversized_buckets"]
            .as_u64()
            .unwrap()
            > 0,
        "{}",
        report["dedup"]
    );
    let listing = list(&s).unwrap();
    let total = listing.files.len();
    let work = d.path().join("work");
    scan_shard(listing.files.clone(), of(&corpus, total), &rules, &work, 0).unwrap();
    for parts in [1, 4, 16] {
        let out = d.path().join(format!("parts-{parts}"));
        let s = Settings::new(corpus.clone(), out.clone(), rules.clone());
        let search = work.join("search");
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let stage = |cols: &pagesieve::dedup::columns::Columns<'_>,
                     stats: &mut pagesieve::dedup::DedupStats| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            in_process(&search, &rules.dedup, parts, cols, stats)
        };
        let finish = Finish {
            candidates: Some(&stage),
            ..Finish::default()
        };
        let phase1 = Phase1::Shards {
            dir: work.clone(),
            count: 1,
            pages: total,
        };
        run_shards(&s, phase1, list(&s).unwrap().split().1, finish).unwrap();
        let (a, b) = (snapshot(&one), snapshot(&out));
        for (i, f) in FILES.iter().enumerate() {
            assert!(a[i] == b[i], "{parts} partitions: {f} differs");
        }
        assert_eq!(
            calls.into_inner(),
            1,
            "the article search's candidates, once"
        );
        assert_eq!(std::fs::read_dir(&search).unwrap().count(), 0, "files left");
    }
}
