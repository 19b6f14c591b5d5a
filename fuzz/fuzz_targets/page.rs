//! Fuzz target: one page's bytes through decode, segmentation, cleanup, metadata and
//! fingerprinting (everything phase 1 does after reading the file). Must never panic or
//! hang, and every non-blank line must get exactly one label.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pagesieve::Rules;
use pagesieve::ingest::{decode, RawFile};
use pagesieve::page::segment;
use pagesieve::scan::scan_bytes;

fn compiled() -> &'static Rules {
    static C: OnceLock<Rules> = OnceLock::new();
    C.get_or_init(Rules::builtin)
}

fuzz_target!(|data: &[u8]| {
    let c = compiled();
    let raw = RawFile {
        bytes: data.to_vec(),
        compression: None,
    };
    let _ = scan_bytes("fuzz.txt", raw, c, true);
    if let Ok(page) = decode(data, &c.input) {
        let parts = segment(&page.text, &c.segment);
        let non_blank = page
            .text
            .split('\n')
            .filter(|l| !pagesieve::text::match_form(l).is_empty())
            .count();
        assert_eq!(parts.labels.len(), non_blank, "every non-blank line labelled once");
    }
});
