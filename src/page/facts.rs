//! What the segmenter knows of one line: its match form, marker class and cleaned text,
//! computed once per distinct line ([`crate::page::line_cache`] keeps them for lines that
//! repeat across pages).

use crate::text::match_form;

/// What the segmenter needs to know of one line, whatever its place on the page: computed
/// once per distinct line ([`crate::page::line_cache`] keeps them for lines that repeat).
#[derive(Debug, Clone)]
pub struct LineFacts {
    /// The match form ([`crate::text::match_form`]).
    pub m: String,
    /// Characters of the match form.
    pub chars: usize,
    /// Whether the match form ends a sentence.
    pub ends_sentence: bool,
    /// Which marker, if any, the line is.
    pub class: LineClass,
    /// The line as kept ([`crate::page::cleanup::clean_line`]); shared, because the
    /// segmenter holds a line and the boilerplate sample sends it on without copying it
    /// (a clone here was a tenth of the scan's allocations).
    pub cleaned: std::sync::Arc<str>,
    /// [`LineFacts::boilerplate_key`], once computed.
    pub(crate) bkey: std::cell::OnceCell<u64>,
    /// Whether `cleaned` is the raw line itself, so that its match form is `m`.
    pub(crate) cleaned_is_raw: bool,
}

impl PartialEq for LineFacts {
    /// Equal facts, whether or not their boilerplate key was computed yet.
    fn eq(&self, o: &LineFacts) -> bool {
        (
            &self.m,
            self.chars,
            self.ends_sentence,
            &self.class,
            &self.cleaned,
        ) == (&o.m, o.chars, o.ends_sentence, &o.class, &o.cleaned)
    }
}

impl LineFacts {
    /// The key learned boilerplate counts the line under: xxh3 of the match form of the
    /// cleaned line (computed once per facts; when cleanup left the line as it was, that
    /// match form is `m`).
    pub fn boilerplate_key(&self) -> u64 {
        *self.bkey.get_or_init(|| {
            let key = |m: &str| xxhash_rust::xxh3::xxh3_64(m.as_bytes());
            match self.cleaned_is_raw {
                true => key(&self.m),
                false => key(&match_form(&self.cleaned)),
            }
        })
    }
}

/// Which marker a line is, in the order the segmenter tests them.
#[derive(Debug, Clone, PartialEq)]
pub enum LineClass {
    /// Not a marker.
    Plain,
    /// `profile.navigation[i]`.
    Navigation(usize),
    /// `profile.related[i]`.
    Related(usize),
    /// `profile.header_disclaimer[i]`.
    Header(usize),
    /// `profile.footer_disclaimer[i]`.
    Footer(usize),
    /// `profile.trending[i]`, with the terms that follow the marker on the same line.
    Trending(usize, Vec<String>),
    /// `profile.related_date`: a related block's date line.
    Date {
        /// The `category` group.
        category: Option<String>,
        /// The `date` group, ISO.
        date: Option<String>,
    },
}
