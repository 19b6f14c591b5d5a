//! The floor: what no pipeline over these files can avoid. Walks the input, reads every
//! file (decompressing `.gz`/`.zst`), decodes it (BOM, UTF-8, chardetng, GB18030) and hashes
//! the text with xxh3, in parallel with rayon — and does nothing else. `bench/compare.sh`
//! times it beside `pagesieve run` on the same corpus.
//!
//! ```sh
//! cargo run --release --example floor -- DIR
//! ```

use std::time::Instant;

use pagesieve::ingest::cache;
use pagesieve::ingest::{decode, read_file, walk};
use pagesieve::Rules;
use rayon::prelude::*;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: floor DIR");
    let mut c = Rules::builtin();
    let t = Instant::now();
    let files = walk(std::path::Path::new(&dir), &c.input, Default::default())
        .expect("walk")
        .files;
    // Drop files from the page cache as pagesieve run does (the same decision).
    cache::decide_for(&mut c.input, &files);
    let (bytes, hash, ok) = files
        .par_iter()
        .map(|f| match read_file(f, &c.input) {
            Ok(raw) => {
                let n = raw.bytes.len() as u64;
                match decode(&raw.bytes, &c.input) {
                    Ok(p) => (n, xxhash_rust::xxh3::xxh3_64(p.text.as_bytes()), 1u64),
                    Err(_) => (n, 0, 0),
                }
            }
            Err(_) => (0, 0, 0),
        })
        .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 ^ b.1, a.2 + b.2));
    let secs = t.elapsed().as_secs_f64();
    println!(
        "floor: {} files ({ok} decoded), {:.1} MB in {secs:.2} s: {:.0} files/s, {:.1} MB/s (xor of hashes {hash:016x})",
        files.len(),
        bytes as f64 / 1e6,
        files.len() as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}
