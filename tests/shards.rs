//! A run split into shards (what the Ray job does, without Ray): phase 1 over contiguous
//! shards of the file list, each written to its own files, then phase 2 over the shard
//! files — the same output files, byte for byte, as one `pagesieve run`.

mod common;

use std::path::Path;

use common::{snapshot, FILES};
use pagesieve::run::shard::{scan_shard, shard_file};
use pagesieve::run::{list, run, run_shards, Phase1, Settings};
use pagesieve::Rules;

fn sharded(input: &Path, out: &Path, work: &Path, per_shard: usize) {
    let s = Settings::new(input.into(), out.into(), Rules::builtin());
    let listing = list(&s).unwrap();
    let total = listing.files.len();
    let mut count = 0;
    // Shards in reverse order: each is a pure function of its files.
    let shards: Vec<_> = listing.files.chunks(per_shard).enumerate().collect();
    for (i, files) in shards.into_iter().rev() {
        scan_shard(files, total, &s.rules, work, i as u32).unwrap();
        count += 1;
    }
    let phase1 = Phase1::Shards {
        dir: work.into(),
        count,
        pages: total,
    };
    run_shards(&s, phase1, listing.split().1).unwrap();
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
    scan_shard(&listing.files[..10], n, &s.rules, &work, 0).unwrap();
    let first = std::fs::read(shard_file(&work, 0, "pages")).unwrap();
    let spill = std::fs::read(shard_file(&work, 0, "spill")).unwrap();
    scan_shard(&listing.files[..10], n, &s.rules, &work, 0).unwrap();
    assert_eq!(first, std::fs::read(shard_file(&work, 0, "pages")).unwrap());
    assert_eq!(spill, std::fs::read(shard_file(&work, 0, "spill")).unwrap());
    std::fs::write(shard_file(&work, 0, "pages"), &first[..first.len() / 2]).unwrap();
    let phase1 = Phase1::Shards {
        dir: work.clone(),
        count: 1,
        pages: 10,
    };
    let err = run_shards(&s, phase1, Default::default()).unwrap_err();
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
    };
    pagesieve::synth::generate(&opts, &corpus).unwrap();
    let s = Settings::new(corpus.clone(), d.path().join("out"), Rules::builtin());
    let listing = list(&s).unwrap();
    let work = d.path().join("work");
    // A shard of a run over a million pages: one page in ~200 is in the learned-boilerplate
    // sample (which keeps its lines), as in the runs this is for.
    scan_shard(&listing.files, 1_000_000, &s.rules, &work, 0).unwrap();
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
