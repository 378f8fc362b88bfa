use super::Advice;

pub(crate) use super::fallback::{
    create_unnamed, delete_file, huge_page_backed, huge_page_size, link_unnamed, maps_huge,
    populate_read, remap, rename_noreplace, shrink, start_writeback, sync_shared_mapping,
};
use std::fs::File;
use std::io;

pub(crate) fn page_size() -> usize {
    4096
}

/// No memory maps here.
pub(crate) fn offset_granularity() -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
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
