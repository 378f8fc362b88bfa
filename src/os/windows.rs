//! The Windows back end: memmap2 where it has the call (mapping, `FlushViewOfFile` and
//! `FlushFileBuffers`), `windows-sys` for the rest (`VirtualLock`, `PrefetchVirtualMemory`,
//! `FlushProcessWriteBuffers`, file identity).

use super::Advice;
use memmap2::MmapMut;
use std::fs::File;
use std::io;
use std::os::windows::io::AsRawHandle;
use std::sync::OnceLock;
use windows_sys::Win32::Foundation::HANDLE;

// Windows has no huge pages to report (large pages need a privilege and are not offered)
// and no call to populate a range; `FlushViewOfFile` starts write-back, and memmap2's flush
// (`FlushViewOfFile` then `FlushFileBuffers` on the read-write handle it keeps) is durable.
pub(crate) use super::fallback::{
    create_unnamed, huge_page_backed, huge_page_size, link_unnamed, maps_huge, populate_read,
    remap, start_writeback, sync_shared_mapping,
};
use windows_sys::Win32::Storage::FileSystem::{
    GetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION,
};
use windows_sys::Win32::System::Memory::{
    PrefetchVirtualMemory, VirtualLock, VirtualUnlock, WIN32_MEMORY_RANGE_ENTRY,
};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};
use windows_sys::Win32::System::Threading::{FlushProcessWriteBuffers, GetCurrentProcess};

/// The page size and the allocation granularity, asked once.
fn system_info() -> &'static (usize, usize) {
    static INFO: OnceLock<(usize, usize)> = OnceLock::new();
    INFO.get_or_init(|| {
        // SAFETY: `SYSTEM_INFO` is plain data, and all zeros is a valid value of it.
        let mut info: SYSTEM_INFO = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable `SYSTEM_INFO`; the call only fills it in.
        unsafe { GetSystemInfo(&mut info) };
        (
            info.dwPageSize as usize,
            info.dwAllocationGranularity as usize,
        )
    })
}

pub(crate) fn page_size() -> usize {
    system_info().0
}

/// The alignment the OS mapping of a file window starts at: the allocation granularity
/// (64 KiB on every Windows version).
pub(crate) fn offset_granularity() -> io::Result<usize> {
    Ok(system_info().1)
}

/// Shrinks `map` and `file` to `new_len` bytes. Windows refuses to shorten a file while
/// any view of it is mapped (`ERROR_USER_MAPPED_FILE`), so the view goes first, then the
/// file is cut (`SetEndOfFile`), then the view is made again. If another mapping of the
/// file is open the cut fails, and the view is made again at its old length.
///
/// # Safety
///
/// As for [`remap`].
pub(crate) unsafe fn shrink(map: &mut MmapMut, file: &File, new_len: usize) -> io::Result<()> {
    let old_len = map.len();
    // A one-byte anonymous map holds the place of the view meanwhile.
    *map = MmapMut::map_anon(1)?;
    let len = match file.set_len(new_len as u64) {
        Ok(()) => new_len,
        Err(e) => {
            // SAFETY: the caller's contract; the file still has its old length.
            unsafe { remap(map, file, 0, old_len) }?;
            return Err(e);
        }
    };
    // SAFETY: as above; the file is now `len` bytes long.
    unsafe { remap(map, file, 0, len) }
}

/// Applies `advice` to the pages covering `offset..offset + len` of the mapping at `base`:
/// `WillNeed` starts reading them in (`PrefetchVirtualMemory`); the other hints have no
/// Windows counterpart and succeed without effect.
///
/// # Safety
///
/// `offset..offset + len` must lie within a live mapping that starts at `base`.
pub(crate) unsafe fn advise(
    base: *const u8,
    offset: usize,
    len: usize,
    advice: Advice,
) -> io::Result<()> {
    match advice {
        // SAFETY: the caller's contract.
        Advice::WillNeed => unsafe { prefetch(base, offset, len) },
        _ => Ok(()),
    }
}

/// `PrefetchVirtualMemory` over the range.
///
/// # Safety
///
/// As for [`advise`].
unsafe fn prefetch(base: *const u8, offset: usize, len: usize) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    let range = WIN32_MEMORY_RANGE_ENTRY {
        VirtualAddress: base.wrapping_add(offset).cast_mut().cast(),
        NumberOfBytes: len,
    };
    // SAFETY: one entry, describing a range of a live mapping (the caller's contract); the
    // call only schedules reads of those pages.
    let ok = unsafe { PrefetchVirtualMemory(GetCurrentProcess(), 1, &range, 0) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Locks the pages covering `offset..offset + len` of the mapping at `base` in RAM
/// (`VirtualLock`, which widens the range to whole pages itself).
///
/// # Safety
///
/// `offset..offset + len` must lie within a live mapping that starts at `base`.
#[cfg_attr(not(feature = "locking"), allow(dead_code))]
pub(crate) unsafe fn lock(base: *const u8, offset: usize, len: usize) -> io::Result<()> {
    // SAFETY: the caller guarantees the range lies within a live mapping; locking does not
    // change what the pages hold.
    let ok = unsafe { VirtualLock(base.wrapping_add(offset).cast_mut().cast(), len) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Unlocks the pages covering `offset..offset + len` of the mapping at `base`
/// (`VirtualUnlock`).
///
/// # Safety
///
/// As for [`lock`].
#[cfg_attr(not(feature = "locking"), allow(dead_code))]
pub(crate) unsafe fn unlock(base: *const u8, offset: usize, len: usize) -> io::Result<()> {
    // SAFETY: as in `lock`.
    let ok = unsafe { VirtualUnlock(base.wrapping_add(offset).cast_mut().cast(), len) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Allocates `offset..offset + len` of `file`: a file that is not sparse (the default on
/// Windows) gets its clusters when `SetEndOfFile` grows it.
pub(crate) fn allocate(file: &File, offset: u64, len: u64) -> io::Result<()> {
    let end = offset
        .checked_add(len)
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    if file.metadata()?.len() < end {
        file.set_len(end)?;
    }
    Ok(())
}

/// `FlushProcessWriteBuffers` is on every supported Windows version, but Wine's (8.0) does
/// nothing at all: under Wine there is no fence, and every view fences and looks at the
/// published writers.
#[cfg_attr(mmap_io_loom, allow(dead_code))]
pub(crate) fn process_fence_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| !under_wine())
}

/// Whether this process runs under Wine, whose `ntdll` exports `wine_get_version`.
fn under_wine() -> bool {
    use windows_sys::Win32::System::LibraryLoader::{GetModuleHandleA, GetProcAddress};
    // SAFETY: a NUL-terminated name; ntdll is loaded in every process and never unloaded.
    let ntdll = unsafe { GetModuleHandleA(c"ntdll.dll".as_ptr().cast()) };
    // SAFETY: a module handle just returned (checked for null) and a NUL-terminated name;
    // the address is only tested, never called.
    !ntdll.is_null()
        && unsafe { GetProcAddress(ntdll, c"wine_get_version".as_ptr().cast()) }.is_some()
}

/// A full memory barrier on every running thread of the process
/// (`FlushProcessWriteBuffers`, which interrupts each processor running one of them).
#[cfg_attr(mmap_io_loom, allow(dead_code))]
pub(crate) fn process_fence() {
    // SAFETY: no arguments, no failure.
    unsafe { FlushProcessWriteBuffers() };
}

/// Removes the file at `path` from its directory at once, while it is open or mapped
/// (POSIX semantics: `SetFileInformationByHandle` with `FileDispositionInfoEx`, Windows 10
/// 1709 and later on NTFS), so that a new file may take its name; the open handles and
/// mappings of it stay valid until they close. Where the system or its file system lacks
/// them (`ERROR_INVALID_PARAMETER`, `ERROR_NOT_SUPPORTED`, `ERROR_INVALID_FUNCTION`), the
/// file is deleted as `std` does (`DeleteFileW`): it keeps its name until its last handle
/// closes. Like `std::fs::remove_file`, a symbolic link is removed, not its target.
pub(crate) fn delete_file(path: &std::path::Path) -> io::Result<()> {
    use std::os::windows::fs::OpenOptionsExt;
    use windows_sys::Win32::Storage::FileSystem::{
        FileDispositionInfoEx, SetFileInformationByHandle, DELETE, FILE_DISPOSITION_FLAG_DELETE,
        FILE_DISPOSITION_FLAG_POSIX_SEMANTICS, FILE_DISPOSITION_INFO_EX,
        FILE_FLAG_OPEN_REPARSE_POINT, FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE,
    };
    let file = std::fs::OpenOptions::new()
        .access_mode(DELETE)
        .share_mode(FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)
        .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
        .open(path)?;
    let info = FILE_DISPOSITION_INFO_EX {
        Flags: FILE_DISPOSITION_FLAG_DELETE | FILE_DISPOSITION_FLAG_POSIX_SEMANTICS,
    };
    // SAFETY: the handle is open for as long as `file`; `info` is a valid
    // `FILE_DISPOSITION_INFO_EX` of the size given, read during the call only.
    let ok = unsafe {
        SetFileInformationByHandle(
            file.as_raw_handle() as HANDLE,
            FileDispositionInfoEx,
            (&info as *const FILE_DISPOSITION_INFO_EX).cast(),
            std::mem::size_of::<FILE_DISPOSITION_INFO_EX>() as u32,
        )
    };
    if ok != 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    drop(file);
    match error.raw_os_error() {
        Some(1 | 50 | 87) => std::fs::remove_file(path),
        _ => Err(error),
    }
}

/// Renames `from` to `to` unless something is at `to` (`AlreadyExists`): `MoveFileExW`
/// without `MOVEFILE_REPLACE_EXISTING`. An open handle of the file (opened with
/// `FILE_SHARE_DELETE`, as `std` opens files) stays valid and goes by the new name.
///
/// A path too long for the plain call is tried again in its verbatim form (`\\?\`,
/// through its directory's canonical path), as `std` does for long paths.
pub(crate) fn rename_noreplace(from: &std::path::Path, to: &std::path::Path) -> io::Result<()> {
    use std::os::windows::ffi::OsStrExt;
    use windows_sys::Win32::Storage::FileSystem::MoveFileExW;
    let rename = |from: &std::path::Path, to: &std::path::Path| {
        let wide = |p: &std::path::Path| -> Vec<u16> {
            p.as_os_str()
                .encode_wide()
                .chain(std::iter::once(0))
                .collect()
        };
        let (from, to) = (wide(from), wide(to));
        // SAFETY: two NUL-terminated wide strings that outlive the call.
        match unsafe { MoveFileExW(from.as_ptr(), to.as_ptr(), 0) } {
            0 => Err(io::Error::last_os_error()),
            _ => Ok(()),
        }
    };
    let verbatim = |p: &std::path::Path| -> io::Result<std::path::PathBuf> {
        let name = p.file_name().ok_or(io::ErrorKind::InvalidInput)?;
        Ok(std::fs::canonicalize(super::directory_of(p))?.join(name))
    };
    // ERROR_PATH_NOT_FOUND and ERROR_FILENAME_EXCED_RANGE: what a plain path past
    // MAX_PATH gets.
    match rename(from, to) {
        Err(e) if matches!(e.raw_os_error(), Some(3 | 206)) => {
            match (verbatim(from), verbatim(to)) {
                (Ok(from), Ok(to)) => rename(&from, &to),
                _ => Err(e),
            }
        }
        renamed => renamed,
    }
}

/// The file's identity (volume serial number and file index), as the registry of live
/// mappings keys it.
pub(crate) fn file_id(file: &File) -> io::Result<Option<(u64, u64)>> {
    // SAFETY: plain data, and all zeros is a valid value of it.
    let mut info: BY_HANDLE_FILE_INFORMATION = unsafe { std::mem::zeroed() };
    // SAFETY: the handle is open for as long as `file`; `info` is valid and writable.
    let ok = unsafe { GetFileInformationByHandle(file.as_raw_handle() as HANDLE, &mut info) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let index = (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow);
    Ok(Some((u64::from(info.dwVolumeSerialNumber), index)))
}

/// Writes all of `buf` at `offset` of `file`.
pub(crate) fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_write(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
