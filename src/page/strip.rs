//! What is stripped from a page, by name: one enum for the segmenter, the records
//! (`metadata.stripped`), `report.json` (`stripped`), `report.html` and learned boilerplate.

use serde::{Serialize, Serializer};

/// A kind of boilerplate removed from an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StripKind {
    /// `profile.header_disclaimer`.
    HeaderDisclaimer,
    /// `profile.footer_disclaimer`.
    FooterDisclaimer,
    /// `profile.trending` and its terms.
    Trending,
    /// `profile.related`, `profile.related_date` and the blocks between them.
    Related,
    /// `profile.navigation`.
    Navigation,
    /// Lines learned from the corpus and removed by `boilerplate.strip`.
    LearnedBoilerplate,
}

impl StripKind {
    /// Every kind, in the order `metadata.stripped` lists them.
    pub const ALL: [StripKind; 6] = [
        StripKind::HeaderDisclaimer,
        StripKind::FooterDisclaimer,
        StripKind::Trending,
        StripKind::Related,
        StripKind::Navigation,
        StripKind::LearnedBoilerplate,
    ];

    /// The kinds the profile's rules strip (every kind but learned boilerplate).
    pub const PROFILE: [StripKind; 5] = [
        StripKind::HeaderDisclaimer,
        StripKind::FooterDisclaimer,
        StripKind::Trending,
        StripKind::Related,
        StripKind::Navigation,
    ];

    /// The name written in the records and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            StripKind::HeaderDisclaimer => "header_disclaimer",
            StripKind::FooterDisclaimer => "footer_disclaimer",
            StripKind::Trending => "trending",
            StripKind::Related => "related",
            StripKind::Navigation => "navigation",
            StripKind::LearnedBoilerplate => "learned_boilerplate",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl Serialize for StripKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A set of [`StripKind`]s in one byte (a page summary is kept for every input file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StripSet(u8);

impl StripSet {
    /// The set as bits (one per kind, in [`StripKind::ALL`] order).
    pub fn bits(self) -> u8 {
        self.0
    }

    /// A set from [`StripSet::bits`].
    pub fn from_bits(bits: u8) -> StripSet {
        StripSet(bits)
    }

    /// Adds a kind.
    pub fn insert(&mut self, k: StripKind) {
        self.0 |= k.bit();
    }

    /// Whether the set holds `k`.
    pub fn contains(self, k: StripKind) -> bool {
        self.0 & k.bit() != 0
    }

    /// The kinds held, in [`StripKind::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = StripKind> {
        StripKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }

    /// The names of the kinds held, in order (`metadata.stripped`).
    pub fn names(self) -> Vec<String> {
        self.iter().map(|k| k.as_str().to_string()).collect()
    }
}

/// Where the segmenter put a line, as the learned-boilerplate counter groups it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LineKind {
    /// The title line.
    Title,
    /// Kept answer body.
    Body,
    /// A title or text line of a related block (kept as a snippet record).
    RelatedBlock,
    /// Stripped by a profile rule.
    Stripped(StripKind),
}

impl LineKind {
    /// The name written in `report.json` (`title`, `body`, `related_block`, or the strip kind).
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Title => "title",
            LineKind::Body => "body",
            LineKind::RelatedBlock => "related_block",
            LineKind::Stripped(k) => k.as_str(),
        }
    }

    /// What handles such a line, in words, for the reports.
    pub fn handled_by(self) -> String {
        match self {
            LineKind::Body => "not stripped: left in article bodies".into(),
            LineKind::Title => "title line".into(),
            LineKind::RelatedBlock => "related list (kept as snippet records)".into(),
            LineKind::Stripped(StripKind::Related) => {
                "stripped by profile.related / profile.related_date".into()
            }
            LineKind::Stripped(k) => format!("stripped by profile.{}", k.as_str()),
        }
    }
}

impl Serialize for LineKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_list_kinds_in_order() {
        let mut s = StripSet::default();
        s.insert(StripKind::Navigation);
        s.insert(StripKind::HeaderDisclaimer);
        s.insert(StripKind::LearnedBoilerplate);
        assert_eq!(
            s.names(),
            ["header_disclaimer", "navigation", "learned_boilerplate"]
        );
        assert!(!s.contains(StripKind::Related));
    }

    #[test]
    fn names_serialize_as_strings() {
        assert_eq!(
            serde_json::to_string(&StripKind::ALL).unwrap(),
            "[\"header_disclaimer\",\"footer_disclaimer\",\"trending\",\"related\",\"navigation\",\"learned_boilerplate\"]"
        );
        assert_eq!(
            serde_json::to_string(&LineKind::RelatedBlock).unwrap(),
            "\"related_block\""
        );
    }
}
