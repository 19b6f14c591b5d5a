//! Shared test harness: the bundled profile, temp folders, running the binary, reading JSONL,
//! readable diffs.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pagesieve::Rules;
use serde_json::Value;

/// Every output file the contract names.
pub const FILES: [&str; 7] = [
    "articles.jsonl",
    "snippets.jsonl",
    "dropped.jsonl",
    "duplicates.jsonl",
    "rejects.jsonl",
    "report.json",
    "report.html",
];

/// An output file's contents with the run's timings blanked (the only part the contract lets
/// differ between runs of the same input); also checks the reports are whole.
pub fn stable(name: &str, bytes: &[u8]) -> Vec<u8> {
    match name {
        "report.json" => {
            let mut v: Value = serde_json::from_slice(bytes).expect("whole JSON");
            // The start time and where the index went vary between runs too.
            v["timings_ms"] = Value::Null;
            v["started"] = Value::Null;
            v["index"]["written"] = Value::Null;
            serde_json::to_vec(&v).unwrap()
        }
        "report.html" => {
            let s = String::from_utf8(bytes.to_vec()).expect("UTF-8");
            assert!(s.ends_with("</html>\n"), "report.html cut off");
            // The run line (start time, paths) and the timings vary between runs.
            let cut = |s: &str, from: &str, to: &str| -> String {
                let start = s.find(from).unwrap_or_else(|| panic!("no {from}"));
                let end = start + s[start..].find(to).unwrap();
                format!("{}{}", &s[..start], &s[end..])
            };
            let s = cut(&s, "<p class=\"muted\" id=\"run\">", "</p>");
            cut(&s, "<h2 id=\"timings\">", "</table>").into_bytes()
        }
        _ => bytes.to_vec(),
    }
}

/// Every output file of `out`, timings blanked.
pub fn snapshot(out: &Path) -> Vec<Vec<u8>> {
    FILES
        .iter()
        .map(|f| stable(f, &std::fs::read(out.join(f)).unwrap()))
        .collect()
}

/// Names of hidden entries (a staging folder left behind) in an output folder.
pub fn hidden_entries(dir: &Path) -> Vec<String> {
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".pagesieve")
        .collect();
    // Inside the generations folder: the lock, the pointer and the one generation it
    // names; anything else (staging, an unpublished generation) is a leftover.
    let meta = dir.join(".pagesieve");
    if meta.is_dir() {
        let current = std::fs::read_link(meta.join("current")).ok();
        for e in std::fs::read_dir(&meta).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let expected =
                name == "lock" || name == "current" || current.as_deref() == Some(Path::new(&name));
            if !expected {
                left.push(format!(".pagesieve/{name}"));
            }
        }
    }
    left
}

/// The bundled profile, compiled.
pub fn compiled() -> Rules {
    Rules::builtin()
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Says that a test skipped part of its work because a prerequisite is missing, where
/// `cargo test` shows it: libtest keeps `eprintln!` of a passing test to itself, but not
/// what is written to the stderr handle directly.
pub fn notice(msg: &str) {
    let _ = writeln!(std::io::stderr(), "NOTICE: {msg}");
}

/// `../shared/seeds` beside the checkout, when it exists.
pub fn seeds() -> Option<PathBuf> {
    let p = repo().join("../shared/seeds");
    if p.is_dir() {
        Some(p)
    } else {
        notice("../shared/seeds not found; skipping the tests that read the real seed pages");
        None
    }
}

/// Runs `pagesieve` with `args`.
pub fn pagesieve(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pagesieve"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run pagesieve")
}

/// Runs `pagesieve` with `args` and extra environment variables.
pub fn pagesieve_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pagesieve"));
    c.args(args).current_dir(repo());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run pagesieve")
}

/// The arguments of `pagesieve run --quiet` over `input` into `output`.
pub fn run_args<'a>(input: &'a Path, output: &'a Path) -> Vec<&'a str> {
    vec![
        "run",
        "--quiet",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]
}

/// Runs `pagesieve run --quiet` on `input` into `output`, asserting exit 0.
pub fn run_ok(input: &Path, output: &Path, extra: &[&str]) {
    let mut args = run_args(input, output);
    args.extend_from_slice(extra);
    let out = pagesieve(&args);
    assert!(
        out.status.success(),
        "pagesieve failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads a JSONL file.
pub fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Reads `report.json`.
pub fn report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

/// Asserts the contract's invariant on `report.json` and the files behind it.
pub fn assert_invariant(out: &Path) {
    let r = report(out);
    let seen = r["files"]["seen"].as_u64().unwrap();
    let a = &r["articles"];
    let sum = a["kept"].as_u64().unwrap()
        + a["dropped_exact"].as_u64().unwrap()
        + a["dropped_near"].as_u64().unwrap()
        + r["files"]["rejected"].as_u64().unwrap();
    assert_eq!(seen, sum, "files.seen == kept + dropped + rejected");
    assert_eq!(
        a["kept"].as_u64().unwrap() as usize,
        jsonl(&out.join("articles.jsonl")).len()
    );
    assert_eq!(
        r["files"]["rejected"].as_u64().unwrap() as usize,
        jsonl(&out.join("rejects.jsonl")).len()
    );
}

/// gzip-compresses bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `bytes` as a bzip2 stream.
pub fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `bytes` as an xz stream.
pub fn xz(mut bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    lzma_rs::xz_compress(&mut bytes, &mut out).unwrap();
    out
}

/// A line diff good enough to read a golden mismatch.
pub fn line_diff(want: &str, got: &str) -> String {
    let w: Vec<&str> = want.lines().collect();
    let g: Vec<&str> = got.lines().collect();
    let mut out = String::new();
    let n = w.len().max(g.len());
    for i in 0..n {
        match (w.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                if let Some(a) = a {
                    out.push_str(&format!("  -{:>4} {a}\n", i + 1));
                }
                if let Some(b) = b {
                    out.push_str(&format!("  +{:>4} {b}\n", i + 1));
                }
            }
        }
    }
    out
}

/// Runs `pagesieve` with `args` (and a shell prefix such as `ulimit -n 64;` when given) and
/// returns its exit code and peak RSS in KiB, read with `wait4`.
#[cfg(unix)]
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also yields the rusage
pub fn run_measured(args: &[&str], shell_prefix: Option<&str>) -> (Option<i32>, u64, String) {
    use std::process::Stdio;
    let bin = env!("CARGO_BIN_EXE_pagesieve");
    let mut cmd = match shell_prefix {
        Some(prefix) => {
            let mut c = Command::new("sh");
            let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
            c.arg("-c")
                .arg(format!("{prefix} exec '{bin}' {}", quoted.join(" ")));
            c
        }
        None => {
            let mut c = Command::new(bin);
            c.args(args);
            c
        }
    };
    let child = cmd
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pagesieve");
    let pid = child.id() as libc::pid_t;
    let mut stderr = child.stderr.expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let mut status = 0;
    // SAFETY: plain FFI call with valid out-pointers; `pid` is our own child, reaped here
    // (the `Child` handle is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    (
        code,
        usage.ru_maxrss as u64,
        reader.join().unwrap_or_default(),
    )
}

/// `pagesieve run --quiet` over `input` into `output`, measured (see [`run_measured`]).
#[cfg(unix)]
pub fn run_io_measured(
    input: &Path,
    output: &Path,
    shell_prefix: Option<&str>,
) -> (Option<i32>, u64, String) {
    run_measured(&run_args(input, output), shell_prefix)
}

/// A seeded stream of numbers for made-up test text (a 64-bit LCG: the same seed, the same
/// pages on every machine).
pub fn lcg(seed: &mut u64) -> usize {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) as usize
}

/// Made-up words for test pages (medical-insurance terms, our own list).
pub const WORDS: [&str; 24] = [
    "参保人",
    "经办机构",
    "定点医院",
    "个人账户",
    "统筹基金",
    "门诊",
    "住院",
    "药店",
    "备案",
    "结算",
    "报销",
    "比例",
    "起付线",
    "材料",
    "窗口",
    "线上",
    "办理",
    "审核",
    "缴费",
    "待遇",
    "异地",
    "转诊",
    "慢病",
    "发票",
];
