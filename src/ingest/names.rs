//! Encoding and compression names as one byte each, for page summaries (a summary is kept
//! for every input file). The names are `&'static str`s from a small set (encoding_rs's
//! encodings, a few mixed-encoding names, `gzip`, `zstd`, `bzip2`, `xz`); each gets a code
//! the first time it is seen.

use std::sync::RwLock;

static NAMES: RwLock<Vec<&'static str>> = RwLock::new(Vec::new());

/// A name, or none, in one byte.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameCode(u8);

impl NameCode {
    /// The code of `name` (none: 0).
    pub fn of(name: Option<&'static str>) -> NameCode {
        let Some(name) = name else {
            return NameCode(0);
        };
        if let Some(i) = NAMES
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .position(|n| *n == name)
        {
            return NameCode(i as u8 + 1);
        }
        let mut names = NAMES.write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = names.iter().position(|n| *n == name) {
            return NameCode(i as u8 + 1);
        }
        assert!(names.len() < 255, "more than 255 encoding names");
        names.push(name);
        NameCode(names.len() as u8)
    }

    /// The code of a name read back from a file (names not seen yet in this process are
    /// interned for good: there are a few dozen at most).
    pub fn of_name(name: Option<&str>) -> NameCode {
        let Some(name) = name else {
            return NameCode(0);
        };
        let known = NAMES
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|n| **n == name)
            .copied();
        NameCode::of(Some(
            known.unwrap_or_else(|| Box::leak(name.to_string().into_boxed_str())),
        ))
    }

    /// The code as a byte (meaningful in this process only: the table is built as names
    /// are met).
    pub fn code(self) -> u8 {
        self.0
    }

    /// The code a [`NameCode::code`] of this process returned.
    pub fn from_code(code: u8) -> NameCode {
        NameCode(code)
    }

    /// The name back.
    pub fn name(self) -> Option<&'static str> {
        let i = (self.0 as usize).checked_sub(1)?;
        NAMES
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(i)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in [
            None,
            Some("UTF-8"),
            Some("GB18030"),
            Some("gzip"),
            Some("UTF-8"),
        ] {
            assert_eq!(NameCode::of(n).name(), n);
        }
        assert_eq!(NameCode::of(Some("GB18030")), NameCode::of(Some("GB18030")));
    }
}
