//! Ingest: find the input files in a stable order, then turn each file's bytes into text.

pub mod decode;
pub mod walk;

pub use decode::{decode, read_file, DecodedPage, RawFile};
pub use walk::{walk, InputFile, Walk};
