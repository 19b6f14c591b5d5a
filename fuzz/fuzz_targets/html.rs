//! Fuzz target: arbitrary bytes as an HTML page (a doctype is put in front, so every input
//! takes the HTML path) through detection, decoding, the markup-to-lines walk and the rest
//! of the scan. Must never panic or hang; no line of the result may hold a tag the parser
//! left in (`<script`), and every non-blank line must get exactly one label.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pagesieve::ingest::{decode, RawFile};
use pagesieve::page::segment;
use pagesieve::scan::scan_bytes;
use pagesieve::Rules;

fn compiled() -> &'static Rules {
    static C: OnceLock<Rules> = OnceLock::new();
    C.get_or_init(Rules::builtin)
}

fuzz_target!(|data: &[u8]| {
    let c = compiled();
    let mut bytes = b"<!DOCTYPE html>".to_vec();
    bytes.extend_from_slice(data);
    let raw = RawFile {
        bytes: bytes.clone(),
        compression: None,
    };
    let _ = scan_bytes("fuzz.html", raw, c, true);
    if let Ok(page) = decode(&bytes, &c.input) {
        assert!(page.html.is_some(), "a doctype makes it HTML");
        let h = page.html.as_ref().unwrap();
        assert_eq!(h.origins.len(), page.text.split('\n').count(), "an element per line");
        let parts = segment(&page.text, &c.segment);
        let non_blank = page
            .text
            .split('\n')
            .filter(|l| !pagesieve::text::match_form(l).is_empty())
            .count();
        assert_eq!(parts.labels.len(), non_blank, "every non-blank line labelled once");
    }
});
