//! `articles.jsonl` and the articles of `dropped.jsonl` written by partition tasks (the Ray
//! job's `pagesieve.write[p]` with `--partitions N`), joined in input order by phase 2:
//!
//! ```text
//! phase 2 (pagesieve.finish)   the articles in input order, cut into N contiguous runs
//!                              → write-PPPP.plan (each article's line plan — its id and
//!                              duplicates' ids and aliases, or its dropped row without
//!                              title and text — and where its record is), and once
//!                              related.ids (each related block's key → its snippet's id)
//! pagesieve.write[p]           write-PPPP.plan → write-PPPP.kept, .dropped (the lines,
//!                              in input order) and .lines (each kept line's page and
//!                              length), rendered by the writer's own render_line
//! phase 2                      every run's files, in order → articles.jsonl and the
//!                              head of dropped.jsonl, each kept line's offset
//! ```
//!
//! A record goes by reference (a shard spill file, offset and length) when it lies in a
//! shard's spill, by value otherwise (a record phase 2 spilled again, or every record when
//! the tasks cannot read the shard files: [`FileTasks::inline`]). The lines are the
//! CLI's byte for byte: the plan is what `line_plan` gives the CLI's writer, and the
//! task renders it with the same [`render_line`].
//!
//! Every file is written under a temporary name and renamed, the `.lines` file last: a
//! task killed and run again rewrites the same bytes, and a `.lines` file that exists
//! names whole parts.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::codec::{corrupt, Dec, Enc};
use crate::error::Error;
use crate::run::file_tasks::{
    damaged, number_places, read, read_at, temp_of, write_whole, FileTasks,
};
use crate::run::line::{render_line, LinePlan, Lines};
use crate::run::spill::{record_of, Spilled};

const PLAN_MAGIC: &[u8; 8] = b"PSWPLAN1";
const RELATED_MAGIC: &[u8; 8] = b"PSWRELID";
const LINES_MAGIC: &[u8; 8] = b"PSWLINE1";

/// Pages planned, then rendered, at a time (in parallel).
const CHUNK: usize = 2048;

/// Partition `part`'s plan file in `dir`.
pub fn plan_file(dir: &Path, part: u32) -> PathBuf {
    dir.join(format!("write-{part:04}.plan"))
}

/// The related-ids file of the plans in `dir`.
fn related_file(dir: &Path) -> PathBuf {
    dir.join("related.ids")
}

/// A plan's parts: its kept lines, its dropped lines, its line list.
fn parts_of(plan: &Path) -> [PathBuf; 3] {
    ["kept", "dropped", "lines"].map(|ext| plan.with_extension(ext))
}

/// Where a page's record is, for a task.
#[derive(Debug, Clone, PartialEq)]
enum RecordAt {
    /// `len` bytes at `offset` of file `file` of the plan's file list.
    Record { file: u32, offset: u64, len: u32 },
    /// The record itself ([`Spilled::encode`]).
    Encoded(Vec<u8>),
}

/// What phase 2 gives the writer tasks.
pub struct Plans<'a> {
    /// The article pages, in input order.
    pub articles: &'a [u32],
    /// Page `i`'s line plan.
    pub plan: &'a (dyn Fn(u32) -> Result<LinePlan, Error> + Sync),
    /// Where page `i`'s record lies when a task can read it there.
    pub locate: &'a (dyn Fn(u32) -> Option<(PathBuf, u64, u32)> + Sync),
    /// Page `i`'s record.
    pub load: &'a (dyn Fn(u32) -> Result<Spilled, Error> + Sync),
    /// Every related block key the writer may meet with its snippet's id.
    pub related: &'a [(u128, &'a str)],
    /// Called after each chunk of entries is written (what the plans read of the pages
    /// can be handed back: [`crate::run::sources::Sources::release`]).
    pub chunk_done: &'a (dyn Fn() + Sync),
}

/// Writes `articles.jsonl`'s lines into `kept` and the articles' `dropped.jsonl` lines
/// into `dropped` through `tasks`; returns each kept line's (page, offset, length) and the
/// bytes written to `kept`. Every file of it is removed afterwards.
pub fn through_tasks(
    tasks: &FileTasks<'_>,
    plans: &Plans<'_>,
    (kept, dropped): (&mut dyn Write, &mut dyn Write),
    bar: &indicatif::ProgressBar,
) -> Result<Lines, Error> {
    let jobs = write_plans(tasks, plans)?;
    let done = tasks.run_jobs(&jobs, "the writer tasks")?;
    let joined = join(&done, (kept, dropped), bar);
    for j in &jobs {
        for f in parts_of(j).iter().chain([j]) {
            let _ = std::fs::remove_file(f);
        }
    }
    let _ = std::fs::remove_file(related_file(tasks.dir));
    let _ = std::fs::remove_dir(tasks.dir);
    joined
}

/// Writes the related ids and one plan file per non-empty run of articles; returns the
/// plan files in order.
pub fn write_plans(tasks: &FileTasks<'_>, plans: &Plans<'_>) -> Result<Vec<PathBuf>, Error> {
    let dir = tasks.dir;
    std::fs::create_dir_all(dir).map_err(Error::output(dir))?;
    let mut e = Enc::default();
    e.0.extend_from_slice(RELATED_MAGIC);
    e.u32(plans.related.len() as u32);
    for (key, id) in plans.related {
        e.u128(*key);
        e.str(id);
    }
    write_whole(&related_file(dir), &e.0)?;
    let n = plans.articles.len();
    let parts = (tasks.parts.max(1) as usize).min(n.max(1));
    let mut files = Vec::new();
    for p in 0..parts {
        let run = &plans.articles[p * n / parts..(p + 1) * n / parts];
        if run.is_empty() {
            continue;
        }
        let path = plan_file(dir, p as u32);
        write_plan(&path, run, plans, tasks.inline)?;
        files.push(path);
    }
    Ok(files)
}

/// One run's plan file: the record files, then each page's entry.
fn write_plan(path: &Path, run: &[u32], plans: &Plans<'_>, inline: bool) -> Result<(), Error> {
    let (files, places) = number_places(run.iter().map(|&pi| (plans.locate)(pi)), inline);
    let io = Error::output(path);
    let tmp = temp_of(path);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).map_err(&io)?);
    w.write_all(&plan_header(&files, run.len() as u32))
        .map_err(&io)?;
    for (pages, places) in run.chunks(CHUNK).zip(places.chunks(CHUNK)) {
        let entries: Vec<Vec<u8>> = pages
            .par_iter()
            .zip(places)
            .map(|(&pi, place)| {
                let at = match *place {
                    Some((file, offset, len)) => RecordAt::Record { file, offset, len },
                    None => RecordAt::Encoded((plans.load)(pi)?.encode()),
                };
                Ok(encode_entry(pi, &at, &(plans.plan)(pi)?))
            })
            .collect::<Result<_, Error>>()?;
        entries
            .iter()
            .try_for_each(|b| w.write_all(b))
            .map_err(&io)?;
        (plans.chunk_done)();
    }
    crate::output::jsonl::finish(w).map_err(&io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// A plan file's head: the magic, then one frame holding the record files and the count
/// of entries (each entry a frame after it: its length, then its bytes, so a task reads
/// one chunk of entries at a time).
fn plan_header(files: &[String], entries: u32) -> Vec<u8> {
    let mut e = Enc::default();
    e.u32(files.len() as u32);
    files.iter().for_each(|f| e.str(f));
    e.u32(entries);
    let mut out = PLAN_MAGIC.to_vec();
    out.extend_from_slice(&(e.0.len() as u32).to_le_bytes());
    out.extend(e.0);
    out
}

/// One entry of a plan, framed.
fn encode_entry(pi: u32, at: &RecordAt, plan: &LinePlan) -> Vec<u8> {
    let mut e = Enc::default();
    e.u32(0); // the frame's length, set below
    e.u32(pi);
    match at {
        RecordAt::Record { file, offset, len } => {
            e.u8(0);
            e.u32(*file);
            e.u64(*offset);
            e.u32(*len);
        }
        RecordAt::Encoded(b) => {
            e.u8(1);
            e.bytes(b);
        }
    }
    match plan {
        LinePlan::Kept {
            id,
            duplicates,
            aliases,
        } => {
            e.u8(0);
            e.str(id);
            for list in [duplicates, aliases] {
                e.u32(list.len() as u32);
                list.iter().for_each(|s| e.str(s));
            }
        }
        LinePlan::Dropped { head, tail } => {
            e.u8(1);
            e.bytes(head);
            e.bytes(tail);
        }
    }
    let len = (e.0.len() - 4) as u32;
    e.0[..4].copy_from_slice(&len.to_le_bytes());
    e.0
}

/// A plan file read a chunk of entries at a time: what a writer task holds is one chunk,
/// not its whole run.
struct PlanReader<R> {
    r: R,
    /// The record files entries refer to.
    files: Vec<String>,
    /// Entries not read yet.
    left: u32,
}

/// An entry: its page, where its record is, its line plan.
type Entry = (u32, RecordAt, LinePlan);

impl<R: std::io::Read> PlanReader<R> {
    fn open(mut r: R) -> std::io::Result<Self> {
        let mut magic = [0u8; 8];
        r.read_exact(&mut magic)
            .map_err(|_| corrupt("writer plan"))?;
        if &magic != PLAN_MAGIC {
            return Err(corrupt("writer plan"));
        }
        let head = read_frame(&mut r)?.ok_or_else(|| corrupt("writer plan"))?;
        let mut d = Dec(&head);
        let files = (0..d.u32()?)
            .map(|_| d.string())
            .collect::<std::io::Result<Vec<_>>>()?;
        let left = d.u32()?;
        if !d.is_empty() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(PlanReader { r, files, left })
    }

    /// The next `max` entries at most (none at the end, where the file must end too).
    fn chunk(&mut self, max: usize) -> std::io::Result<Vec<Entry>> {
        let n = (self.left as usize).min(max);
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let frame = read_frame(&mut self.r)?.ok_or_else(|| corrupt("writer plan cut short"))?;
            out.push(decode_entry(&frame, self.files.len())?);
        }
        self.left -= n as u32;
        if self.left == 0 && read_frame(&mut self.r)?.is_some() {
            return Err(corrupt("trailing bytes"));
        }
        Ok(out)
    }
}

/// The next frame (its length, then its bytes); `None` at the end of the input.
fn read_frame(r: &mut impl std::io::Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read(&mut len[..1])? {
        0 => return Ok(None),
        _ => r
            .read_exact(&mut len[1..])
            .map_err(|_| corrupt("frame length"))?,
    }
    let mut frame = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut frame)
        .map_err(|_| corrupt("frame cut short"))?;
    Ok(Some(frame))
}

fn decode_entry(frame: &[u8], files: usize) -> std::io::Result<Entry> {
    let mut d = Dec(frame);
    let pi = d.u32()?;
    let at = match d.u8()? {
        0 => {
            let (file, offset, len) = (d.u32()?, d.u64()?, d.u32()?);
            if file as usize >= files {
                return Err(corrupt("record file number"));
            }
            RecordAt::Record { file, offset, len }
        }
        1 => RecordAt::Encoded(d.bytes()?.to_vec()),
        _ => return Err(corrupt("record place")),
    };
    let plan = match d.u8()? {
        0 => {
            let id = d.string()?;
            let mut lists = [Vec::new(), Vec::new()];
            for list in &mut lists {
                *list = (0..d.u32()?)
                    .map(|_| d.string())
                    .collect::<std::io::Result<_>>()?;
            }
            let [duplicates, aliases] = lists;
            LinePlan::Kept {
                id,
                duplicates,
                aliases,
            }
        }
        1 => LinePlan::Dropped {
            head: d.bytes()?.to_vec(),
            tail: d.bytes()?.to_vec(),
        },
        _ => return Err(corrupt("line plan")),
    };
    match d.is_empty() {
        true => Ok((pi, at, plan)),
        false => Err(corrupt("trailing bytes")),
    }
}

fn decode_related(bytes: &[u8]) -> std::io::Result<HashMap<u128, String>> {
    let mut d = match bytes.strip_prefix(RELATED_MAGIC.as_slice()) {
        Some(rest) => Dec(rest),
        None => return Err(corrupt("related ids")),
    };
    let map = (0..d.u32()?)
        .map(|_| Ok((d.u128()?, d.string()?)))
        .collect::<std::io::Result<_>>()?;
    match d.is_empty() {
        true => Ok(map),
        false => Err(corrupt("trailing bytes")),
    }
}

/// Runs the plan in `plan` (a task's work): renders every line on the current thread
/// pool, reading each record by reference or from the plan, into the plan's `.kept` and
/// `.dropped` files, then its `.lines`; returns the `.lines` file.
pub fn run_plan(plan: &Path) -> Result<PathBuf, Error> {
    // A Ray worker runs many tasks: what an earlier one freed goes back first.
    crate::trim::trim();
    let dir = plan.parent().unwrap_or(Path::new("."));
    let related_path = related_file(dir);
    let related = decode_related(&read(&related_path)?).map_err(damaged(&related_path))?;
    let file = std::fs::File::open(plan).map_err(damaged(plan))?;
    let mut reader = PlanReader::open(std::io::BufReader::with_capacity(1 << 20, file))
        .map_err(damaged(plan))?;
    let files = reader.files.clone();
    let record = |at: &RecordAt| -> Result<Spilled, Error> {
        match at {
            RecordAt::Encoded(b) => Spilled::decode(b).map_err(damaged(plan)),
            &RecordAt::Record { file, offset, len } => {
                let path = Path::new(&files[file as usize]);
                read_at(path, offset, len)
                    .and_then(record_of)
                    .map_err(damaged(path))
            }
        }
    };
    let related_id = |key: u128| related.get(&key).map(String::as_str);
    let [kept_path, dropped_path, lines_path] = parts_of(plan);
    let io = Error::output(plan);
    let create = |p: &Path| std::fs::File::create(temp_of(p)).map(BufWriter::new);
    let (mut kept, mut dropped) = (
        create(&kept_path).map_err(&io)?,
        create(&dropped_path).map_err(&io)?,
    );
    let mut lines: Vec<(u32, u32)> = Vec::new();
    loop {
        let chunk = reader.chunk(CHUNK).map_err(damaged(plan))?;
        if chunk.is_empty() {
            break;
        }
        let rendered: Vec<(bool, Vec<u8>)> = chunk
            .par_iter()
            .map(|(_, at, plan)| Ok(render_line(plan, &record(at)?, &related_id)))
            .collect::<Result<_, Error>>()?;
        for ((pi, ..), (is_dropped, line)) in chunk.iter().zip(rendered) {
            match is_dropped {
                true => dropped.write_all(&line).map_err(&io)?,
                false => {
                    kept.write_all(&line).map_err(&io)?;
                    lines.push((*pi, line.len() as u32));
                }
            }
        }
    }
    for (w, p) in [(kept, &kept_path), (dropped, &dropped_path)] {
        crate::output::jsonl::finish(w).map_err(&io)?;
        std::fs::rename(temp_of(p), p).map_err(&io)?;
    }
    let mut e = Enc::default();
    e.0.extend_from_slice(LINES_MAGIC);
    e.u32(lines.len() as u32);
    for (pi, len) in lines {
        e.u32(pi);
        e.u32(len);
    }
    write_whole(&lines_path, &e.0)?;
    crate::trim::trim();
    Ok(lines_path)
}

/// Appends every run's parts, in order, to `kept` and `dropped`; returns each kept line's
/// (page, offset, length) and the bytes appended to `kept`.
fn join(
    done: &[PathBuf],
    (kept, dropped): (&mut dyn Write, &mut dyn Write),
    bar: &indicatif::ProgressBar,
) -> Result<Lines, Error> {
    let mut lines_at = Vec::new();
    let mut offset = 0u64;
    for lines_path in done {
        let bytes = read(lines_path)?;
        let list = decode_lines(&bytes).map_err(damaged(lines_path))?;
        let [kept_path, dropped_path, _] = parts_of(lines_path);
        let expected: u64 = list.iter().map(|&(_, len)| u64::from(len)).sum();
        let copied = copy_file(&kept_path, kept)?;
        if copied != expected {
            return Err(damaged(&kept_path)(corrupt("kept lines of another length")));
        }
        copy_file(&dropped_path, dropped)?;
        bar.inc(list.len() as u64);
        for (pi, len) in list {
            lines_at.push((pi, offset, len));
            offset += u64::from(len);
        }
    }
    Ok((lines_at, offset))
}

fn decode_lines(bytes: &[u8]) -> std::io::Result<Vec<(u32, u32)>> {
    let mut d = match bytes.strip_prefix(LINES_MAGIC.as_slice()) {
        Some(rest) => Dec(rest),
        None => return Err(corrupt("writer lines")),
    };
    let list = (0..d.u32()?)
        .map(|_| Ok((d.u32()?, d.u32()?)))
        .collect::<std::io::Result<Vec<_>>>()?;
    match d.is_empty() {
        true => Ok(list),
        false => Err(corrupt("trailing bytes")),
    }
}

/// Appends the file `path` to `out`; returns its length.
fn copy_file(path: &Path, out: &mut dyn Write) -> Result<u64, Error> {
    let mut f = std::fs::File::open(path).map_err(damaged(path))?;
    std::io::copy(&mut f, out).map_err(damaged(path))
}

/// Runs the plans in this process, one after another (the tasks' work, for tests and for
/// checking).
pub fn in_process(plans: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    plans.iter().map(|p| run_plan(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_entries_and_line_lists_read_back_and_damage_is_an_error() {
        let kept = LinePlan::Kept {
            id: "a-1".into(),
            duplicates: vec!["a-2".into()],
            aliases: vec!["别名".into()],
        };
        let dropped = LinePlan::Dropped {
            head: br#"{"id":"a-2","title":"#.to_vec(),
            tail: b",\"duplicate_of\":\"a-1\"}\n".to_vec(),
        };
        let at = RecordAt::Record {
            file: 0,
            offset: 7,
            len: 9,
        };
        let mut bytes = plan_header(&["/work/shard-000000.spill".into()], 2);
        bytes.extend(encode_entry(3, &at, &kept));
        bytes.extend(encode_entry(4, &RecordAt::Encoded(vec![1, 2]), &dropped));
        let mut r = PlanReader::open(&bytes[..]).unwrap();
        assert_eq!(r.files, ["/work/shard-000000.spill"]);
        let first = r.chunk(1).unwrap();
        assert_eq!(first, [(3, at, kept)]);
        let second = r.chunk(5).unwrap();
        assert_eq!(second[0].2, dropped);
        assert!(r.chunk(5).unwrap().is_empty());
        let whole = |b: &[u8]| -> std::io::Result<usize> {
            let mut r = PlanReader::open(b)?;
            Ok(r.chunk(1)?.len() + r.chunk(9)?.len())
        };
        assert_eq!(whole(&bytes).unwrap(), 2);
        for cut in 0..bytes.len() {
            assert!(whole(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.extend(encode_entry(5, &RecordAt::Encoded(vec![]), &dropped));
        assert!(whole(&longer).is_err(), "an entry past the count");
        let mut l = Enc::default();
        l.0.extend_from_slice(LINES_MAGIC);
        l.u32(1);
        l.u32(3);
        l.u32(120);
        assert_eq!(decode_lines(&l.0).unwrap(), [(3, 120)]);
        assert!(decode_lines(&l.0[..l.0.len() - 1]).is_err());
    }
}
