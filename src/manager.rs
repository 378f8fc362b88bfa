//! Free functions for whole-file jobs: create, load, write, flush, copy, delete.

#[cfg(feature = "async")]
#[cfg_attr(docsrs, doc(cfg(feature = "async")))]
pub mod r#async;

use crate::errors::Result;
use crate::mmap::{MemoryMappedFile, MmapMode};
use std::path::Path;

/// Creates (or truncates) the file at `path` with `size` zero bytes and maps it read-write;
/// same as [`MemoryMappedFile::create_rw`].
///
/// # Errors
///
/// As [`MemoryMappedFile::create_rw`].
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 1024)?;
/// assert_eq!(mmap.len(), 1024);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_mmap<P: AsRef<Path>>(path: P, size: u64) -> Result<MemoryMappedFile> {
    MemoryMappedFile::create_rw(path, size)
}

/// Maps the existing file at `path` in `mode`.
///
/// # Errors
///
/// As [`MemoryMappedFileBuilder::open`](crate::mmap::MemoryMappedFileBuilder::open).
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("d.bin");
/// std::fs::write(&path, b"abc")?;
/// let mmap = mmap_io::load_mmap(&path, mmap_io::MmapMode::ReadOnly)?;
/// assert_eq!(mmap.as_slice(0, 3)?, b"abc");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load_mmap<P: AsRef<Path>>(path: P, mode: MmapMode) -> Result<MemoryMappedFile> {
    MemoryMappedFile::builder(path).mode(mode).open()
}

/// Writes `data` at `offset`; same as [`MemoryMappedFile::update_region`].
///
/// # Errors
///
/// As [`MemoryMappedFile::update_region`].
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 64)?;
/// mmap_io::update_region(&mmap, 0, b"data")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn update_region(mmap: &MemoryMappedFile, offset: u64, data: &[u8]) -> Result<()> {
    mmap.update_region(offset, data)
}

/// Durably flushes `mmap`; same as [`MemoryMappedFile::flush`].
///
/// # Errors
///
/// As [`MemoryMappedFile::flush`].
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 64)?;
/// mmap_io::update_region(&mmap, 0, b"data")?;
/// mmap_io::flush(&mmap)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn flush(mmap: &MemoryMappedFile) -> Result<()> {
    mmap.flush()
}

/// Copies the file at `src` to `dst` through the file system (not through a mapping), with
/// `src`'s permissions, as [`std::fs::copy`] does.
///
/// Flush any mapping of `src` first: the copy reads what the page cache holds. Like a
/// create, the copy never cuts `dst` below what a live handle of it in this process maps
/// (that handle would die of `SIGBUS` at its next access past the new end): `dst` is
/// overwritten in place, not truncated first, and a copy that would shrink it under such a
/// handle is refused before `dst` is touched.
///
/// # Errors
///
/// [`MmapIoError::ResizeFailed`](crate::MmapIoError::ResizeFailed) if `src` is shorter than
/// what a live handle of `dst` in this process maps (checked before the copy, and again
/// with the bytes the copy read: `dst` then holds them, and keeps its length);
/// [`MmapIoError::Io`](crate::MmapIoError::Io) if the copy fails.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let (src, dst) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
/// std::fs::write(&src, b"copy me")?;
/// mmap_io::copy_mmap(&src, &dst)?;
/// assert_eq!(std::fs::read(&dst)?, b"copy me");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn copy_mmap<P: AsRef<Path>>(src: P, dst: P) -> Result<()> {
    let mut from = std::fs::File::open(src)?;
    let meta = from.metadata()?;
    let len = meta.len();
    let mut to = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(dst)?;
    // Every byte of `dst` is written: that waits for the views other threads hold of it, and
    // is refused where this thread holds one (or an atomic view, or bytes are lent).
    let lock = crate::registry::lock_of(&to)?;
    let _writing = match &lock {
        Some(lock) => Some(lock.write(crate::sync::NO_MAP, 0, usize::MAX)?),
        None => None,
    };
    // Refused here, `dst` is untouched; the length is checked again when it is cut, under
    // the registry's lock, in case a handle of `dst` grew meanwhile.
    shorten(&to, len, |_| Ok(()))?;
    // `dst` gets what was read: a source cut (or grown) while it is copied, or one whose
    // reported length is not what it holds (`/proc`, `/sys`), is copied as read, as
    // `std::fs::copy` does, never padded with zeros to the length measured first.
    let copied = std::io::copy(&mut from, &mut to)?;
    shorten(&to, copied, |_| to.set_len(copied))?;
    to.set_permissions(meta.permissions())?;
    Ok(())
}

/// Runs `cut` (which sets `file`'s length to `len`) through the registry of live mappings:
/// refused if a handle of `file` in this process maps more than `len`.
fn shorten(
    file: &std::fs::File,
    len: u64,
    cut: impl FnOnce(bool) -> std::io::Result<()>,
) -> Result<()> {
    crate::registry::truncate(file, len, cut)?
        .map_err(|refusal| crate::MmapIoError::ResizeFailed(refusal.message()))
}

/// Deletes the file at `path`. Mappings and open handles of it stay valid until they are
/// dropped. On Unix the name is free at once, even while the file is mapped.
///
/// On Windows the file is deleted with POSIX semantics where the system has them (Windows 10
/// 1709 and later, on NTFS: the name is free at once); elsewhere as `DeleteFileW` does (the
/// name stays until the last handle closes). Windows may refuse either while a view of the
/// file is mapped; the error then says so. Files the crate maps are opened with
/// `FILE_SHARE_DELETE`, so other programs may rename or delete them too (log rotation).
///
/// # Errors
///
/// [`MmapIoError::Io`](crate::MmapIoError::Io) if the file cannot be removed; on Windows,
/// where the system refuses because the file is mapped, the message says so.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("d.bin");
/// drop(mmap_io::create_mmap(&path, 64)?);
/// mmap_io::delete_mmap(&path)?;
/// assert!(!path.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn delete_mmap<P: AsRef<Path>>(path: P) -> Result<()> {
    let path = path.as_ref();
    crate::os::delete_file(path).map_err(|e| {
        if cfg!(windows) && e.kind() == std::io::ErrorKind::PermissionDenied {
            // Windows refuses to delete a file some process maps on file systems or
            // versions without POSIX deletion.
            let why = format!(
                "cannot delete {}: {e}; Windows refuses to delete a file while a mapping of \
                 it is open (drop the mappings, in this process and others, first) or while \
                 it is marked read-only",
                path.display()
            );
            std::io::Error::new(e.kind(), why)
        } else {
            e
        }
    })?;
    Ok(())
}

/// Writes `data` at `offset` of the existing file at `path` through a temporary read-write
/// mapping, and flushes it durably.
///
/// # Errors
///
/// As [`MemoryMappedFile::open_rw`], [`MemoryMappedFile::update_region`] (the file is not
/// grown: a range past its end is [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds))
/// and [`MemoryMappedFile::flush`].
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// # let path = dir.path().join("d.bin");
/// std::fs::write(&path, [0u8; 8])?;
/// mmap_io::write_mmap(&path, 2, b"hi")?;
/// assert_eq!(std::fs::read(&path)?, b"\0\0hi\0\0\0\0");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_mmap<P: AsRef<Path>>(path: P, offset: u64, data: &[u8]) -> Result<()> {
    let mmap = MemoryMappedFile::open_rw(path)?;
    mmap.update_region(offset, data)?;
    mmap.flush()
}
