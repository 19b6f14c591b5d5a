//! Crash safety: a run killed with SIGKILL at any point leaves each output file either the
//! previous version or the complete new one, never half-written; an output location that
//! cannot be written (read-only, full) exits 1 with a clear message and leaves the previous
//! files untouched. Also: open files stay bounded on many small files.

#![cfg(unix)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{jsonl, run_ok, snapshot, stable, FILES};

fn synth(dir: &Path, pages: usize, seed: u64) {
    pagesieve::synth::generate(
        &pagesieve::synth::Options {
            pages,
            seed,
            sample: false,
            shape: Default::default(),
            encodings: Default::default(),
        },
        dir,
    )
    .unwrap();
}

/// Copies a tree as `cp -a` does: links stay links.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = e.file_type().unwrap();
        if t.is_symlink() {
            let target = std::fs::read_link(e.path()).unwrap();
            std::os::unix::fs::symlink(target, to.join(e.file_name())).unwrap();
        } else if t.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn sigkill_at_any_point_leaves_old_or_new_files_whole() {
    let d = tempfile::tempdir().unwrap();
    let (old_in, new_in) = (d.path().join("old"), d.path().join("new"));
    synth(&old_in, 60, 1);
    synth(&new_in, 400, 2);
    let (old_out, new_out) = (d.path().join("old_out"), d.path().join("new_out"));
    run_ok(&old_in, &old_out, &[]);
    let t = Instant::now();
    run_ok(&new_in, &new_out, &[]);
    let full = t.elapsed();
    let (old, new) = (snapshot(&old_out), snapshot(&new_out));

    let mut replaced = 0;
    for step in 0..16u32 {
        let out = d.path().join(format!("kill{step}"));
        copy_dir(&old_out, &out);
        let mut child = Command::new(env!("CARGO_BIN_EXE_pagesieve"))
            .args(["run", "--quiet", "--input"])
            .arg(&new_in)
            .arg("--output")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the whole run, denser near the end where files are written.
        let frac = 1.0 - (1.0 - f64::from(step) / 16.0).powi(2);
        std::thread::sleep(full.mul_f64(frac * 1.1));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        for (i, f) in FILES.iter().enumerate() {
            let bytes = std::fs::read(out.join(f)).unwrap_or_else(|e| panic!("{f} gone: {e}"));
            let got = stable(f, &bytes);
            assert!(
                got == old[i] || got == new[i],
                "kill {step}: {f} is neither the previous nor the new version"
            );
            if got == new[i] && got != old[i] {
                replaced += 1;
            }
        }
        // The next run cleans up whatever staging folder the killed one left.
        run_ok(&new_in, &out, &[]);
        assert!(
            common::hidden_entries(&out).is_empty(),
            "stale staging folder left"
        );
        assert_eq!(snapshot(&out), new);
    }
    eprintln!(
        "{replaced} files were replaced whole by killed runs; the rest were the previous version"
    );
}

#[test]
fn read_only_output_exits_1_and_touches_nothing() {
    let o = common::pagesieve(&["run", "--quiet", "--output", "/proc/pagesieve-out"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot write output to /proc/pagesieve-out"),
        "{err}"
    );
}

#[test]
fn full_output_location_exits_1_and_keeps_previous_files() {
    let d = tempfile::tempdir().unwrap();
    let input = common::repo().join("input");
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let before = snapshot(&out);
    // A file-size limit makes every write past 16 KiB fail with EFBIG, as a full disk would
    // fail with ENOSPC (SIGXFSZ ignored so the write returns the error).
    let (code, _, err) = common::run_io_measured(&input, &out, Some("trap '' XFSZ; ulimit -f 32;"));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("cannot write output"), "{err}");
    assert_eq!(snapshot(&out), before, "previous files must be intact");
    let left = common::hidden_entries(&out);
    assert!(left.is_empty(), "partial staging files left: {left:?}");
}

#[test]
fn many_small_files_with_few_file_descriptors() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    for i in 0..5000 {
        let sub = input.join(format!("d{}", i % 50));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            sub.join(format!("p{i}.txt")),
            format!("第{i}个问题医保怎么用\n\n第{i}个回答：先备案，再结算，费用按比例报销。\n"),
        )
        .unwrap();
    }
    let out = d.path().join("out");
    let (code, rss_kb, err) = common::run_io_measured(&input, &out, Some("ulimit -n 64;"));
    assert_eq!(code, Some(0), "{err}");
    common::assert_invariant(&out);
    assert!(
        jsonl(&out.join("rejects.jsonl")).is_empty(),
        "no file may fail for want of descriptors"
    );
    // The pages are templated, so most are near duplicates: kept + dropped is every page.
    let kept = jsonl(&out.join("articles.jsonl")).len();
    let dropped = jsonl(&out.join("dropped.jsonl"))
        .iter()
        .filter(|r| r["kind"] == "article")
        .count();
    assert_eq!(kept + dropped, 5000);
    assert!(rss_kb < 300 * 1024, "peak RSS {rss_kb} KiB");
}

/// SIGINT or SIGTERM mid-run: the staging folder (and its spill) is removed, one line says
/// the previous output is unchanged, the exit is 130 or 143, and the output is the
/// previous one.
#[test]
fn sigint_or_sigterm_mid_run_removes_the_staging_and_exits_128_plus_the_signal() {
    let d = tempfile::tempdir().unwrap();
    let (old_in, new_in) = (d.path().join("old"), d.path().join("new"));
    synth(&old_in, 40, 1);
    synth(&new_in, 3000, 2);
    for (sig, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let out = d.path().join(format!("out{sig}"));
        run_ok(&old_in, &out, &[]);
        let old = snapshot(&out);
        // The run stops for good once its staging folder exists and its phases start
        // (the fault hook's `stop:` form), so the signal always finds it there: on a
        // loaded machine the run had sometimes finished before the signal was sent.
        let child = Command::new(env!("CARGO_BIN_EXE_pagesieve"))
            .args(["run", "--quiet", "--input"])
            .arg(&new_in)
            .arg("--output")
            .arg(&out)
            .env(
                "PAGESIEVE_FAULT",
                format!("stop:{}", pagesieve::fault::PHASES_STARTED),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the run is staging, then signal it.
        let meta = out.join(".pagesieve");
        let staging = || {
            std::fs::read_dir(&meta)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("staging-"))
        };
        let t = Instant::now();
        while !staging() && t.elapsed().as_secs() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // SAFETY: a plain kill(2) of our own child.
        unsafe { libc::kill(child.id() as i32, sig) };
        let done = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        assert_eq!(done.status.code(), Some(code), "{err}");
        // Signalled while the scan runs (the staging folder is made before it): the
        // commit never starts.
        assert!(
            err.contains("interrupted; the previous output is unchanged"),
            "{err}"
        );
        assert!(!staging(), "the staging folder is removed");
        assert_eq!(snapshot(&out), old, "the previous output is unchanged");
    }
}
