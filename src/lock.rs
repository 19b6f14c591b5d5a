//! Locks on the folders a run writes (its output folder, its index folder): an exclusive
//! `flock` held for the whole run, so two runs never write one folder. The lock file holds
//! the holder's pid and start, so the second run can say who holds it; the lock itself
//! goes with the process (a killed run holds nothing), so a dead run's leftovers are
//! recognised by the lock being free.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    /// Held open: the lock goes with it.
    _file: File,
    path: PathBuf,
}

impl Lock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Takes the lock file `path` (created if missing) for `what` (as a person reads it: "the
/// output folder out/"). Held by another process: without `wait`, a usage error naming
/// the holder; with `wait`, blocks until it is free.
pub fn acquire(path: &Path, what: &str, wait: bool) -> Result<Lock, Error> {
    let io = |source| Error::Output {
        path: path.to_path_buf(),
        what: Some("the lock file"),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)?;
    if !try_lock(&file, false).map_err(io)? {
        let holder = holder(&mut file);
        if !wait {
            return Err(Error::Usage(format!(
                "{what} is in use by another pagesieve run ({holder}); wait for it to \
                 finish, or pass --wait"
            )));
        }
        let _ = writeln!(
            std::io::stderr(),
            "pagesieve: waiting for {what}, in use by another run ({holder})"
        );
        try_lock(&file, true).map_err(io)?;
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    let me = format!(
        "pid {} since {}\n",
        std::process::id(),
        crate::timings::utc(std::time::SystemTime::now())
    );
    file.write_all(me.as_bytes()).map_err(io)?;
    Ok(Lock {
        _file: file,
        path: path.to_path_buf(),
    })
}

/// Whether the lock file `path` is free (no file, or no process holds it): what a run
/// checks before it removes another run's leftovers.
pub fn is_free(path: &Path) -> bool {
    match File::open(path) {
        Err(_) => true,
        Ok(f) => {
            let free = try_lock(&f, false).unwrap_or(false);
            if free {
                // SAFETY: unlocking our own descriptor.
                unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
            }
            free
        }
    }
}

fn try_lock(f: &File, block: bool) -> std::io::Result<bool> {
    let op = libc::LOCK_EX | if block { 0 } else { libc::LOCK_NB };
    loop {
        // SAFETY: flock on a descriptor we own.
        let r = unsafe { libc::flock(f.as_raw_fd(), op) };
        if r == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) if !block => return Ok(false),
            _ => return Err(e),
        }
    }
}

/// What the lock file says of its holder.
fn holder(f: &mut File) -> String {
    let mut s = String::new();
    let _ = f.rewind();
    let _ = f.take(256).read_to_string(&mut s);
    match s.trim() {
        "" => "holder unknown".into(),
        h => h.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lock");
        let first = acquire(&p, "the output folder o/", false).unwrap();
        assert!(!is_free(&p));
        let e = acquire(&p, "the output folder o/", false).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("--wait"), "{msg}");
        assert_eq!(e.exit_code(), 2);
        drop(first);
        assert!(is_free(&p));
        let _again = acquire(&p, "the output folder o/", false).unwrap();
    }

    #[test]
    fn wait_blocks_until_the_holder_lets_go() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lock");
        let first = acquire(&p, "x", false).unwrap();
        let t = std::thread::spawn({
            let p = p.clone();
            move || acquire(&p, "x", true).map(|_| ())
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!t.is_finished());
        drop(first);
        t.join().unwrap().unwrap();
    }
}
