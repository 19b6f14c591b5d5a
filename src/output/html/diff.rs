//! The character diff of two texts that `report.html` shows side by side.

use super::{escape, escape_into};

/// Texts longer than this are diffed on their first this-many characters (the rest shown
/// plain), so one huge page cannot stall the report.
const DIFF_MAX_CHARS: usize = 20_000;

/// A changed run of lines is diffed character by character only when each side has at most
/// this many characters; a longer one is marked whole. This bounds the work of every diff
/// (Myers' cost grows with length × differences) by the text, never by a clock: the report
/// is the same bytes on an idle machine and on a loaded one.
const HUNK_MAX_CHARS: usize = 4_000;

/// Character-level diff of `kept` against `other`, as two escaped HTML fragments: what only
/// the kept text has is `<del>` on the left, what only the other has is `<ins>` on the
/// right. Lines are matched first; changed runs of lines are then diffed by character
/// (`HUNK_MAX_CHARS`).
pub fn diff_html(kept: &str, other: &str) -> (String, String) {
    let cut = |s: &str| -> (String, String) {
        let head: String = s.chars().take(DIFF_MAX_CHARS).collect();
        let tail = s[head.len()..].to_string();
        (head, tail)
    };
    let (a, a_rest) = cut(kept);
    let (b, b_rest) = cut(other);
    let lines = similar::TextDiff::from_lines(&a, &b);
    let (old, new) = (lines.old_slices(), lines.new_slices());
    let mut marks = Marks::default();
    let (mut old_at, mut new_at) = (0, 0);
    for op in lines.ops() {
        let (o, n) = (op.old_range(), op.new_range());
        if op.tag() == similar::DiffTag::Equal {
            marks.lines(&old[old_at..o.start], &new[new_at..n.start]);
            marks.equal(&old[o.clone()].concat());
            (old_at, new_at) = (o.end, n.end);
        }
    }
    marks.lines(&old[old_at..], &new[new_at..]);
    marks.left.push_str(&escape(&a_rest));
    marks.right.push_str(&escape(&b_rest));
    (
        merge_marks(&marks.left, "del"),
        merge_marks(&marks.right, "ins"),
    )
}

/// The two sides of a diff being written.
#[derive(Default)]
struct Marks {
    left: String,
    right: String,
}

impl Marks {
    /// Text both sides have.
    fn equal(&mut self, text: &str) {
        escape_into(&mut self.left, text);
        escape_into(&mut self.right, text);
    }

    /// Text only the kept side has.
    fn del(&mut self, text: &str) {
        if !text.is_empty() {
            self.left.push_str("<del>");
            escape_into(&mut self.left, text);
            self.left.push_str("</del>");
        }
    }

    /// Text only the other side has.
    fn ins(&mut self, text: &str) {
        if !text.is_empty() {
            self.right.push_str("<ins>");
            escape_into(&mut self.right, text);
            self.right.push_str("</ins>");
        }
    }

    /// A changed run of lines: as one hunk when it is short enough, else line by line in
    /// pairs (the lines one side has more of marked whole).
    fn lines(&mut self, a: &[&str], b: &[&str]) {
        let (ja, jb) = (a.concat(), b.concat());
        let short = |s: &str| s.chars().count() <= HUNK_MAX_CHARS;
        if short(&ja) && short(&jb) {
            return self.hunk(&ja, &jb);
        }
        let paired = a.len().min(b.len());
        for (x, y) in a.iter().zip(b) {
            self.hunk(x, y);
        }
        self.del(&a[paired..].concat());
        self.ins(&b[paired..].concat());
    }

    /// Two texts: diffed by character when both sides are short enough, marked whole
    /// otherwise. The diff runs on the characters themselves (Myers, as
    /// `TextDiff::from_chars` runs it, without its table of distinct tokens), and each of
    /// its operations is written as one run of text, not a character at a time.
    fn hunk(&mut self, a: &str, b: &str) {
        if a.is_empty() || b.is_empty() {
            self.del(a);
            self.ins(b);
            return;
        }
        let (ac, ai) = chars_and_starts(a);
        let (bc, bi) = chars_and_starts(b);
        if ac.len() > HUNK_MAX_CHARS || bc.len() > HUNK_MAX_CHARS {
            self.del(a);
            self.ins(b);
            return;
        }
        let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &ac, &bc);
        for op in ops {
            let (tag, o, n) = op.as_tag_tuple();
            let (old, new) = (&a[ai[o.start]..ai[o.end]], &b[bi[n.start]..bi[n.end]]);
            match tag {
                similar::DiffTag::Equal => self.equal(old),
                similar::DiffTag::Delete => self.del(old),
                similar::DiffTag::Insert => self.ins(new),
                similar::DiffTag::Replace => {
                    self.del(old);
                    self.ins(new);
                }
            }
        }
    }
}

/// The characters of `s` and the byte offset each starts at, with `s.len()` last.
fn chars_and_starts(s: &str) -> (Vec<char>, Vec<usize>) {
    let mut chars = Vec::with_capacity(s.len());
    let mut starts = Vec::with_capacity(s.len() + 1);
    for (i, c) in s.char_indices() {
        chars.push(c);
        starts.push(i);
    }
    starts.push(s.len());
    (chars, starts)
}

/// `<del>a</del><del>b</del>` → `<del>ab</del>`: one mark per run, a smaller file.
fn merge_marks(s: &str, tag: &str) -> String {
    s.replace(&format!("</{tag}><{tag}>"), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changes_and_escapes() {
        let (l, r) = diff_html("医保<可以>报销", "医保<不可以>报销");
        assert_eq!(l, "医保&lt;可以&gt;报销");
        assert_eq!(r, "医保&lt;<ins>不</ins>可以&gt;报销");
        let (l, r) = diff_html("甲乙丙", "甲丙丁");
        assert_eq!(
            (l.as_str(), r.as_str()),
            ("甲<del>乙</del>丙", "甲丙<ins>丁</ins>")
        );
    }

    /// The hunk as it was written first: `TextDiff::from_chars`, one change (one character)
    /// at a time.
    fn hunk_by_changes(a: &str, b: &str) -> (String, String) {
        let mut m = Marks::default();
        let diff = similar::TextDiff::from_chars(a, b);
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Equal => m.equal(change.value()),
                similar::ChangeTag::Delete => m.del(change.value()),
                similar::ChangeTag::Insert => m.ins(change.value()),
            }
        }
        (merge_marks(&m.left, "del"), merge_marks(&m.right, "ins"))
    }

    /// Runs of operations give the marks one change at a time gave, on short and long
    /// (over the crate's 100-token switch) random pairs with edits, moves and markup.
    #[test]
    fn the_hunk_marks_what_the_change_by_change_diff_marked() {
        let alphabet: Vec<char> = "医保个人账户报销门诊<>&\"'ab 1\n".chars().collect();
        let mut rng = crate::synth::Rng::new(17);
        for round in 0..400 {
            let len = [5, 40, 150, 400][round % 4];
            let a: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
            let mut b: Vec<char> = a.chars().collect();
            for _ in 0..rng.below(12) {
                let at = rng.below(b.len() + 1);
                match rng.below(3) {
                    0 if at < b.len() => {
                        b.remove(at);
                    }
                    1 => b.insert(at, *rng.pick(&alphabet)),
                    _ if at < b.len() => b[at] = *rng.pick(&alphabet),
                    _ => {}
                }
            }
            let b: String = b.into_iter().collect();
            let mut m = Marks::default();
            m.hunk(&a, &b);
            let got = (merge_marks(&m.left, "del"), merge_marks(&m.right, "ins"));
            assert_eq!(got, hunk_by_changes(&a, &b), "{a:?} / {b:?}");
        }
    }

    /// Same input, same bytes: the diff's work is bounded by the text (lines first, changed
    /// runs by character up to a size), never by a clock, so a loaded machine writes the
    /// same report as an idle one. Two long texts with an edit in every line are still
    /// diffed by character, and a run too long for that is marked whole.
    #[test]
    fn the_diff_is_bounded_by_work_not_time() {
        let line = |i: usize, w: &str| format!("第{i}条：医保个人账户{w}用于门诊和药店购药。\n");
        let a: String = (0..400).map(|i| line(i, "可以")).collect();
        let b: String = (0..400).map(|i| line(i, "不能")).collect();
        let (l, r) = diff_html(&a, &b);
        assert_eq!(l.matches("<del>").count(), 400, "one mark a line");
        assert_eq!(r.matches("<ins>").count(), 400);
        assert_eq!(diff_html(&a, &b), (l, r), "the same bytes every time");
        let long_a = "甲".repeat(HUNK_MAX_CHARS + 1);
        let long_b = "乙".repeat(HUNK_MAX_CHARS + 1);
        let (l, r) = diff_html(&long_a, &long_b);
        assert_eq!(
            (l.matches("<del>").count(), r.matches("<ins>").count()),
            (1, 1)
        );
    }
}
