//! Jobs run in a fixed order by the pool's threads, with each job's texts asked for ahead.
//!
//! Verification reads back the texts of one component at a time, by offset, from a file
//! that at scale is larger than what the page cache keeps of it: with one blocking read per
//! text the threads wait on the disk for much of the time (at 1M templated pages the two
//! workers of a run were idle 46% of the verify phase). Here the pool's threads take jobs
//! from one queue in order, and a reader thread walks the same order ahead of them, asking
//! for the texts of the next jobs (`will_need`: for a file, `posix_fadvise(WILLNEED)`,
//! which starts the reads and returns), at most [`AHEAD`] texts ahead of the work so that
//! what it brings in is still in memory when a worker reads it. The results are in job
//! order whatever the threads' timing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How many texts the reader asks for ahead of the jobs the workers have started
/// (~25 MB of 6-KB records: a few hundred milliseconds of verification).
pub const AHEAD: usize = 4096;

/// Asks for a text's bytes ahead of its read (a hint: it must not block for long and
/// cannot fail).
pub type WillNeed<'a> = &'a (dyn Fn(u32) + Sync);

/// Runs `work` over `jobs` on the current rayon pool's threads, taking jobs in order; with
/// `will_need`, a reader thread calls it for each job's `texts` ahead of the work. Returns
/// the results in job order, or the error of the first failing job in that order (a
/// failure stops the workers taking new jobs).
pub fn run<J, T, E, W>(
    jobs: &[J],
    texts: impl Fn(&J) -> &[u32] + Sync,
    will_need: Option<WillNeed<'_>>,
    work: W,
) -> Result<Vec<T>, E>
where
    J: Sync,
    T: Send,
    E: Send,
    W: Fn(&J) -> Result<T, E> + Sync,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let done: Mutex<Vec<(usize, Result<T, E>)>> = Mutex::new(Vec::with_capacity(jobs.len()));
    std::thread::scope(|s| {
        if let Some(hint) = will_need {
            let (next, stop, texts) = (&next, &stop, &texts);
            s.spawn(move || read_ahead(jobs, texts, hint, next, stop));
        }
        rayon::scope(|r| {
            for _ in 0..rayon::current_num_threads() {
                r.spawn(|_| {
                    let mut mine = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(k) else { break };
                        let result = work(job);
                        if result.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        mine.push((k, result));
                    }
                    done.lock().unwrap_or_else(|e| e.into_inner()).extend(mine);
                });
            }
        });
        // The workers are done: the reader has nothing left to stay ahead of.
        stop.store(true, Ordering::Relaxed);
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_unstable_by_key(|&(k, _)| k);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The reader: asks for the texts of each job in order, keeping at most [`AHEAD`] texts
/// beyond the first job not yet taken by a worker.
fn read_ahead<J>(
    jobs: &[J],
    texts: &(impl Fn(&J) -> &[u32] + Sync),
    will_need: WillNeed<'_>,
    next: &AtomicUsize,
    stop: &AtomicBool,
) {
    // `before[k]`: texts of the jobs before job k, for the jobs asked for so far.
    let mut before = vec![0usize];
    for job in jobs {
        let ids = texts(job);
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let taken = next.load(Ordering::Relaxed).min(before.len() - 1);
            let ahead = before[before.len() - 1] - before[taken];
            if ahead < AHEAD {
                break;
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        for &id in ids {
            will_need(id);
        }
        before.push(before[before.len() - 1] + ids.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(n: u32) -> Vec<Vec<u32>> {
        (0..n)
            .map(|j| (0..1 + j % 7).map(|t| j * 10 + t).collect())
            .collect()
    }

    #[test]
    fn results_come_in_job_order_whatever_the_threads() {
        let jobs = jobs(2_000);
        for threads in [1, 2, 4] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let asked = Mutex::new(Vec::new());
            let hint = |t: u32| asked.lock().unwrap().push(t);
            let out = pool
                .install(|| {
                    run(
                        &jobs,
                        |j| j.as_slice(),
                        Some(&hint),
                        |j| Ok::<_, ()>(j.iter().sum::<u32>()),
                    )
                })
                .unwrap();
            let want: Vec<u32> = jobs.iter().map(|j| j.iter().sum()).collect();
            assert_eq!(out, want, "{threads} threads");
            // The reader asked for texts in job order, each once, never all of them before
            // the work began unless they fit in the window.
            let asked = asked.into_inner().unwrap();
            let order: Vec<u32> = jobs.iter().flatten().copied().collect();
            assert_eq!(asked, order[..asked.len()]);
        }
    }

    #[test]
    fn the_first_failing_job_in_order_is_the_error() {
        let jobs = jobs(500);
        let out = run(
            &jobs,
            |j| j.as_slice(),
            None,
            |j| match j[0] {
                1000 | 3000 => Err(j[0]),
                x => Ok(x),
            },
        );
        assert_eq!(out, Err(1000));
    }

    #[test]
    fn the_reader_stays_within_the_window() {
        // One worker that waits for the reader to get ahead, then checks the distance.
        let jobs: Vec<Vec<u32>> = (0..50)
            .map(|j| (0..1000).map(|t| j * 1000 + t).collect())
            .collect();
        let asked = AtomicUsize::new(0);
        let hint = |_t: u32| {
            asked.fetch_add(1, Ordering::Relaxed);
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let worst = AtomicUsize::new(0);
        pool.install(|| {
            run(
                &jobs,
                |j| j.as_slice(),
                Some(&hint),
                |j| {
                    std::thread::sleep(Duration::from_millis(2));
                    let started = j[0] as usize; // texts of the jobs before this one
                    let beyond = asked.load(Ordering::Relaxed).saturating_sub(started + 1000);
                    worst.fetch_max(beyond, Ordering::Relaxed);
                    Ok::<_, ()>(())
                },
            )
        })
        .unwrap();
        assert!(worst.load(Ordering::Relaxed) <= AHEAD + 1000);
    }
}
