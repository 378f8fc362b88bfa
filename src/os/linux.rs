//! The Linux (and Android) back end: the portable Unix one, with what only Linux has in
//! place of its fallbacks: `mremap`, `MADV_POPULATE_READ`, `MADV_HUGEPAGE`, `fdatasync` as
//! the sync of a shared mapping, `sync_file_range`, `/proc/self/smaps`, `PAGEMAP_SCAN` and
//! `membarrier`.

use memmap2::MmapMut;
use std::fs::File;
use std::io;
use std::sync::OnceLock;

pub(crate) use super::unix::{
    advise, allocate, delete_file, file_id, offset_granularity, page_size, shrink, write_all_at,
};
#[cfg(feature = "locking")]
pub(crate) use super::unix::{lock, unlock};

/// The default huge page size (`Hugepagesize` in `/proc/meminfo`), where the kernel has one.
pub(crate) fn huge_page_size() -> Option<usize> {
    static HUGE_PAGE_SIZE: OnceLock<Option<usize>> = OnceLock::new();
    *HUGE_PAGE_SIZE.get_or_init(|| {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("Hugepagesize:"))?;
        let kb = line
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse::<usize>()
            .ok()?;
        kb.checked_mul(1024).filter(|&n| n > 0)
    })
}

/// Grows or shrinks `map` to `new_len` bytes of `file` from `offset` (the offset it was
/// mapped at), which the file must reach.
///
/// # Safety
///
/// No reference into `map` may be alive: the mapping may move.
pub(crate) unsafe fn remap(
    map: &mut MmapMut,
    file: &File,
    offset: u64,
    new_len: usize,
) -> io::Result<()> {
    // memmap2 keeps the mapping's offset in the file.
    let _ = (file, offset);
    // SAFETY: the caller guarantees that nothing borrows the mapping, so it may move;
    // mremap keeps the page tables, so hot pages stay hot.
    unsafe { map.remap(new_len, memmap2::RemapOptions::new().may_move(true)) }
}

/// Whether the mapping at `base` (of `len` bytes) has huge pages, from `/proc/self/smaps`:
/// transparent huge pages in use, or a `hugetlbfs` mapping (`MAP_HUGETLB`).
pub(crate) fn huge_page_backed(base: *const u8, len: usize) -> Option<bool> {
    if len == 0 {
        return None;
    }
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    let (start, end) = (base as usize, base as usize + len);
    let mut huge_kb = 0u64;
    let mut inside = false;
    for line in smaps.lines() {
        if let Some((lo, hi)) = smaps_range(line) {
            // A mapping may be split into several entries; count every one that overlaps.
            inside = lo < end && start < hi;
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(v) = line.strip_prefix("KernelPageSize:") {
            let kb = v.trim().trim_end_matches("kB").trim().parse::<usize>();
            if kb.is_ok_and(|kb| kb * 1024 > page_size()) {
                return Some(true);
            }
        }
        for field in ["AnonHugePages:", "ShmemPmdMapped:", "FilePmdMapped:"] {
            if let Some(v) = line.strip_prefix(field) {
                huge_kb += v
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .unwrap_or(0);
            }
        }
    }
    Some(huge_kb > 0)
}

/// The address range of an smaps entry header line (`start-end perms ...`).
fn smaps_range(line: &str) -> Option<(usize, usize)> {
    let (lo, hi) = line.split_whitespace().next()?.split_once('-')?;
    Some((
        usize::from_str_radix(lo, 16).ok()?,
        usize::from_str_radix(hi, 16).ok()?,
    ))
}

/// Asks the kernel to fault in every page that `len` bytes at `ptr` cover for reading
/// (`MADV_POPULATE_READ`, Linux 5.14+), without dirtying any; `false` where it cannot (an
/// older kernel, or a page past the file's end): the caller reads a byte per page instead.
///
/// # Safety
///
/// The range lies in a live mapping.
pub(crate) unsafe fn populate_read(ptr: *const u8, len: usize) -> bool {
    // SAFETY: the caller guarantees the range lies in a live mapping; populating does not
    // change what the pages hold.
    len == 0
        || unsafe { rustix::mm::madvise(ptr as *mut _, len, rustix::mm::Advice::LinuxPopulateRead) }
            .is_ok()
}

/// Writes back every dirty page of a shared mapping of `file` and waits until they are
/// durable.
///
/// On Linux, a page written through a shared mapping is marked dirty in the page cache at
/// the write (the kernel keeps clean pages write-protected to catch it), so `fdatasync` on
/// the file writes it back and write-protects it again: what `msync(MS_SYNC)` does for a
/// shared mapping, without needing the mapping, so no lock on it is held meanwhile.
pub(crate) fn sync_shared_mapping(
    file: &File,
    msync: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    let _ = msync;
    file.sync_data()
}

/// A file with no name in `dir` (`O_TMPFILE`), for [`link_unnamed`] to name once it is
/// ready; `None` where the file system cannot make one. Nothing is left of it if it is
/// never named, even if the process dies.
pub(crate) fn create_unnamed(dir: &std::path::Path) -> io::Result<Option<File>> {
    use rustix::fs::{openat, Mode, OFlags, CWD};
    use rustix::io::Errno;
    let flags = OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC;
    match openat(CWD, dir, flags, Mode::from_raw_mode(0o666)) {
        Ok(fd) => Ok(Some(File::from(fd))),
        // No O_TMPFILE on this file system (EISDIR from kernels that predate it).
        Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Names a file made by [`create_unnamed`] `path`, unless something is there
/// (`AlreadyExists`); `false` where it cannot be named (for one, with no `/proc` and no
/// `CAP_DAC_READ_SEARCH` for `AT_EMPTY_PATH`).
pub(crate) fn link_unnamed(file: &File, path: &std::path::Path) -> io::Result<bool> {
    use rustix::fs::{linkat, AtFlags, CWD};
    use rustix::io::Errno;
    use std::os::fd::AsRawFd;
    // The calling thread's own descriptor table (`/proc/self` is the main thread's, which
    // a thread that unshared its table does not share); `/proc/self` before Linux 3.17.
    let proc_fd = |proc: &str| format!("/proc/{proc}/fd/{}", file.as_raw_fd());
    let by_proc = |proc: &str| {
        linkat(
            CWD,
            proc_fd(proc).as_str(),
            CWD,
            path,
            AtFlags::SYMLINK_FOLLOW,
        )
    };
    let linked = match by_proc("thread-self") {
        Err(Errno::NOENT) if std::fs::metadata("/proc/thread-self").is_err() => {
            match by_proc("self") {
                Err(Errno::NOENT) if std::fs::metadata("/proc/self/fd").is_err() => {
                    linkat(file, "", CWD, path, AtFlags::EMPTY_PATH)
                }
                linked => linked,
            }
        }
        linked => linked,
    };
    match linked {
        Ok(()) => Ok(true),
        Err(Errno::EXIST) => Err(io::ErrorKind::AlreadyExists.into()),
        // No /proc (and no CAP_DAC_READ_SEARCH), or a file system that will not link it:
        // the caller falls back to a named temporary file.
        Err(Errno::NOENT | Errno::PERM | Errno::OPNOTSUPP | Errno::XDEV | Errno::NOSYS) => {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Renames `from` to `to` unless something is at `to` (`AlreadyExists`), with
/// `renameat2(RENAME_NOREPLACE)`; `Unsupported` where the file system has no such rename.
pub(crate) fn rename_noreplace(from: &std::path::Path, to: &std::path::Path) -> io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    use rustix::io::Errno;
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
            Err(io::ErrorKind::Unsupported.into())
        }
        renamed => renamed.map_err(io::Error::from),
    }
}

/// Starts writing back the dirty pages of `len` bytes at `offset` of `file` (a shared
/// mapping's bytes, named by their offset in the file), without waiting for them.
///
/// `sync_file_range(SYNC_FILE_RANGE_WRITE)` on the file: a page written through the mapping
/// is dirty in the page cache (see [`sync_shared_mapping`]).
pub(crate) fn start_writeback(
    file: &File,
    offset: u64,
    len: usize,
    msync_async: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let _ = msync_async;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return Err(io::ErrorKind::InvalidInput.into());
    };
    // SAFETY: a plain system call on an open descriptor, with no memory passed to it.
    let rc = unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether [`process_fence`] is available: Linux 4.14+ `membarrier`, registered once for
/// the process here.
#[cfg_attr(mmap_io_loom, allow(dead_code))]
pub(crate) fn process_fence_available() -> bool {
    use rustix::thread::{membarrier, membarrier_query, MembarrierCommand as Cmd};
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        membarrier_query().contains_command(Cmd::PrivateExpedited)
            && membarrier(Cmd::RegisterPrivateExpedited).is_ok()
    })
}

/// A full memory barrier on every running thread of the process (`membarrier`
/// `PRIVATE_EXPEDITED`). Only called once [`process_fence_available`] returned `true`.
#[cfg_attr(mmap_io_loom, allow(dead_code))]
pub(crate) fn process_fence() {
    use rustix::thread::{membarrier, MembarrierCommand as Cmd};
    // Registration is for the life of the process (and kept across fork), so this cannot
    // fail; if it ever did, readers could be racing a writer unseen, and stopping is the
    // only sound way out.
    if membarrier(Cmd::PrivateExpedited).is_err() {
        std::process::abort();
    }
}

/// Whether the page at `ptr`, which must be faulted in, is mapped with a huge (2 MiB) entry,
/// as `PAGEMAP_SCAN` (Linux 6.7+) reports it; `None` where the kernel cannot tell.
pub(crate) fn maps_huge(ptr: *const u8) -> Option<bool> {
    use rustix::ioctl::{ioctl, opcode, Updater};
    /// `struct page_region` of `linux/fs.h`.
    #[repr(C)]
    struct PageRegion {
        start: u64,
        end: u64,
        categories: u64,
    }
    /// `struct pm_scan_arg` of `linux/fs.h`.
    #[repr(C)]
    struct PmScanArg {
        size: u64,
        flags: u64,
        start: u64,
        end: u64,
        walk_end: u64,
        vec: u64,
        vec_len: u64,
        max_pages: u64,
        category_inverted: u64,
        category_mask: u64,
        category_anyof_mask: u64,
        return_mask: u64,
    }
    const PAGE_IS_PRESENT: u64 = 1 << 3;
    const PAGE_IS_HUGE: u64 = 1 << 6;
    const PAGEMAP_SCAN: rustix::ioctl::Opcode = opcode::read_write::<PmScanArg>(b'f', 16);
    static PAGEMAP: OnceLock<Option<File>> = OnceLock::new();
    let pagemap = PAGEMAP
        .get_or_init(|| File::open("/proc/self/pagemap").ok())
        .as_ref()?;
    let page = page_size() as u64;
    let start = ptr as u64 / page * page;
    let mut region = PageRegion {
        start: 0,
        end: 0,
        categories: 0,
    };
    let mut arg = PmScanArg {
        size: std::mem::size_of::<PmScanArg>() as u64,
        flags: 0,
        start,
        end: start + page,
        walk_end: 0,
        vec: std::ptr::addr_of_mut!(region) as u64,
        vec_len: 1,
        max_pages: 0,
        category_inverted: 0,
        category_mask: PAGE_IS_PRESENT,
        category_anyof_mask: 0,
        return_mask: PAGE_IS_PRESENT | PAGE_IS_HUGE,
    };
    // SAFETY: `arg` is a `pm_scan_arg` whose `vec` points to one live `page_region` the
    // kernel may fill; the scan only reads this process's page tables.
    unsafe { ioctl(pagemap, Updater::<PAGEMAP_SCAN, PmScanArg>::new(&mut arg)) }.ok()?;
    (region.end > region.start).then_some(region.categories & PAGE_IS_HUGE != 0)
}
