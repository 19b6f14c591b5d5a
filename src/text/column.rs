//! A column of strings in one buffer: what a run keeps of a million pages' paths without
//! a million small allocations. Small strings that live for the whole run, allocated by
//! the scan's workers between their per-page buffers, kept those buffers' pages resident
//! after they were freed: at 200k templated pages the page sources alone held ~75 MB of
//! freed heap that `malloc_trim` could not hand back.

/// Strings appended one after another; string `i` is `get(i)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrColumn {
    /// Every string, one after the other.
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<u64>,
}

impl StrColumn {
    /// An empty column with room for `n` strings.
    pub fn with_capacity(n: usize) -> StrColumn {
        StrColumn {
            text: String::new(),
            ends: Vec::with_capacity(n),
        }
    }

    /// Appends `s` as the next string.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u64);
    }

    /// String `i`.
    ///
    /// # Panics
    /// When `i` is not below [`StrColumn::len`].
    pub fn get(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        &self.text[start..self.ends[i] as usize]
    }

    /// How many strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The strings in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl<S: AsRef<str>> FromIterator<S> for StrColumn {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> StrColumn {
        let mut c = StrColumn::default();
        iter.into_iter().for_each(|s| c.push(s.as_ref()));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_come_back_as_pushed_empty_ones_included() {
        let given = ["a/页面.txt", "", "b.html.gz", "", "c"];
        let c: StrColumn = given.iter().collect();
        assert_eq!(c.len(), 5);
        assert_eq!(c.iter().collect::<Vec<_>>(), given);
        assert_eq!(c.get(1), "");
        assert!(StrColumn::with_capacity(3).is_empty());
    }
}
