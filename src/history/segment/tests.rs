//! Segments against brute force: what is written reads back; every lookup finds exactly the
//! entries whose key is asked for; a merge equals a segment written from the merged
//! entries; damage is found where it is read.

use std::sync::Arc;

use crate::dedup::lsh::Bands;
use crate::dedup::minhash::Signature;
use crate::dedup::Fingerprint;
use crate::history::build::write_new_segment;
use crate::history::compact::{merge, Input};
use crate::history::rows::IndexRows;
use crate::history::segment::{id_key, RunCount, Segment, SegmentParams, WideTable};
use crate::history::{Entries, Loc};
use crate::record::RecordKind;
use crate::rules::Rules;
use crate::synth::Rng;

fn params(fingerprints: usize, runs: &[(&str, u64, u64)]) -> SegmentParams {
    SegmentParams {
        id: format!("{:016x}", crate::generation::token()),
        settings_hash: "0".into(),
        fingerprints,
        bands: Bands { bands: 64, rows: 4 },
        min_chars_near: 20,
        runs: runs
            .iter()
            .map(|&(uid, articles, snippets)| RunCount {
                uid: uid.into(),
                articles,
                snippets,
            })
            .collect(),
    }
}

/// `n` entries in `runs` runs; keys drawn from small ranges so that many entries share one
/// (groups and fences are crossed), a few too short for the band tables.
fn entries(rng: &mut Rng, n: usize, runs: u32, fingerprints: usize) -> Entries {
    let mut e = Entries::with_capacity(n);
    for i in 0..n {
        let mut sig = Signature::default();
        for b in sig.0.iter_mut() {
            *b = (rng.next_u64() % 3) as u8;
        }
        let more = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
        e.fps.push(Fingerprint {
            primary: rng.next_u64(),
            more: (fingerprints > 1).then(|| Box::new(more)),
            exact: [rng.next_u64() % 700, rng.next_u64()],
            chars: if i % 17 == 0 { 5 } else { 30 + i as u32 },
        });
        e.sigs.push(sig);
        e.locs.push(Loc {
            run: i as u32 % runs,
            offset: 100 * i as u64,
            len: 50 + i as u32,
        });
        e.title_keys.push(rng.next_u64() % 500);
        e.replacements.push(i as u32 % 3);
        let suffix = if i % 11 == 0 { "-2" } else { "" };
        e.ids
            .push(&format!("a-{:016x}{suffix}", rng.next_u64() % 900));
        e.sources.push(&format!("页面/{i}.txt"));
    }
    e
}

fn counts(e: &Entries, uids: &[&str]) -> Vec<(String, u64)> {
    uids.iter()
        .enumerate()
        .map(|(r, u)| {
            let n = e.locs.iter().filter(|l| l.run == r as u32).count() as u64;
            (u.to_string(), n)
        })
        .collect()
}

fn write(dir: &std::path::Path, a: &Entries, s: &Entries, f: usize, uids: &[&str]) -> Segment {
    let ca = counts(a, uids);
    let cs = counts(s, uids);
    let runs: Vec<(&str, u64, u64)> = uids
        .iter()
        .enumerate()
        .map(|(r, u)| (*u, ca[r].1, cs[r].1))
        .collect();
    let seg = write_new_segment(dir, &params(f, &runs), a, s).unwrap();
    Segment::open(&dir.join(seg.file)).unwrap()
}

/// Every entry of `kind` whose key in a table is one of `keys`, by brute force.
fn brute(rows: &dyn IndexRows, key: impl Fn(usize) -> Option<u64>, keys: &[u64]) -> Vec<u32> {
    (0..rows.len())
        .filter(|&i| key(i).is_some_and(|k| keys.contains(&k)))
        .map(|i| i as u32)
        .collect()
}

fn check_lookups(seg: &Segment, kind: RecordKind, rows: &dyn IndexRows, rng: &mut Rng) {
    let v = seg.kind(kind);
    for _ in 0..20 {
        let mut keys: Vec<u64> = (0..1 + rng.below(40))
            .map(|_| rng.next_u64() % 1000)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for t in WideTable::ALL {
            if t == WideTable::Titles && kind == RecordKind::Snippet {
                continue;
            }
            let mut got = Vec::new();
            let ids: Vec<u64> = match t {
                WideTable::Ids => keys
                    .iter()
                    .map(|&k| id_key(&format!("a-{k:016x}")))
                    .collect(),
                _ => keys.clone(),
            };
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            v.find_wide(t, &sorted, &mut got).unwrap();
            let want = brute(
                rows,
                |i| {
                    Some(match t {
                        WideTable::Exact => rows.row(i).exact[0],
                        WideTable::Titles => rows.row(i).title_key,
                        WideTable::Ids => id_key(&rows.id(i)),
                    })
                },
                &ids,
            );
            assert_eq!(got, want, "{t:?}");
        }
        let band = rng.below(64);
        let mut bk: Vec<u32> = (0..1 + rng.below(30))
            .map(|_| {
                let i = rng.below(rows.len());
                rows.signature(i).band_key(band, 4)
            })
            .collect();
        bk.push(0x7f7f_7f7f);
        bk.sort_unstable();
        bk.dedup();
        let mut got = Vec::new();
        v.find_band(band, &bk, &mut got).unwrap();
        let keys64: Vec<u64> = bk.iter().map(|&k| u64::from(k)).collect();
        let want = brute(
            rows,
            |i| (rows.row(i).chars >= 20).then(|| u64::from(rows.signature(i).band_key(band, 4))),
            &keys64,
        );
        assert_eq!(got, want, "band {band}");
    }
}

#[test]
fn what_is_written_reads_back_and_lookups_equal_brute_force() {
    let d = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(5);
    for f in [1, 4] {
        let a = entries(&mut rng, 3000, 2, f);
        let s = entries(&mut rng, 700, 2, f);
        let seg = write(d.path(), &a, &s, f, &["r0", "r1"]);
        for (kind, rows) in [(RecordKind::Article, &a), (RecordKind::Snippet, &s)] {
            let v = seg.kind(kind);
            assert_eq!(v.len(), rows.len());
            for i in (0..rows.len()).step_by(7) {
                let (row, sref) = v.row(i).unwrap();
                assert_eq!(row, rows.row(i));
                assert_eq!(v.fingerprint(i).unwrap(), rows.fps[i]);
                assert_eq!(v.strings(i, sref).unwrap(), (&*rows.id(i), rows.source(i)));
            }
            check_lookups(&seg, kind, rows, &mut rng);
        }
        seg.verify_all().unwrap();
    }
}

#[test]
fn an_empty_segment_is_valid() {
    let d = tempfile::tempdir().unwrap();
    let seg = write(
        d.path(),
        &Entries::default(),
        &Entries::default(),
        1,
        &["r"],
    );
    let mut out = Vec::new();
    seg.kind(RecordKind::Article)
        .find_wide(WideTable::Exact, &[1, 2], &mut out)
        .unwrap();
    seg.kind(RecordKind::Article)
        .find_band(3, &[1], &mut out)
        .unwrap();
    assert!(out.is_empty());
    seg.verify_all().unwrap();
}

#[test]
fn a_merge_equals_the_merged_entries_written_at_once() {
    let d = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(9);
    let (a1, s1) = (entries(&mut rng, 900, 2, 1), entries(&mut rng, 300, 2, 1));
    let (a2, s2) = (entries(&mut rng, 1200, 1, 1), entries(&mut rng, 100, 1, 1));
    let seg1 = Arc::new(write(d.path(), &a1, &s1, 1, &["x", "y"]));
    let seg2 = Arc::new(write(d.path(), &a2, &s2, 1, &["z"]));
    // Index runs: x = 0, y = 1 (left out), z = 2.
    let uids = ["x".to_string(), "y".to_string(), "z".to_string()];
    let inputs = [
        Input {
            segment: Arc::clone(&seg1),
            runs: vec![Some(0), None],
        },
        Input {
            segment: Arc::clone(&seg2),
            runs: vec![Some(2)],
        },
    ];
    let rules = Rules::builtin();
    let (sref, runs) = merge(d.path(), &inputs, &uids, &rules).unwrap();
    assert_eq!(runs, [Some(0), Some(2)]);
    let merged = Segment::open(&d.path().join(&sref.file)).unwrap();
    // The same entries, in memory: run x of segment 1, then segment 2; runs renumbered.
    let visible = |e: &Entries, keep: u32, to: u32| -> Entries {
        let mut out = Entries::default();
        for i in 0..e.len() {
            if e.locs[i].run == keep {
                out.fps.push(e.fps[i].clone());
                out.sigs.push(e.sigs[i]);
                out.locs.push(Loc {
                    run: to,
                    ..e.locs[i]
                });
                out.title_keys.push(e.title_keys[i]);
                out.replacements.push(e.replacements[i]);
                out.ids.push(e.ids.get(i));
                out.sources.push(e.sources.get(i));
            }
        }
        out
    };
    let join = |x: Entries, y: Entries| -> Entries {
        let mut out = x;
        for i in 0..y.len() {
            out.fps.push(y.fps[i].clone());
            out.sigs.push(y.sigs[i]);
            out.locs.push(y.locs[i]);
            out.title_keys.push(y.title_keys[i]);
            out.replacements.push(y.replacements[i]);
            out.ids.push(y.ids.get(i));
            out.sources.push(y.sources.get(i));
        }
        out
    };
    let a = join(visible(&a1, 0, 0), visible(&a2, 0, 1));
    let s = join(visible(&s1, 0, 0), visible(&s2, 0, 1));
    assert_eq!(sref.articles, a.len() as u64);
    for (kind, rows) in [(RecordKind::Article, &a), (RecordKind::Snippet, &s)] {
        let v = merged.kind(kind);
        assert_eq!(v.len(), rows.len());
        for i in 0..rows.len() {
            assert_eq!(v.row(i).unwrap().0, rows.row(i), "{kind:?} {i}");
        }
        check_lookups(&merged, kind, rows, &mut rng);
    }
}

#[test]
fn a_damaged_block_is_found_when_it_is_read() {
    let d = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(3);
    let a = entries(&mut rng, 2000, 1, 1);
    let seg = write(d.path(), &a, &Entries::default(), 1, &["r"]);
    let path = seg.path().to_path_buf();
    let rows_at = seg.header.articles.rows[0];
    drop(seg);
    // One byte of the rows' second block.
    let mut bytes = std::fs::read(&path).unwrap();
    let at = (rows_at / 4096 + 1) * 4096 + 10;
    bytes[at as usize] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let seg = Segment::open(&path).unwrap();
    let v = seg.kind(RecordKind::Article);
    let hit = ((at - rows_at) / 72) as usize;
    let e = v.row(hit).unwrap_err();
    assert!(e.contains("does not match its checksum"), "{e}");
    // Rows in other blocks still read.
    assert_eq!(v.row(0).unwrap().0, a.row(0));
    assert!(seg.verify_all().is_err());
}
