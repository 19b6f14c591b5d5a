//! Fuzz target: one page's bytes through decode, segmentation, cleanup, metadata and
//! fingerprinting (everything phase 1 does after reading the file). Must never panic or
//! hang, and every non-blank line must get exactly one label.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pagesieve::config::{compile_text, Compiled, BUILTIN_PROFILE};
use pagesieve::ingest::{decode, RawFile};
use pagesieve::page::segment;
use pagesieve::scan::scan_bytes;

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| compile_text(BUILTIN_PROFILE, "built-in").expect("built-in profile"))
}

fuzz_target!(|data: &[u8]| {
    let c = compiled();
    let raw = RawFile {
        bytes: data.to_vec(),
        compression: None,
    };
    let _ = scan_bytes("fuzz.txt", raw, c, true);
    if let Ok(page) = decode(data, &c.config.input, &c.legacy_encodings) {
        let parts = segment(&page.text, c);
        let non_blank = page
            .text
            .split('\n')
            .filter(|l| !pagesieve::page::normalize::match_form(l).is_empty())
            .count();
        assert_eq!(parts.labels.len(), non_blank, "every non-blank line labelled once");
    }
});
