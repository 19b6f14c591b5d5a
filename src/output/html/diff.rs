//! The character diff of two texts that `report.html` shows side by side.

use super::escape;

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
        let v = escape(text);
        self.left.push_str(&v);
        self.right.push_str(&v);
    }

    /// Text only the kept side has.
    fn del(&mut self, text: &str) {
        if !text.is_empty() {
            self.left.push_str("<del>");
            self.left.push_str(&escape(text));
            self.left.push_str("</del>");
        }
    }

    /// Text only the other side has.
    fn ins(&mut self, text: &str) {
        if !text.is_empty() {
            self.right.push_str("<ins>");
            self.right.push_str(&escape(text));
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
    /// otherwise.
    fn hunk(&mut self, a: &str, b: &str) {
        if a.is_empty() || b.is_empty() {
            self.del(a);
            self.ins(b);
            return;
        }
        if a.chars().count() > HUNK_MAX_CHARS || b.chars().count() > HUNK_MAX_CHARS {
            self.del(a);
            self.ins(b);
            return;
        }
        let diff = similar::TextDiff::from_chars(a, b);
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Equal => self.equal(change.value()),
                similar::ChangeTag::Delete => self.del(change.value()),
                similar::ChangeTag::Insert => self.ins(change.value()),
            }
        }
    }
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
