//! Makes a large dedup index for the nightly bench (`bench/history.sh`): the real entries of
//! one output folder plus `N` synthetic ones (random signatures and hashes, so they match
//! nothing) pointing into an empty stand-in run folder.
//!
//! usage: big_index OUTPUT_DIR N INDEX_DIR

use std::path::PathBuf;

use pagesieve::dedup::minhash::Signature;
use pagesieve::dedup::Fingerprint;
use pagesieve::history::format::{self, Header, RunRef};
use pagesieve::history::{relative, settings, Entries, History, Loc};
use pagesieve::Rules;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: big_index OUTPUT_DIR N INDEX_DIR");
        std::process::exit(2);
    }
    let (from, n, dir) = (
        PathBuf::from(&args[1]),
        args[2].parse::<usize>().expect("N"),
        PathBuf::from(&args[3]),
    );
    let rules = Rules::builtin();
    let real = History::load(std::slice::from_ref(&from), &rules).expect("load the real index");
    std::fs::create_dir_all(dir.join("stand-in")).unwrap();
    for f in ["articles.jsonl", "snippets.jsonl"] {
        std::fs::write(dir.join("stand-in").join(f), "").unwrap();
    }
    let abs = dir.canonicalize().unwrap();
    let mut runs: Vec<RunRef> = real
        .runs
        .iter()
        .map(|r| RunRef {
            path: relative(&abs, &r.dir).display().to_string(),
            started: r.started.clone(),
            articles_bytes: std::fs::metadata(r.dir.join("articles.jsonl"))
                .unwrap()
                .len(),
            snippets_bytes: std::fs::metadata(r.dir.join("snippets.jsonl"))
                .unwrap()
                .len(),
        })
        .collect();
    runs.push(RunRef {
        path: "stand-in".into(),
        started: String::new(),
        articles_bytes: 0,
        snippets_bytes: 0,
    });
    let stand_in = (runs.len() - 1) as u32;
    let (na, ns) = (n * 4 / 5, n - n * 4 / 5);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let synthetic = |count: usize, prefix: &str, seed: &mut u64| -> Entries {
        let mut next = move || {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        };
        let mut e = Entries::with_capacity(count);
        for i in 0..count {
            let mut sig = Signature::default();
            for chunk in sig.0.chunks_mut(8) {
                chunk.copy_from_slice(&next().to_le_bytes());
            }
            e.fps.push(Fingerprint {
                primary: next(),
                more: None,
                exact: [next(), next()],
                chars: 200 + (i % 1500) as u32,
                signature: sig,
            });
            e.locs.push(Loc {
                run: stand_in,
                // Distinct offsets: the loader counts a (run, offset) once.
                offset: i as u64,
                len: 0,
            });
            e.title_keys.push(next());
            e.replacements.push(0);
            e.ids.push(&format!("{prefix}-{:016x}", next()));
            e.sources.push(&format!("synthetic/{i:09}.html"));
        }
        e
    };
    let t = std::time::Instant::now();
    let fake_a = synthetic(na, "a", &mut seed);
    let fake_s = synthetic(ns, "s", &mut seed);
    let s = settings::of(&rules.config.dedup);
    let header = Header {
        format: format::FORMAT,
        tool: format!("pagesieve {}", env!("CARGO_PKG_VERSION")),
        created: String::new(),
        settings_hash: format!("{:016x}", settings::hash(&s)),
        settings: s,
        fingerprints: rules.dedup.fingerprints,
        runs,
        articles: (real.articles.len() + na) as u64,
        snippets: (real.snippets.len() + ns) as u64,
    };
    std::fs::create_dir_all(&dir).unwrap();
    format::write(
        &dir.join(format::FILE_NAME),
        &header,
        &[&real.articles, &fake_a],
        &[&real.snippets, &fake_s],
    )
    .unwrap();
    println!(
        "wrote {} entries ({} real) to {} in {:.1} s",
        header.articles + header.snippets,
        real.articles.len() + real.snippets.len(),
        dir.join(format::FILE_NAME).display(),
        t.elapsed().as_secs_f64()
    );
}
