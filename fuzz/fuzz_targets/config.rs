//! Fuzz target: arbitrary text as a profile. Parsing and validation must return a
//! configuration or errors, never panic (including regexes and globs that are valid but
//! pathological, and every numeric edge).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pagesieve::Rules;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Rules::from_text(&text, "fuzz.toml");
});
