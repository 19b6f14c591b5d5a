//! SIGINT and SIGTERM in the middle of a run: the run's staging folder is removed, one line
//! says the previous output is unchanged, and the process exits 130 (SIGINT) or 143
//! (SIGTERM) — instead of dying silently and leaving tens of MB of spill in the output
//! until the next run.
//!
//! A signal that arrives during the commit waits for it: the commit is the one step that
//! must not be cut by a cleanup (its own crash safety covers kill -9, not a folder removed
//! under it), and once it ends the new output is whole. A signal before the commit removes
//! what the run staged, and the commit never starts (the handler exits while holding the
//! commit's guard).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once};

/// Folders a run is writing that an interrupt removes.
static STAGED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Held by a commit from its first step to its last, and by the interrupt handler from
/// the signal to the exit.
static COMMIT: Mutex<()> = Mutex::new(());

static INSTALL: Once = Once::new();

/// Starts the thread that handles SIGINT and SIGTERM (once per process; the CLI's `run`).
pub fn install() {
    INSTALL.call_once(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
                return;
            };
            let _ = std::thread::Builder::new()
                .name("pagesieve-signals".into())
                .spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        stop(sig);
                    }
                });
        }
    });
}

/// The handler: waits for a commit in progress, removes the staged folders, says so and
/// exits with 128 + the signal's number.
fn stop(sig: i32) -> ! {
    let _commit = COMMIT.lock().unwrap_or_else(|e| e.into_inner());
    let staged = std::mem::take(&mut *STAGED.lock().unwrap_or_else(|e| e.into_inner()));
    for dir in &staged {
        let _ = std::fs::remove_dir_all(dir);
    }
    let what = match staged.is_empty() {
        true => "interrupted",
        false => "interrupted; the previous output is unchanged",
    };
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "pagesieve: {what}");
    std::process::exit(128 + sig)
}

/// Marks `dir` as staged by this run: removed if the run is interrupted.
pub fn track(dir: &Path) {
    STAGED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(dir.to_path_buf());
}

/// `dir` is no longer this run's to remove (published, moved or removed).
pub fn untrack(dir: &Path) {
    STAGED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|d| d != dir);
}

/// Holds off the interrupt handler for the commit's duration.
pub fn committing() -> MutexGuard<'static, ()> {
    COMMIT.lock().unwrap_or_else(|e| e.into_inner())
}
