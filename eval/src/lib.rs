//! What pagesieve's tests, benches and examples use to judge the duplicate search, kept
//! out of the product crate: [`recall`] (planted pairs filed by length and true Jaccard,
//! decided by the real search) and [`quality`] (precision and recall of an output against
//! the labels `pagesieve synth` plants).

#![deny(missing_docs)]

pub mod quality;
pub mod recall;
