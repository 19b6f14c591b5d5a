//! Page: decoded text → parts (segment) → cleaned lines (cleanup) → metadata, each stage
//! with the rules it compiles from its part of the config.

pub mod cleanup;
pub mod facts;
pub mod line_cache;
pub mod metadata;
pub mod patterns;
pub mod segment;
pub mod strip;

pub use metadata::MetadataRules;
pub use segment::{
    segment, Label, LineClass, LineFacts, PageParts, Part, Rule, SegmentRules, SnippetBlock,
};
pub use strip::{LineKind, StripKind, StripSet};
