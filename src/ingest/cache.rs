//! Keeping the input out of the page cache: a run reads each input file once, and at
//! millions of pages the input is larger than memory. Left in the cache it pushes out the
//! run's spill (written during the scan, read back by verification and by the writer), so
//! those reads go to disk. With `input.evict_after_read` (default `auto`: when the input is
//! larger than half the machine's memory) each file is dropped from the cache once read
//! (`posix_fadvise(DONTNEED)`, Linux only; a hint, never an error).

use crate::config::EvictInput;
use crate::ingest::{InputFile, InputRules};

/// How many files are looked at to estimate the input's size.
const SIZE_SAMPLE: usize = 1000;

/// Decides, for the files a run will read, whether they leave the page cache once read
/// (`input.evict_after_read`), and sets it in `rules`.
pub fn decide_for(rules: &mut InputRules, files: &[InputFile]) {
    rules.evict_after_read = should_evict(files, rules.config.evict_after_read);
}

/// Whether the files of a run should leave the page cache once read, under `mode`.
pub fn should_evict(files: &[InputFile], mode: EvictInput) -> bool {
    should_evict_run(files, files.len(), mode)
}

/// [`should_evict`] for a run over `total_files` files of which `files` are a part (a
/// Ray shard task sees its shard only; the input's size is the whole run's).
pub fn should_evict_run(files: &[InputFile], total_files: usize, mode: EvictInput) -> bool {
    match mode {
        EvictInput::Always => true,
        EvictInput::Never => false,
        EvictInput::Auto => match memory_total() {
            Some(mem) => {
                let part = estimated_bytes(files) as f64;
                let whole = part * total_files.max(files.len()) as f64 / files.len().max(1) as f64;
                whole > (mem / 2) as f64
            }
            None => false,
        },
    }
}

/// Whether the article records of a run over `files` can be spilled as they are
/// ([`crate::run::spill::Packing::Raw`]): the input, estimated, under a quarter of the
/// machine's memory, so that the spill (a fraction of it) stays in the page cache until
/// verification and the writer read it back. Unknown memory: compressed.
pub fn spill_stays_cached(files: &[InputFile]) -> bool {
    memory_total().is_some_and(|mem| estimated_bytes(files) < mem / 4)
}

/// The input's size in bytes, estimated from up to `SIZE_SAMPLE` files spread evenly
/// over the list (a million `stat` calls would cost seconds on a cold disk).
pub fn estimated_bytes(files: &[InputFile]) -> u64 {
    if files.is_empty() {
        return 0;
    }
    let step = files.len().div_ceil(SIZE_SAMPLE);
    let sizes: Vec<u64> = files
        .iter()
        .step_by(step)
        .filter_map(|f| std::fs::metadata(&f.path).ok().map(|m| m.len()))
        .collect();
    if sizes.is_empty() {
        return 0;
    }
    let mean = sizes.iter().sum::<u64>() as f64 / sizes.len() as f64;
    (mean * files.len() as f64) as u64
}

/// The machine's memory in bytes (`MemTotal` of `/proc/meminfo`), where known.
pub fn memory_total() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fadvise::evict;
    use std::fs::File;

    fn files(dir: &std::path::Path, n: usize, bytes: usize) -> Vec<InputFile> {
        (0..n)
            .map(|i| {
                let path = dir.join(format!("p{i}.txt"));
                std::fs::write(&path, vec![b'x'; bytes]).expect("writable");
                InputFile {
                    path,
                    source: format!("p{i}.txt"),
                    walk_error: None,
                }
            })
            .collect()
    }

    #[test]
    fn the_size_is_estimated_from_a_sample() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let fs = files(dir.path(), 30, 1000);
        assert_eq!(estimated_bytes(&fs), 30_000);
        assert_eq!(estimated_bytes(&[]), 0);
    }

    #[test]
    fn auto_leaves_a_small_input_cached_and_the_modes_are_obeyed() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let fs = files(dir.path(), 3, 10);
        assert!(!should_evict(&fs, EvictInput::Auto));
        assert!(!should_evict(&fs, EvictInput::Never));
        assert!(should_evict(&fs, EvictInput::Always));
        // Evicting a file that was read is harmless: it reads the same afterwards.
        let f = File::open(&fs[0].path).expect("readable");
        evict(&f);
        assert_eq!(std::fs::read(&fs[0].path).expect("readable"), b"xxxxxxxxxx");
    }
}
