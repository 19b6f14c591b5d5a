//! The fault hook: `PAGESIEVE_FAULT=<point>` kills the process with SIGKILL when it reaches
//! that point, as a crash or `kill -9` at that instant would. Tests run every point of the
//! commit ([`COMMIT`]) and check that the next night sees either the previous output and
//! index or the new ones, whole. `PAGESIEVE_FAULT=stop:<point>` instead holds the thread
//! that reaches the point there for good, as a run slower than anything a test waits for
//! (a signal sent to it then always finds it at that point). Unset (always, outside
//! tests), a point costs one load.

use std::sync::OnceLock;

/// The environment variable naming the point to die at.
pub const ENV: &str = "PAGESIEVE_FAULT";

/// The run's staging folder exists and its phases start (the scan, or the shards' load).
pub const PHASES_STARTED: &str = "run:phases-started";
/// Tonight's segment is written into `--index DIR` (not yet named by any manifest).
pub const SEGMENT_WRITTEN: &str = "commit:segment-written";
/// Every output file (and an in-output index) is staged and synced.
pub const STAGED: &str = "commit:staged";
/// The new index manifest is written beside the old one as a pending commit.
pub const PENDING_WRITTEN: &str = "commit:pending-written";
/// The staged folder is renamed to its generation's name (not yet published).
pub const GENERATION_RENAMED: &str = "commit:generation-renamed";
/// The output's `current` pointer names the new generation: the commit's decision.
pub const POINTER_SWITCHED: &str = "commit:pointer-switched";
/// The pending index manifest replaced the old one.
pub const MANIFEST_PUBLISHED: &str = "commit:manifest-published";
/// The output folder's names link into the new generation.
pub const LINKED: &str = "commit:linked";
/// The previous generation and the index files no manifest names are removed.
pub const CLEANED: &str = "commit:cleaned";

/// Every point of a run's commit, in the order they are reached.
pub const COMMIT: [&str; 8] = [
    SEGMENT_WRITTEN,
    STAGED,
    PENDING_WRITTEN,
    GENERATION_RENAMED,
    POINTER_SWITCHED,
    MANIFEST_PUBLISHED,
    LINKED,
    CLEANED,
];

/// Dies here if the hook names this point; stops here for good if it names it after
/// `stop:`.
pub fn point(name: &str) {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var(ENV).ok().filter(|v| !v.is_empty()));
    if armed.as_deref().and_then(|a| a.strip_prefix("stop:")) == Some(name) {
        eprintln!("pagesieve: {ENV}: stopped at {name}");
        loop {
            std::thread::park();
        }
    }
    if armed.as_deref() == Some(name) {
        eprintln!("pagesieve: {ENV}: killed at {name}");
        // SAFETY: sending a signal to this process; it does not return.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}
