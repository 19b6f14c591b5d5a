//! Ingest: find the input files in a stable order, then turn each file's bytes into text.

pub mod cache;
pub mod decode;
pub mod html;
pub mod hz;
pub mod misread;
pub mod names;
pub mod rules;
pub mod walk;

pub use decode::{decode, read_bytes, read_file, DecodedPage, RawFile};
pub use rules::InputRules;
pub use walk::{walk, InputFile, Walk};
