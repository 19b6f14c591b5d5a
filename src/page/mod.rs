//! Page: decoded text → parts (segment) → cleaned lines (normalize) → metadata.

pub mod metadata;
pub mod normalize;
pub mod segment;

pub use segment::{segment, Label, PageParts, Part, Rule, SnippetBlock};
