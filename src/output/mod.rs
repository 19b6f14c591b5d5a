//! Output: atomic JSONL writers, `report.json` and `report.html`.

pub mod html;
pub mod json_str;
pub mod jsonl;
pub mod report;

pub use jsonl::Staging;
