//! Article records by page index: what the decisions read texts from and the writer reads
//! records from — the spill file in a run ([`SpillStore`]), memory in tests.

use crate::error::Error;
use crate::run::spill::{Spill, SpillRef, Spilled};
use crate::run::summaries::Summaries;

/// Where article records are read back from.
pub trait ArticleStore: Sync {
    /// The record of page `page` (which must be an article).
    fn load(&self, page: u32) -> Result<Spilled, Error>;

    /// The text of page `page`'s record (by default through [`ArticleStore::load`]).
    fn text(&self, page: u32) -> Result<String, Error> {
        self.load(page).map(|r| r.text)
    }

    /// Asks for the record of page `page` ahead of its [`ArticleStore::load`] (a hint;
    /// by default nothing).
    fn will_need(&self, _page: u32) {}

    /// Where page `page`'s record lies when another process can read it there
    /// ([`Spill::locate`]); `None` by default.
    fn locate(&self, _page: u32) -> Option<(std::path::PathBuf, u64, u32)> {
        None
    }
}

/// The spill file, addressed by page index through the page summaries.
pub struct SpillStore<'a> {
    spill: &'a Spill,
    pages: &'a Summaries,
}

impl<'a> SpillStore<'a> {
    /// Records of `pages`, read from `spill`.
    pub fn new(spill: &'a Spill, pages: &'a Summaries) -> Self {
        SpillStore { spill, pages }
    }
}

impl SpillStore<'_> {
    /// Where page `page`'s record is.
    fn spilled(&self, page: u32) -> Result<SpillRef, Error> {
        match self.pages.spill(page as usize) {
            Some(spill) => Ok(spill),
            None => Err(Error::Spill(std::io::Error::other(format!(
                "page {page} has no article record"
            )))),
        }
    }
}

impl ArticleStore for SpillStore<'_> {
    fn load(&self, page: u32) -> Result<Spilled, Error> {
        self.spill.article(self.spilled(page)?)
    }

    fn text(&self, page: u32) -> Result<String, Error> {
        self.spill.text(self.spilled(page)?)
    }

    fn will_need(&self, page: u32) {
        if let Ok(r) = self.spilled(page) {
            self.spill.will_need(r);
        }
    }

    fn locate(&self, page: u32) -> Option<(std::path::PathBuf, u64, u32)> {
        self.spill.locate(self.spilled(page).ok()?)
    }
}

/// Records held in memory, by page index (tests and small tools).
impl ArticleStore for Vec<Option<Spilled>> {
    fn load(&self, page: u32) -> Result<Spilled, Error> {
        self.get(page as usize).cloned().flatten().ok_or_else(|| {
            Error::Spill(std::io::Error::other(format!("no record for page {page}")))
        })
    }
}
