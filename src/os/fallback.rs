//! What a back end does where its platform has no call of its own: shared by the back ends
//! that lack one (each names what it takes from here).
// Each back end takes only what it lacks, so on every platform some of these go unused.
#![allow(dead_code)]

use memmap2::MmapMut;
use std::fs::File;
use std::io;

/// No `MAP_HUGETLB` pool to size.
pub(crate) fn huge_page_size() -> Option<usize> {
    None
}

/// How a mapping is backed cannot be asked.
pub(crate) fn huge_page_backed(_base: *const u8, _len: usize) -> Option<bool> {
    None
}

/// Whether a page is mapped with a huge entry cannot be asked.
pub(crate) fn maps_huge(_ptr: *const u8) -> Option<bool> {
    None
}

/// The kernel cannot be asked to fault pages in here: `false`, so the caller reads a byte
/// per page.
///
/// # Safety
///
/// None needed; `unsafe` as on the platforms where the range must lie in a live mapping.
pub(crate) unsafe fn populate_read(_ptr: *const u8, _len: usize) -> bool {
    false
}

/// Starts writing back dirty pages of a shared mapping through the mapping itself
/// (`msync(MS_ASYNC)`, `FlushViewOfFile`): memmap2's `flush_async_range`, which the caller
/// passes in.
pub(crate) fn start_writeback(
    _file: &File,
    _offset: u64,
    _len: usize,
    flush_async: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    flush_async()
}

/// Grows or shrinks `map` to `new_len` bytes of `file` from `offset` (which the file must
/// reach): a new mapping replaces the old one (there is no `mremap`; Windows has none either).
///
/// # Safety
///
/// No reference into `map` may be alive: the mapping moves.
pub(crate) unsafe fn remap(
    map: &mut MmapMut,
    file: &File,
    offset: u64,
    new_len: usize,
) -> io::Result<()> {
    // SAFETY: the caller guarantees that nothing borrows the old mapping, and the file is
    // at least `new_len` bytes long.
    *map = unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(new_len)
            .map_mut(file)?
    };
    Ok(())
}

/// Shrinks `map` and `file` to `new_len` bytes: the mapping first, so that it never reaches
/// past the end of the file; on failure both keep their old length.
///
/// # Safety
///
/// As for [`remap`].
pub(crate) unsafe fn shrink(map: &mut MmapMut, file: &File, new_len: usize) -> io::Result<()> {
    let old_len = map.len();
    // SAFETY: the caller's contract; the file is longer than `new_len`.
    unsafe { remap(map, file, 0, new_len) }?;
    file.set_len(new_len as u64).map_err(|e| {
        // SAFETY: as above; the file still has its old length.
        let _ = unsafe { remap(map, file, 0, old_len) };
        e
    })
}

/// Removes the file at `path` from its directory; open handles and mappings of it stay
/// valid (Unix unlinks at once, whatever maps the file).
pub(crate) fn delete_file(path: &std::path::Path) -> io::Result<()> {
    std::fs::remove_file(path)
}

/// No file without a name: the caller names a temporary file instead.
pub(crate) fn create_unnamed(_dir: &std::path::Path) -> io::Result<Option<File>> {
    Ok(None)
}

/// Never called: [`create_unnamed`] makes no file.
pub(crate) fn link_unnamed(_file: &File, _path: &std::path::Path) -> io::Result<bool> {
    Ok(false)
}

/// No rename that refuses to replace: the caller links the file in place instead.
pub(crate) fn rename_noreplace(_from: &std::path::Path, _to: &std::path::Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Writes back every dirty page of a shared mapping and waits until they are durable,
/// through the mapping itself: memmap2's flush (`FlushViewOfFile` then `FlushFileBuffers`
/// on the read-write handle it keeps, on Windows), which the caller passes in.
pub(crate) fn sync_shared_mapping(
    _file: &File,
    flush: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    flush()
}
