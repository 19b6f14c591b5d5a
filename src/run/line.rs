//! An article's line of `articles.jsonl` or `dropped.jsonl` in two halves: what the
//! decisions say of it ([`LinePlan`]: ids, aliases, a dropped row's fields) and what its
//! record holds (title, text, related blocks), joined by [`render_line`]. The CLI's writer
//! makes both halves in one process; the Ray job's writer tasks get the plans and read the
//! records where they lie ([`crate::run::write_parts`]).

use crate::output::json_str::write_json_str;
use crate::record::{related_list, DroppedRecord};
use crate::run::spill::Spilled;

/// Where each record's line is in a file — (record index, offset, length) — and the
/// file's length.
pub type Lines = (Vec<(u32, u64, u32)>, u64);

/// What the decisions say of one article's line; the rest of it is its record's
/// ([`render_line`]). The writer tasks of a distributed run get this and read the record
/// themselves ([`crate::run::write_parts`]).
#[derive(Debug, Clone, PartialEq)]
pub enum LinePlan {
    /// A line of `articles.jsonl`: the article's id, its duplicates' ids, its aliases.
    Kept {
        /// Its id.
        id: String,
        /// The ids of the records dropped for it.
        duplicates: Vec<String>,
        /// Their titles that differ from its own.
        aliases: Vec<String>,
    },
    /// A line of `dropped.jsonl`: the row's JSON up to its title's value (`head`) and
    /// from after its text's (`tail`, with the line break).
    Dropped {
        /// `{"id":…,"title":`.
        head: Vec<u8>,
        /// `,"duplicate_of":…}` and the line break.
        tail: Vec<u8>,
    },
}

/// Where a dropped row's title and text go: serialized empty, they are cut out and the
/// record's written in their place. Strings are escaped in JSON, so these quotes are the
/// row's own fields, and the first match is the title's.
const TITLE_AND_TEXT: &[u8] = br#","title":"","text":"""#;

impl LinePlan {
    /// The plan of a dropped row whose title and text are empty: its JSON cut where they
    /// go.
    pub fn dropped(row: &DroppedRecord) -> std::io::Result<LinePlan> {
        let mut line = Vec::with_capacity(512);
        serde_json::to_writer(&mut line, row)?;
        line.push(b'\n');
        let at = line
            .windows(TITLE_AND_TEXT.len())
            .position(|w| w == TITLE_AND_TEXT)
            .ok_or_else(|| std::io::Error::other("a dropped row without its title and text"))?;
        let tail = line.split_off(at + TITLE_AND_TEXT.len());
        line.truncate(at);
        line.extend_from_slice(br#","title":"#);
        Ok(LinePlan::Dropped { head: line, tail })
    }
}

/// An article's line from its plan and its record: `(true, line)` for `dropped.jsonl`,
/// `(false, line)` for `articles.jsonl`. `related(key)` is the id of the snippet a
/// related block's key resolved to.
pub fn render_line<'a>(
    plan: &LinePlan,
    sp: &Spilled,
    related: &dyn Fn(u128) -> Option<&'a str>,
) -> (bool, Vec<u8>) {
    let mut line = Vec::with_capacity(sp.text.len() * 2 + 512);
    match plan {
        LinePlan::Dropped { head, tail } => {
            line.extend_from_slice(head);
            write_json_str(&mut line, &sp.title);
            line.extend_from_slice(br#","text":"#);
            write_json_str(&mut line, &sp.text);
            line.extend_from_slice(tail);
            (true, line)
        }
        LinePlan::Kept {
            id,
            duplicates,
            aliases,
        } => {
            let related = related_list(sp.related.iter().filter_map(|&key| related(key)));
            let related: Vec<&str> = related.iter().map(String::as_str).collect();
            sp.write_article(&mut line, id, &related, duplicates, aliases);
            line.push(b'\n');
            (false, line)
        }
    }
}
