use super::Advice;
use memmap2::MmapMut;
use std::fs::File;
use std::io;

pub(crate) fn page_size() -> usize {
    4096
}

/// No memory maps here.
pub(crate) fn offset_granularity() -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Unknown on this platform.
pub(crate) fn huge_page_size() -> Option<usize> {
    None
}

/// See the Unix back end.
///
/// # Safety
///
/// No reference into `map` may be alive: the mapping is replaced.
pub(crate) unsafe fn remap(map: &mut MmapMut, file: &File, new_len: usize) -> io::Result<()> {
    // SAFETY: the caller guarantees that nothing borrows the old mapping, and the file is at
    // least `new_len` bytes long.
    *map = unsafe { memmap2::MmapOptions::new().len(new_len).map_mut(file)? };
    Ok(())
}

/// Shrinks `map` and `file` to `new_len` bytes, the mapping first.
///
/// # Safety
///
/// As for [`remap`].
pub(crate) unsafe fn shrink(map: &mut MmapMut, file: &File, new_len: usize) -> io::Result<()> {
    // SAFETY: the caller's contract.
    unsafe { remap(map, file, new_len) }?;
    file.set_len(new_len as u64)
}

/// Hints have no portable meaning here.
///
/// # Safety
///
/// None needed; kept `unsafe` to match the Unix back end.
pub(crate) unsafe fn advise(
    _base: *const u8,
    _offset: usize,
    _len: usize,
    _advice: Advice,
) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Page locking has no portable meaning here.
///
/// # Safety
///
/// None needed; kept `unsafe` to match the Unix back end.
#[cfg_attr(not(feature = "locking"), allow(dead_code))]
pub(crate) unsafe fn lock(_base: *const u8, _offset: usize, _len: usize) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// See [`lock`].
///
/// # Safety
///
/// None needed; kept `unsafe` to match the Unix back end.
#[cfg_attr(not(feature = "locking"), allow(dead_code))]
pub(crate) unsafe fn unlock(_base: *const u8, _offset: usize, _len: usize) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Unknown on this platform.
pub(crate) fn huge_page_backed(_base: *const u8, _len: usize) -> Option<bool> {
    None
}

/// Faults in every page that `len` bytes at `ptr` cover for reading.
///
/// # Safety
///
/// The range lies in a live mapping.
pub(crate) unsafe fn populate_read(ptr: *const u8, len: usize) {
    // SAFETY: as the caller guarantees.
    unsafe { super::touch_pages(ptr, len) };
}

/// Writes back the dirty pages of a shared mapping of `_file` through the mapping.
pub(crate) fn sync_shared_mapping(
    _file: &File,
    msync: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    msync()
}

/// Starts writing back dirty pages of a shared mapping of `_file` through the mapping.
pub(crate) fn start_writeback(
    _file: &File,
    _offset: usize,
    _len: usize,
    msync_async: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    msync_async()
}

/// Preallocation has no portable meaning here.
pub(crate) fn allocate(_file: &File, _offset: u64, _len: u64) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// No process-wide fence here: readers always queue.
pub(crate) fn process_fence_available() -> bool {
    false
}

/// Never called: [`process_fence_available`] is `false`.
pub(crate) fn process_fence() {
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
}

/// Files have no identity the registry can use here.
pub(crate) fn file_id(_file: &File) -> io::Result<Option<(u64, u64)>> {
    Ok(None)
}

/// Writes all of `buf` at `offset` of `file`.
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = file;
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(buf)
}

/// The kernel cannot tell here.
pub(crate) fn maps_huge(_ptr: *const u8) -> Option<bool> {
    None
}
