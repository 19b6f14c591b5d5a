//! Page: decoded text → parts (segment) → cleaned lines (normalize, nfkc) → metadata.

pub mod metadata;
pub mod nfkc;
pub mod normalize;
pub mod segment;

pub use segment::{segment, Label, PageParts, Part, Rule, SnippetBlock};
