//! The commit of output and index as one step, and the locks around it.
//!
//! A run is killed at every point of its commit (`PAGESIEVE_FAULT`, [`pagesieve::fault`]),
//! with the index in the output and with a rolling `--index DIR`; the output is then the
//! previous one or the new one, whole, and the next night — run as a user would, night 2
//! again if it did not land, else night 3 — gives what an uninterrupted series gives, with
//! no duplicate of night 2 let back in. Two runs never share a folder: the second stops at
//! once naming the first (or waits with `--wait`), and never removes the first's files.

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{jsonl, pagesieve, pagesieve_env, run_args};

/// A site-shaped corpus split into three nights by sorted path.
fn nights(root: &Path, pages: usize) -> [PathBuf; 3] {
    let all = root.join("all-pages");
    pagesieve::synth::generate(
        &pagesieve::synth::Options {
            pages,
            seed: 11,
            sample: false,
            shape: pagesieve::synth::Shape::Site,
            encodings: Default::default(),
        },
        &all,
    )
    .unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&all)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    let dirs = [1, 2, 3].map(|k| root.join(format!("in{k}")));
    for (i, f) in files.iter().enumerate() {
        let to = dirs[(i * 3 / files.len()).min(2)].join(f.file_name().unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(f, to).unwrap();
    }
    dirs
}

fn run(input: &Path, output: &Path, extra: &[&str], fault: Option<&str>) -> std::process::Output {
    let mut args = run_args(input, output);
    args.extend_from_slice(extra);
    match fault {
        Some(f) => pagesieve_env(&args, &[(pagesieve::fault::ENV, f)]),
        None => pagesieve(&args),
    }
}

fn ok(o: std::process::Output) {
    assert!(
        o.status.success(),
        "pagesieve failed ({:?}):\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The record files of an output with what names the run's folders blanked: `earlier`
/// points into another folder in each series.
fn records(out: &Path) -> BTreeMap<&'static str, String> {
    let blank = |s: String| -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s.as_str();
        while let Some(at) = rest.find("\"earlier\":{") {
            out.push_str(&rest[..at]);
            let end = at + rest[at..].find('}').unwrap() + 1;
            let inner = &rest[at..end];
            let offset = inner.find("\"offset\":").map(|o| {
                let v = &inner[o..];
                &v[..v.find(',').unwrap_or(v.len())]
            });
            out.push_str(&format!("\"earlier\":{{{}}}", offset.unwrap_or("")));
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    };
    [
        "articles.jsonl",
        "snippets.jsonl",
        "dropped.jsonl",
        "duplicates.jsonl",
        "rejects.jsonl",
    ]
    .into_iter()
    .map(|f| {
        (
            f,
            blank(std::fs::read_to_string(out.join(f)).unwrap_or_default()),
        )
    })
    .collect()
}

/// Whether a kill left the run's output published.
fn landed(out: &Path) -> bool {
    out.join("report.json").is_file()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else if t.is_symlink() {
            let target = std::fs::read_link(e.path()).unwrap();
            std::os::unix::fs::symlink(target, to.join(e.file_name())).unwrap();
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Points that only a run with `--index DIR` reaches.
fn index_dir_only(point: &str) -> bool {
    point == pagesieve::fault::PENDING_WRITTEN || point == pagesieve::fault::MANIFEST_PUBLISHED
}

#[test]
fn a_kill_at_every_commit_step_with_the_index_in_the_output_lets_no_duplicate_back() {
    let d = tempfile::tempdir().unwrap();
    let [n1, n2, n3] = nights(d.path(), 420);
    let o = |name: &str| d.path().join(name);
    ok(run(&n1, &o("out1"), &[], None));
    let a1 = ["--against", o("out1").to_str().unwrap()].map(String::from);
    let a1: Vec<&str> = a1.iter().map(String::as_str).collect();
    ok(run(&n2, &o("ref2"), &a1, None));
    ok(run(
        &n3,
        &o("ref3"),
        &["--against", o("ref2").to_str().unwrap()],
        None,
    ));
    let (ref2, ref3) = (records(&o("ref2")), records(&o("ref3")));
    assert!(
        jsonl(&o("ref3").join("dropped.jsonl"))
            .iter()
            .any(|r| r["kept_by"] == "earlier_run"),
        "night 3 has duplicates of earlier nights to lose"
    );
    for point in pagesieve::fault::COMMIT {
        if index_dir_only(point) {
            continue;
        }
        let out2 = o(&format!("kill-{}", point.replace(':', "-")));
        let killed = run(&n2, &out2, &a1, Some(point));
        assert_eq!(killed.status.code(), None, "{point}: killed by its signal");
        match landed(&out2) {
            true => assert_eq!(records(&out2), ref2, "{point}: a whole night 2"),
            false => {
                assert!(
                    !out2.join("articles.jsonl").exists(),
                    "{point}: nothing of night 2"
                );
                ok(run(&n2, &out2, &a1, None));
            }
        }
        let out3 = o(&format!("{}-3", out2.display()));
        ok(run(
            &n3,
            &out3,
            &["--against", out2.to_str().unwrap()],
            None,
        ));
        assert_eq!(records(&out3), ref3, "{point}: night 3 differs");
        assert!(
            common::hidden_entries(&out2).is_empty(),
            "{point}: leftovers"
        );
    }
}

#[test]
fn a_kill_at_every_commit_step_with_a_rolling_index_lets_no_duplicate_back() {
    let d = tempfile::tempdir().unwrap();
    let [n1, n2, n3] = nights(d.path(), 420);
    let o = |name: &str| d.path().join(name);
    let rolling = |idx: &Path| -> Vec<String> {
        let i = idx.to_str().unwrap().to_string();
        vec!["--against".into(), i.clone(), "--index".into(), i]
    };
    let strs = |v: &[String]| -> Vec<String> { v.to_vec() };
    ok(run(
        &n1,
        &o("out1"),
        &["--index", o("idx1").to_str().unwrap()],
        None,
    ));
    // The uninterrupted series, on a copy of night 1's index.
    copy_tree(&o("idx1"), &o("idx-ref"));
    let r = strs(&rolling(&o("idx-ref")));
    let r: Vec<&str> = r.iter().map(String::as_str).collect();
    ok(run(&n2, &o("ref2"), &r, None));
    ok(run(&n3, &o("ref3"), &r, None));
    let (ref2, ref3) = (records(&o("ref2")), records(&o("ref3")));
    let night1_index = std::fs::read(o("idx1").join("manifest.json")).unwrap();
    for point in pagesieve::fault::COMMIT {
        let tag = point.replace(':', "-");
        let idx = o(&format!("idx-{tag}"));
        copy_tree(&o("idx1"), &idx);
        let args = strs(&rolling(&idx));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out2 = o(&format!("kill-{tag}"));
        let killed = run(&n2, &out2, &args, Some(point));
        assert_eq!(killed.status.code(), None, "{point}: killed by its signal");
        match landed(&out2) {
            true => assert_eq!(records(&out2), ref2, "{point}: a whole night 2"),
            false => ok(run(&n2, &out2, &args, None)),
        }
        let out3 = o(&format!("kill-{tag}-3"));
        ok(run(&n3, &out3, &args, None));
        assert_eq!(records(&out3), ref3, "{point}: night 3 differs");
        // Night 1's own index was never touched (every kill worked on a copy).
        assert_eq!(
            std::fs::read(o("idx1").join("manifest.json")).unwrap(),
            night1_index
        );
        // Nothing of a dead run is left in the index folder.
        let names: Vec<String> = std::fs::read_dir(&idx)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("pending-") || n.starts_with(".tmp-"))
            .collect();
        assert!(names.is_empty(), "{point}: {names:?}");
    }
}

/// Holds `lock` of a folder in this process, as a running pagesieve would.
fn hold(lock: &Path) -> pagesieve::lock::Lock {
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    pagesieve::lock::acquire(lock, "test", false).unwrap()
}

#[test]
fn a_second_run_into_a_held_folder_stops_naming_the_holder_and_touches_nothing() {
    let d = tempfile::tempdir().unwrap();
    let [n1, n2, _] = nights(d.path(), 60);
    let out = d.path().join("out");
    ok(run(&n1, &out, &[], None));
    let before = common::snapshot(&out);
    let held = hold(&out.join(".pagesieve/lock"));
    // The holder's staging folder, as a live run has one.
    let live = out.join(".pagesieve/staging-1-live");
    std::fs::create_dir(&live).unwrap();
    std::fs::write(live.join("articles.jsonl"), "half written\n").unwrap();
    let o = run(&n2, &out, &[], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())) && err.contains("--wait"),
        "{err}"
    );
    assert!(
        live.join("articles.jsonl").exists(),
        "a live run's staging is not removed"
    );
    assert_eq!(common::snapshot(&out), before);
    // With --wait the second run waits for the first, then goes through and clears what
    // the first left.
    let mut args = run_args(&n2, &out);
    args.push("--wait");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pagesieve"))
        .args(&args)
        .current_dir(common::repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert!(
        child.try_wait().unwrap().is_none(),
        "waits while the lock is held"
    );
    drop(held);
    assert!(child.wait().unwrap().success());
    assert!(!live.exists(), "the dead holder's staging is removed");
    assert!(common::hidden_entries(&out).is_empty());
}

#[test]
fn a_held_index_folder_stops_the_run_before_anything_is_written() {
    let d = tempfile::tempdir().unwrap();
    let [n1, n2, _] = nights(d.path(), 60);
    let idx = d.path().join("idx");
    ok(run(
        &n1,
        &d.path().join("out1"),
        &["--index", idx.to_str().unwrap()],
        None,
    ));
    let _held = hold(&idx.join("lock"));
    let out2 = d.path().join("out2");
    let i = idx.to_str().unwrap();
    let o = run(&n2, &out2, &["--against", i, "--index", i], None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the index folder") && err.contains("in use"),
        "{err}"
    );
    assert!(!out2.exists(), "nothing written");
}

#[test]
fn an_output_written_by_pagesieve_0_2_is_replaced_whole() {
    let d = tempfile::tempdir().unwrap();
    let [n1, n2, _] = nights(d.path(), 90);
    let fresh = d.path().join("fresh");
    ok(run(&n1, &fresh, &[], None));
    // The layout an older pagesieve wrote: plain files, the index a plain folder.
    let old = d.path().join("old");
    std::fs::create_dir_all(old.join("index")).unwrap();
    for f in common::FILES {
        std::fs::copy(fresh.join(f), old.join(f)).unwrap();
    }
    std::fs::write(old.join("index/dedup.idx"), "format 1").unwrap();
    ok(run(&n2, &old, &[], None));
    let again = d.path().join("again");
    ok(run(&n2, &again, &[], None));
    assert_eq!(common::snapshot(&old), common::snapshot(&again));
    for f in common::FILES {
        assert!(std::fs::symlink_metadata(old.join(f))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    assert!(!old.join("index/dedup.idx").exists());
    assert!(common::hidden_entries(&old).is_empty());
}

#[test]
fn a_file_where_the_output_needs_a_folder_is_refused_before_writing() {
    let d = tempfile::tempdir().unwrap();
    let [n1, _, _] = nights(d.path(), 30);
    let out = d.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("index"), "mine").unwrap();
    std::fs::write(out.join("report.json"), "{}").unwrap();
    let o = run(&n1, &out, &[], None);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read_to_string(out.join("index")).unwrap(), "mine");
    assert_eq!(
        std::fs::read_to_string(out.join("report.json")).unwrap(),
        "{}"
    );
}

#[test]
fn an_index_of_pagesieve_0_2_is_read_once_converted() {
    use pagesieve::history::legacy;
    use pagesieve::history::{Entries, History};
    use pagesieve::record::RecordKind;
    let d = tempfile::tempdir().unwrap();
    let [n1, n2, _] = nights(d.path(), 150);
    let out1 = d.path().join("out1");
    ok(run(&n1, &out1, &[], None));
    // Night 1's index written in format 1, in an output folder of the older layout.
    let old = d.path().join("old1");
    std::fs::create_dir_all(old.join("index")).unwrap();
    for f in common::FILES {
        std::fs::copy(out1.join(f), old.join(f)).unwrap();
    }
    let rules = pagesieve::Rules::builtin();
    let h = History::load(
        std::slice::from_ref(&out1),
        &rules,
        &d.path().join("scratch"),
    )
    .unwrap();
    let columns = |kind: RecordKind| -> Entries {
        let n = h.len(kind) as u32;
        let mut e = Entries::default();
        for x in h.entries(kind, &(0..n).collect::<Vec<_>>()).unwrap() {
            e.locs.push(x.loc());
            e.title_keys.push(x.row.title_key);
            e.replacements.push(x.row.replacements);
            e.ids.push(&x.id);
            e.sources.push(&x.source);
            e.fps.push(x.fp);
            e.sigs.push(x.sig);
        }
        e
    };
    let (a, s) = (columns(RecordKind::Article), columns(RecordKind::Snippet));
    let m = pagesieve::history::manifest::read(&out1.join("index/manifest.json")).unwrap();
    let header = legacy::Header {
        format: legacy::FORMAT,
        tool: "pagesieve 0.2.0".into(),
        created: String::new(),
        settings_hash: m.settings_hash.clone(),
        settings: m.settings.clone(),
        fingerprints: m.fingerprints,
        runs: vec![legacy::RunRef {
            path: "..".into(),
            started: m.runs[0].started.clone(),
            articles_bytes: m.runs[0].articles_bytes,
            snippets_bytes: m.runs[0].snippets_bytes,
        }],
        articles: a.len() as u64,
        snippets: s.len() as u64,
    };
    legacy::write(&old.join("index/dedup.idx"), &header, &[&a], &[&s]).unwrap();
    let (new2, old2) = (d.path().join("new2"), d.path().join("from-old2"));
    ok(run(
        &n2,
        &new2,
        &["--against", out1.to_str().unwrap()],
        None,
    ));
    ok(run(&n2, &old2, &["--against", old.to_str().unwrap()], None));
    assert_eq!(records(&new2), records(&old2));
    // The index written by that night is in the new format and covers both nights.
    let m2 = pagesieve::history::manifest::read(&old2.join("index/manifest.json")).unwrap();
    assert_eq!(m2.runs.len(), 2);
    assert_eq!(
        m2.articles,
        (a.len() + jsonl(&old2.join("articles.jsonl")).len()) as u64
    );
    // The older folder was only read.
    assert!(old.join("index/dedup.idx").is_file());
    assert!(!old.join(".pagesieve").exists());
}

/// A plain run into a folder an `--against` run wrote: the commit publishes only what the
/// run wrote, so the old `seen_again.jsonl` (naming page ids that no longer exist) is gone.
#[test]
fn a_plain_run_after_an_against_run_leaves_no_stale_seen_again() {
    let d = tempfile::tempdir().unwrap();
    let [n1, n2, _] = nights(d.path(), 120);
    let (out1, out) = (d.path().join("out1"), d.path().join("out"));
    ok(run(&n1, &out1, &[], None));
    ok(run(&n2, &out, &["--against", out1.to_str().unwrap()], None));
    assert!(out.join("seen_again.jsonl").is_file());
    ok(run(&n2, &out, &[], None));
    assert!(!out.join("seen_again.jsonl").exists());
    assert!(std::fs::symlink_metadata(out.join("seen_again.jsonl")).is_err());
}
