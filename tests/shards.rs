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

/// A site-shaped and a templated corpus of `pages` pages each under `corpus`, from the
/// seeds `seeds` (each in a folder named after its seed).
fn site_and_templated(corpus: &Path, pages: usize, seeds: (u64, u64)) {
    for (shape, seed) in [
        (pagesieve::synth::Shape::Site, seeds.0),
        (pagesieve::synth::Shape::Templated, seeds.1),
    ] {
        let opts = pagesieve::synth::Options {
            pages,
            seed,
            sample: false,
            shape,
            encodings: Default::default(),
        };
        pagesieve::synth::generate(&opts, &corpus.join(format!("{seed}"))).unwrap();
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
        verify: None,
        write: None,
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
    site_and_templated(&corpus, 400, (12, 13));
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
        let stage = |cols: pagesieve::dedup::columns::Columns<'_>,
                     stats: &mut pagesieve::dedup::DedupStats| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            in_process(&search, &rules.dedup, parts, &cols, stats)
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

/// Phase 2 with the article search's verification and the articles' lines in partition
/// tasks (what the Ray job's `pagesieve.verify[p]` and `pagesieve.write[p]` tasks run:
/// each job file written, run and gathered) gives the CLI's output byte for byte: for 1,
/// 4 and 16 partitions; with the texts read by the tasks from the shard spill files and
/// with every text in the job files; with the
/// candidate stage in partitions too; with learned boilerplate stripped (records phase 2
/// spills again, which no task can read where they are); and on a second night against
/// the first, where the earlier records' texts come from the index.
#[test]
fn verification_in_tasks_gives_the_cli_output_byte_for_byte() {
    use pagesieve::run::file_tasks::FileTasks;
    use pagesieve::run::verification::in_process;
    let d = tempfile::tempdir().unwrap();
    let corpus = d.path().join("corpus");
    site_and_templated(&corpus, 300, (22, 23));
    for strip in [false, true] {
        let profile = format!(
            "{}\n[boilerplate]\nstrip = {strip}\n",
            pagesieve::config::BUILTIN_PROFILE
        );
        let rules = Rules::from_text(&profile, "test profile").unwrap();
        let one = d.path().join(format!("one-{strip}"));
        let s = Settings::new(corpus.clone(), one.clone(), rules.clone());
        run(&s).unwrap();
        let report = common::report(&one);
        let near = report["articles"]["dropped_near"].as_u64().unwrap();
        assert!(near > 0, "{}", report["articles"]);
        let listing = list(&s).unwrap();
        let total = listing.files.len();
        let work = d.path().join(format!("work-{strip}"));
        scan_shard(
            listing.files[..total / 2].to_vec(),
            of(&corpus, total),
            &rules,
            &work,
            0,
        )
        .unwrap();
        let second: Vec<_> = listing.files[total / 2..].to_vec();
        scan_shard(second, of(&corpus, total), &rules, &work, 1).unwrap();
        for (parts, inline, candidates) in [(1, false, false), (4, true, false), (16, false, true)]
        {
            let out = d.path().join(format!("v-{strip}-{parts}"));
            let s = Settings::new(corpus.clone(), out.clone(), rules.clone());
            let dir = work.join("verify");
            let calls = std::sync::atomic::AtomicUsize::new(0);
            let run_jobs = |jobs: &[std::path::PathBuf]| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                assert!(jobs.len() <= parts as usize);
                let (refs, texts) = text_places(jobs);
                assert!(texts > 0 || !inline, "inline: every text in the job");
                assert!(refs == 0 || !inline, "inline: no reference");
                assert!(refs > 0 || inline, "by reference: the shard spill files");
                in_process(jobs, &rules.dedup)
            };
            let search = work.join("search");
            let stage = |cols: pagesieve::dedup::columns::Columns<'_>,
                         stats: &mut pagesieve::dedup::DedupStats| {
                pagesieve::run::partitions::in_process(&search, &rules.dedup, parts, &cols, stats)
            };
            let write_dir = work.join("write");
            let writes = std::sync::atomic::AtomicUsize::new(0);
            let run_plans = |plans: &[std::path::PathBuf]| {
                writes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                assert!(!plans.is_empty() && plans.len() <= parts as usize);
                pagesieve::run::write_parts::in_process(plans)
            };
            let finish = Finish {
                candidates: candidates.then_some(&stage as _),
                verify: Some(FileTasks {
                    dir: &dir,
                    parts,
                    inline,
                    run: &run_jobs,
                }),
                write: Some(FileTasks {
                    dir: &write_dir,
                    parts,
                    inline,
                    run: &run_plans,
                }),
                ..Finish::default()
            };
            let phase1 = Phase1::Shards {
                dir: work.clone(),
                count: 2,
                pages: total,
            };
            run_shards(&s, phase1, list(&s).unwrap().split().1, finish).unwrap();
            let (a, b) = (snapshot(&one), snapshot(&out));
            for (i, f) in FILES.iter().enumerate() {
                assert!(
                    a[i] == b[i],
                    "strip {strip}, {parts} partitions: {f} differs"
                );
            }
            assert_eq!(calls.into_inner(), 1, "the article verification, once");
            assert_eq!(writes.into_inner(), 1, "the articles' lines, once");
            assert!(!dir.exists(), "the verification files are removed");
            assert!(!write_dir.exists(), "the writers' files are removed");
        }
        if strip {
            let learned = &common::report(&one)["learned_boilerplate"];
            assert!(learned["stripped_pages"].as_u64().unwrap() > 0, "{learned}");
            continue;
        }
        // A second night: edited copies of some of the first night's pages, against it.
        let night2 = d.path().join("night2");
        let utf8 = listing.files.iter().filter_map(|f| {
            let text = std::fs::read_to_string(&f.path).ok()?;
            text.contains("整理如下").then_some((f, text))
        });
        for (f, text) in utf8.take(80) {
            let edited = text.replacen("整理如下", "最新整理如下", 1);
            let to = night2.join(&f.source);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(to, edited).unwrap();
        }
        let against = |out: &Path| {
            let mut s = Settings::new(night2.clone(), out.to_path_buf(), rules.clone());
            s.against = vec![one.clone()];
            s
        };
        let cli = d.path().join("night2-cli");
        run(&against(&cli)).unwrap();
        let a = &common::report(&cli)["articles"];
        assert!(a["dropped_against_earlier"].as_u64().unwrap() > 0, "{a}");
        let listing2 = list(&against(&cli)).unwrap();
        let n2 = listing2.files.len();
        let work2 = d.path().join("work-night2");
        scan_shard(listing2.files, of(&night2, n2), &rules, &work2, 0).unwrap();
        let out = d.path().join("night2-tasks");
        let dir = work2.join("verify");
        let texts_seen = std::sync::atomic::AtomicUsize::new(0);
        let run_jobs = |jobs: &[std::path::PathBuf]| {
            texts_seen.fetch_add(text_places(jobs).1, std::sync::atomic::Ordering::Relaxed);
            in_process(jobs, &rules.dedup)
        };
        let write_dir = work2.join("write");
        let run_plans =
            |plans: &[std::path::PathBuf]| pagesieve::run::write_parts::in_process(plans);
        let finish = Finish {
            verify: Some(FileTasks {
                dir: &dir,
                parts: 3,
                inline: false,
                run: &run_jobs,
            }),
            write: Some(FileTasks {
                dir: &write_dir,
                parts: 3,
                inline: false,
                run: &run_plans,
            }),
            ..Finish::default()
        };
        let phase1 = Phase1::Shards {
            dir: work2.clone(),
            count: 1,
            pages: n2,
        };
        let s2 = against(&out);
        run_shards(&s2, phase1, list(&s2).unwrap().split().1, finish).unwrap();
        assert!(
            texts_seen.into_inner() > 0,
            "the earlier records' texts, by value"
        );
        let (a, b) = (snapshot(&cli), snapshot(&out));
        for (i, f) in FILES.iter().enumerate() {
            assert!(a[i] == b[i], "night 2 against night 1: {f} differs");
        }
    }
}

/// How many members of these verification jobs have their text by reference and how
/// many in the job itself.
fn text_places(jobs: &[std::path::PathBuf]) -> (usize, usize) {
    use pagesieve::dedup::verify_parts::{PartJob, TextAt};
    let (mut refs, mut texts) = (0, 0);
    for j in jobs {
        let job = PartJob::decode(&std::fs::read(j).unwrap()).unwrap();
        for m in &job.members {
            match m.text {
                TextAt::Record { .. } => refs += 1,
                TextAt::Text(_) => texts += 1,
            }
        }
    }
    (refs, texts)
}

/// Phase 2 with verification and writer tasks over input with nothing for them: pages
/// that are all rejects (no article, so no plan and no component), and one article
/// alone (a plan, no component). The CLI's files, no task called for nothing, no folder
/// left.
#[test]
fn tasks_with_nothing_to_do_give_the_cli_output() {
    use pagesieve::run::file_tasks::FileTasks;
    let d = tempfile::tempdir().unwrap();
    for (name, files) in [
        ("rejects", vec![("a.txt", &b""[..]), ("b.bin", &b"\x00\x01\x02\x03binary"[..])]),
        (
            "one",
            vec![(
                "page.txt",
                "医保个人账户怎么用\n\n个人账户的钱可以在定点药店买药，也可以支付门诊自付部分，各地规定略有不同，请以当地医保局公布的为准。".as_bytes(),
            )],
        ),
    ] {
        let input = d.path().join(name);
        std::fs::create_dir_all(&input).unwrap();
        for (f, bytes) in files {
            std::fs::write(input.join(f), bytes).unwrap();
        }
        let cli = d.path().join(format!("{name}-cli"));
        run(&Settings::new(input.clone(), cli.clone(), Rules::builtin())).unwrap();
        let s = Settings::new(input.clone(), d.path().join(format!("{name}-tasks")), Rules::builtin());
        let listing = list(&s).unwrap();
        let total = listing.files.len();
        let work = d.path().join(format!("{name}-work"));
        scan_shard(listing.files, of(&input, total), &s.rules, &work, 0).unwrap();
        let (verify_dir, write_dir) = (work.join("verify"), work.join("write"));
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let verify = |jobs: &[std::path::PathBuf]| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            pagesieve::run::verification::in_process(jobs, &s.rules.dedup)
        };
        let write = |plans: &[std::path::PathBuf]| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            pagesieve::run::write_parts::in_process(plans)
        };
        let tasks = |dir, run| FileTasks {
            dir,
            parts: 4,
            inline: false,
            run,
        };
        let finish = Finish {
            verify: Some(tasks(&verify_dir, &verify)),
            write: Some(tasks(&write_dir, &write)),
            ..Finish::default()
        };
        let phase1 = Phase1::Shards {
            dir: work.clone(),
            count: 1,
            pages: total,
        };
        run_shards(&s, phase1, list(&s).unwrap().split().1, finish).unwrap();
        let (a, b) = (snapshot(&cli), snapshot(&s.output));
        for (i, f) in FILES.iter().enumerate() {
            assert!(a[i] == b[i], "{name}: {f} differs");
        }
        let called = calls.into_inner();
        assert_eq!(called, usize::from(name == "one"), "{name}: the writer only, for one article");
        assert!(!verify_dir.exists() && !write_dir.exists(), "{name}: folders left");
    }
}
