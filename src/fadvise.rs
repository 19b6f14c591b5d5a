//! Page-cache hints on open files (`posix_fadvise`, Linux only): hints, never errors, and
//! nothing happens where they are not supported.

use std::fs::File;

/// Asks the kernel to drop `f`'s pages from its cache (they must be clean: a file only
/// read).
pub fn evict(f: &File) {
    advise(f, 0, 0, Advice::DontNeed);
}

/// Asks the kernel to start reading `len` bytes of `f` at `offset` into its cache; returns
/// without waiting for them.
pub fn will_need(f: &File, offset: u64, len: u64) {
    advise(f, offset, len, Advice::WillNeed);
}

enum Advice {
    DontNeed,
    WillNeed,
}

#[cfg(target_os = "linux")]
fn advise(f: &File, offset: u64, len: u64, advice: Advice) {
    use std::os::fd::AsRawFd;
    let advice = match advice {
        Advice::DontNeed => libc::POSIX_FADV_DONTNEED,
        Advice::WillNeed => libc::POSIX_FADV_WILLNEED,
    };
    let (Ok(offset), Ok(len)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
        return;
    };
    // SAFETY: a plain system call on a descriptor `f` keeps open; it reads no memory.
    unsafe {
        libc::posix_fadvise(f.as_raw_fd(), offset, len, advice);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_f: &File, _offset: u64, _len: u64, _advice: Advice) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_leave_the_file_readable() {
        use std::io::Read;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, "页面内容".repeat(5000)).unwrap();
        let f = File::open(&p).unwrap();
        will_need(&f, 4096, 8192);
        will_need(&f, u64::MAX, 1);
        evict(&f);
        let mut s = String::new();
        (&f).read_to_string(&mut s).unwrap();
        assert_eq!(s, "页面内容".repeat(5000));
    }
}
