//! The portable Unix back end (macOS, the BSDs): POSIX calls through rustix. Linux uses the
//! calls of this file that are the same there and replaces the rest (`linux.rs`).
// On Linux only the shared part of this file is used.
#![cfg_attr(
    any(target_os = "linux", target_os = "android"),
    allow(dead_code, unused_imports)
)]

use super::{page_span, Advice};
use std::fs::File;
use std::io;
use std::sync::OnceLock;

pub(crate) use super::fallback::{
    create_unnamed, delete_file, huge_page_backed, huge_page_size, link_unnamed, maps_huge,
    populate_read, remap, rename_noreplace, shrink, start_writeback,
};

pub(crate) fn page_size() -> usize {
    static PAGE_SIZE: OnceLock<usize> = OnceLock::new();
    *PAGE_SIZE.get_or_init(rustix::param::page_size)
}

/// The alignment the OS mapping of a file window starts at: the page size (memmap2 maps
/// from the offset rounded down to it and hides the leading bytes).
pub(crate) fn offset_granularity() -> io::Result<usize> {
    Ok(page_size())
}

/// Applies `advice` to the pages covering `offset..offset + len` of the mapping at `base`.
///
/// # Safety
///
/// `offset..offset + len` must lie within a live mapping that starts at `base`. For
/// [`Advice::DontNeed`] on a private mapping, the caller must also ensure that nothing
/// observes the discarded modifications.
pub(crate) unsafe fn advise(
    base: *const u8,
    offset: usize,
    len: usize,
    advice: Advice,
) -> io::Result<()> {
    use rustix::mm::Advice as A;
    let advice = match advice {
        Advice::Normal => A::Normal,
        Advice::Random => A::Random,
        Advice::Sequential => A::Sequential,
        Advice::WillNeed => A::WillNeed,
        // POSIX's DontNeed is only a hint; Linux's drops the pages (private ones revert to
        // the file), which is what the crate's callers ask for.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Advice::DontNeed => A::LinuxDontNeed,
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Advice::DontNeed => A::DontNeed,
        // Transparent huge pages are a Linux notion.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Advice::HugePage => A::LinuxHugepage,
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Advice::HugePage => return Ok(()),
    };
    let (start, len) = page_span(base, offset, len);
    // SAFETY: the caller guarantees the range lies within a live mapping; widening it to
    // page boundaries stays within the same mapping, which is page-aligned at both ends.
    unsafe { rustix::mm::madvise(start.cast(), len, advice) }.map_err(io::Error::from)
}

/// Locks the pages covering `offset..offset + len` of the mapping at `base` in RAM.
///
/// # Safety
///
/// `offset..offset + len` must lie within a live mapping that starts at `base`.
#[cfg_attr(not(feature = "locking"), allow(dead_code))]
pub(crate) unsafe fn lock(base: *const u8, offset: usize, len: usize) -> io::Result<()> {
    let (start, len) = page_span(base, offset, len);
    // SAFETY: the caller guarantees the range lies within a live mapping; widening it to
    // page boundaries stays within it. Locking does not change what the pages hold.
    unsafe { rustix::mm::mlock(start.cast(), len) }.map_err(io::Error::from)
}

/// Unlocks the pages covering `offset..offset + len` of the mapping at `base`.
///
/// # Safety
///
/// As for [`lock`].
#[cfg_attr(not(feature = "locking"), allow(dead_code))]
pub(crate) unsafe fn unlock(base: *const u8, offset: usize, len: usize) -> io::Result<()> {
    let (start, len) = page_span(base, offset, len);
    // SAFETY: as in `lock`.
    unsafe { rustix::mm::munlock(start.cast(), len) }.map_err(io::Error::from)
}

/// Writes back every dirty page of a shared mapping of `file` and waits until they are
/// durable: `msync(MS_SYNC)` through the mapping, then `fsync` (on Apple platforms std
/// makes it `F_FULLFSYNC`, which also empties the drive's cache).
pub(crate) fn sync_shared_mapping(
    file: &File,
    msync: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    msync()?;
    file.sync_all()
}

/// Allocates disk blocks for `offset..offset + len` of `file`, growing it if needed, so that
/// later writes through a mapping cannot run out of space (`posix_fallocate`; Apple
/// platforms have no such call).
pub(crate) fn allocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    #[cfg(not(any(target_os = "macos", target_os = "ios")))]
    {
        rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), offset, len)
            .map_err(io::Error::from)
    }
    #[cfg(any(target_os = "macos", target_os = "ios"))]
    {
        let _ = (file, offset);
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "preallocation is not available on this platform",
        ))
    }
}

/// No process-wide fence here: every view fences and looks at the published writers.
#[cfg_attr(mmap_io_loom, allow(dead_code))]
pub(crate) fn process_fence_available() -> bool {
    false
}

/// Never called: [`process_fence_available`] is `false`.
#[cfg_attr(mmap_io_loom, allow(dead_code))]
pub(crate) fn process_fence() {}

/// The file's identity (device and inode), as the registry of live mappings keys it.
pub(crate) fn file_id(file: &File) -> io::Result<Option<(u64, u64)>> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    Ok(Some((meta.dev(), meta.ino())))
}

/// Writes all of `buf` at `offset` of `file`.
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}
