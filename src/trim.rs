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

/// Ends a phase: hands freed heap back ([`trim`]) and, when `PAGESIEVE_MEMORY_TRACE` is
/// set, prints the resident and peak memory after `phase` to stderr (how BENCHMARKS.md
/// splits a run's peak by phase).
pub fn phase_end(phase: &str) {
    trim();
    if std::env::var_os("PAGESIEVE_MEMORY_TRACE").is_some() {
        if let Some((rss, hwm, anon)) = resident_kib() {
            eprintln!(
                "memory after {phase}: resident {} MiB ({} MiB anonymous), peak {} MiB{}",
                rss / 1024,
                anon / 1024,
                hwm / 1024,
                heap_use()
            );
        }
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
