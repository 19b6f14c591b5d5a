//! Freed heap memory handed back to the system between the phases of a run
//! (`malloc_trim`, glibc only). Each phase frees most of what it allocated (the scan's
//! per-page buffers, the search's tables), but the allocator keeps freed pages in its
//! arenas, so without this a run's resident memory only ever grows: at 100k templated
//! pages it held 242 MB after learning boilerplate where 158 MB were in use.

/// Allocations from this size up get their own mapping (glibc's `M_MMAP_THRESHOLD`).
pub const MAPPED_FROM: usize = 1 << 20;

/// Gives every allocation of [`MAPPED_FROM`] bytes or more its own mapping, handed back
/// whole when freed (nothing where unsupported). By default glibc raises that threshold
/// each time such a block is freed (up to 32 MiB), after which a run's large buffers —
/// a band table, a growing column — are placed in the arenas among small allocations
/// and their pages stay resident once freed: at 200k templated pages ~13 MB more at every
/// phase, ~60 MB of free heap held at a million. Setting the threshold fixes it.
pub fn map_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a plain allocator setting; it changes where later allocations are placed.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAPPED_FROM as libc::c_int);
    }
}

/// Returns freed heap pages to the system (nothing where unsupported).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: a plain allocator call; it frees only memory no allocation holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Ends a phase: hands freed heap back ([`trim`]) and the pages of the mapped columns
/// back to the page cache ([`release_all`]: whatever the next phase reads of them it maps
/// again), and, when `PAGESIEVE_MEMORY_TRACE` is set, prints the resident and peak memory after `phase` to stderr (how BENCHMARKS.md
/// splits a run's peak by phase). With `PAGESIEVE_MEMORY_TRACE=phase` the peak is reset
/// after each line, so that each phase's peak is its own, not the run's so far.
pub fn phase_end(phase: &str) {
    trim();
    release_all();
    let Some(trace) = std::env::var_os("PAGESIEVE_MEMORY_TRACE") else {
        return;
    };
    if let Some((rss, hwm, anon)) = resident_kib() {
        eprintln!(
            "memory after {phase}: resident {} MiB ({} MiB anonymous), peak {} MiB{}{}",
            rss / 1024,
            anon / 1024,
            hwm / 1024,
            heap_use(),
            sampled::take()
        );
    }
    if trace == "phase" {
        sampled::start();
        // "5" resets the process's peak resident size (proc(5), /proc/pid/clear_refs).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}

/// Starts a run's phases: with `PAGESIEVE_MEMORY_TRACE=phase`, resets the process's peak
/// and starts the sampler, so that the first phase's line counts that phase only — in a
/// Ray worker that ran other tasks before (phase 2 runs where scan tasks ran), and not
/// only from the first phase's end on. Nothing without the variable.
pub fn phases_start() {
    if std::env::var_os("PAGESIEVE_MEMORY_TRACE").is_some_and(|t| t == "phase") {
        sampled::start();
        let _ = sampled::take();
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}

/// With `PAGESIEVE_MEMORY_TRACE=phase`, a thread that reads `/proc/self/statm` every
/// millisecond and keeps the phase's largest anonymous and file-backed resident sizes:
/// the kernel's peak is of their sum only, and a phase's peak may be either (a pass
/// over a mapped column, a buffer).
mod sampled {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Once;

    static ANON: AtomicU64 = AtomicU64::new(0);
    static FILE: AtomicU64 = AtomicU64::new(0);

    /// Starts the sampler once.
    pub fn start() {
        static STARTED: Once = Once::new();
        STARTED.call_once(|| {
            let _ = std::thread::Builder::new()
                .name("memory-trace".into())
                .spawn(|| loop {
                    if let Some((anon, file)) = statm_kib() {
                        ANON.fetch_max(anon, Ordering::Relaxed);
                        FILE.fetch_max(file, Ordering::Relaxed);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                });
        });
    }

    /// The phase's sampled peaks, for the trace line, reset for the next phase.
    pub fn take() -> String {
        let (anon, file) = (
            ANON.swap(0, Ordering::Relaxed),
            FILE.swap(0, Ordering::Relaxed),
        );
        match anon + file {
            0 => String::new(),
            _ => format!(
                " [sampled peaks: {} MiB anonymous, {} MiB file]",
                anon / 1024,
                file / 1024
            ),
        }
    }

    /// (resident − shared, shared) in KiB: anonymous and file-backed pages.
    fn statm_kib() -> Option<(u64, u64)> {
        let s = std::fs::read_to_string("/proc/self/statm").ok()?;
        let mut f = s.split_whitespace().skip(1).map(|x| x.parse::<u64>().ok());
        let (resident, shared) = (f.next()??, f.next()??);
        // SAFETY: a plain query of the page size.
        let kib = (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) / 1024) as u64;
        Some(((resident - shared.min(resident)) * kib, shared * kib))
    }
}

/// (VmRSS, VmHWM, RssAnon) in KiB, from `/proc/self/status` (None where it cannot be
/// read).
fn resident_kib() -> Option<(u64, u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?, field("RssAnon:")?))
}

/// The allocator's own account, for the memory trace: bytes in use in its arenas, bytes
/// free in them (held, not handed back), and bytes in its large mapped blocks.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap_use() -> String {
    // SAFETY: a plain allocator call that only reads its statistics.
    let m = unsafe { libc::mallinfo2() };
    let mib = |b: usize| b / (1024 * 1024);
    format!(
        " (heap: {} MiB in use, {} MiB free in arenas, {} MiB mapped blocks)",
        mib(m.uordblks),
        mib(m.fordblks),
        mib(m.hblkhd)
    )
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_use() -> String {
    String::new()
}

/// Shared mappings of files whose pages may leave the process's resident set once read
/// ([`release_read`]): (start address, length). Only such mappings are ever released —
/// for a shared file mapping `MADV_DONTNEED` unmaps the pages and the next access maps
/// them again from the page cache, the same bytes (written ones included); on any other
/// memory it would discard data.
static SHARED_FILE_MAPS: std::sync::Mutex<Vec<(usize, usize)>> = std::sync::Mutex::new(Vec::new());

/// Registers a shared mapping of a file at `start`, `len` bytes long, whose pages
/// [`release_read`] may drop from the resident set.
pub fn register_shared_file_map(start: *const u8, len: usize) {
    let mut maps = SHARED_FILE_MAPS.lock().unwrap_or_else(|e| e.into_inner());
    maps.push((start as usize, len));
}

/// Forgets the mapping at `start` (before it is unmapped).
pub fn unregister_shared_file_map(start: *const u8) {
    let mut maps = SHARED_FILE_MAPS.lock().unwrap_or_else(|e| e.into_inner());
    maps.retain(|&(s, _)| s != start as usize);
}

/// Drops every page of the registered shared file mappings from the resident set (they
/// stay in the page cache): what a phase's end does, so that the columns one phase read
/// (the signatures in the candidate stage, the summaries' rows verification located its
/// texts by) do not stay counted in the next.
pub fn release_all() {
    release_read(std::ptr::null(), usize::MAX as *const u8);
}

/// Drops from the resident set the whole pages, between `lo` and `hi`, of the registered
/// shared file mappings (nothing outside them, nothing where unsupported): what a
/// sequential reader of a large mapped column calls behind itself, so that a pass over
/// the column does not leave all of it counted in the process's memory. The pages stay
/// in the page cache, and reading them again maps them again.
pub fn release_read(lo: *const u8, hi: *const u8) {
    #[cfg(target_os = "linux")]
    {
        let maps = SHARED_FILE_MAPS.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: a plain query of the page size.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as usize;
        for &(start, len) in maps.iter() {
            let from = (lo as usize).max(start).next_multiple_of(page);
            let to = (hi as usize).min(start + len) / page * page;
            if from < to {
                // SAFETY: the range is inside a registered shared file mapping, still
                // mapped (it is unregistered before it is unmapped, under this lock);
                // on such a mapping MADV_DONTNEED keeps the contents (see above).
                unsafe {
                    libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_DONTNEED);
                }
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (lo, hi);
}
