//! Async helpers that work on any executor (tokio, smol, async-std, a bare `block_on`):
//! the blocking work runs on the [`blocking`] crate's thread pool.
//!
//! The async write helpers flush before they complete: after awaiting
//! [`update_region_async`](MemoryMappedFile::update_region_async) or
//! [`flush_async`](MemoryMappedFile::flush_async), a fresh read-only mapping of the file sees
//! the bytes.

use crate::errors::Result;
use crate::mmap::MemoryMappedFile;
use std::path::Path;

/// Creates (or truncates) a file of `size` zero bytes and maps it read-write, off the
/// calling task; see [`create_mmap`](super::create_mmap).
///
/// # Errors
///
/// As [`MemoryMappedFile::create_rw`].
///
/// # Examples
///
/// ```
/// use mmap_io::manager::r#async::create_mmap_async;
///
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("async.bin");
/// let mmap = futures_lite::future::block_on(create_mmap_async(&path, 4096))?;
/// assert_eq!(mmap.len(), 4096);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn create_mmap_async<P: AsRef<Path>>(path: P, size: u64) -> Result<MemoryMappedFile> {
    let path = path.as_ref().to_path_buf();
    blocking::unblock(move || super::create_mmap(path, size)).await
}

/// Copies the file at `src` to `dst`, off the calling task; see
/// [`copy_mmap`](super::copy_mmap).
///
/// # Errors
///
/// As [`copy_mmap`](super::copy_mmap).
///
/// # Examples
///
/// ```
/// use mmap_io::manager::r#async::copy_mmap_async;
///
/// # let dir = tempfile::tempdir()?;
/// let (src, dst) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
/// std::fs::write(&src, b"copy")?;
/// futures_lite::future::block_on(copy_mmap_async(&src, &dst))?;
/// assert_eq!(std::fs::read(&dst)?, b"copy");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn copy_mmap_async<P: AsRef<Path>>(src: P, dst: P) -> Result<()> {
    let (src, dst) = (src.as_ref().to_path_buf(), dst.as_ref().to_path_buf());
    blocking::unblock(move || super::copy_mmap(src, dst)).await
}

/// Deletes the file at `path`, off the calling task; see
/// [`delete_mmap`](super::delete_mmap).
///
/// # Errors
///
/// As [`delete_mmap`](super::delete_mmap).
///
/// # Examples
///
/// ```
/// use mmap_io::manager::r#async::delete_mmap_async;
///
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("gone.bin");
/// std::fs::write(&path, b"x")?;
/// futures_lite::future::block_on(delete_mmap_async(&path))?;
/// assert!(!path.exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn delete_mmap_async<P: AsRef<Path>>(path: P) -> Result<()> {
    let path = path.as_ref().to_path_buf();
    blocking::unblock(move || super::delete_mmap(path)).await
}

impl MemoryMappedFile {
    /// Writes `data` at `offset` and flushes durably, off the calling task.
    ///
    /// The write runs on the `blocking` pool. Where it would wait for a view of its bytes
    /// that the awaiting thread holds (which that thread cannot drop while it waits), it is
    /// refused at once, as on that thread.
    ///
    /// # Errors
    ///
    /// As [`update_region`](Self::update_region) and [`flush`](Self::flush).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("d.bin");
    /// let mmap = mmap_io::create_mmap(&path, 4096)?;
    /// futures_lite::future::block_on(mmap.update_region_async(128, b"ASYNC-FLUSH"))?;
    /// let ro = mmap_io::MemoryMappedFile::open_ro(&path)?;
    /// assert_eq!(ro.as_slice(128, 11)?, b"ASYNC-FLUSH");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn update_region_async(&self, offset: u64, data: &[u8]) -> Result<()> {
        // The thread that awaits cannot drop its views meanwhile: a write that would wait
        // for one of them is refused here, as on that thread.
        if let (false, crate::map::Map::Writable(lock)) = (data.is_empty(), &self.inner.map) {
            let (start, end) = crate::guarded::span(offset, data.len() as u64);
            if let Some(conflict) = lock.own_conflict(start, end) {
                return Err(conflict.into());
            }
        }
        let (mmap, data) = (self.clone(), data.to_vec());
        blocking::unblock(move || {
            mmap.update_region(offset, &data)?;
            mmap.flush()
        })
        .await
    }

    /// [`flush`](Self::flush), off the calling task.
    ///
    /// # Errors
    ///
    /// As [`flush`](Self::flush).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// mmap.update_region(0, b"data")?;
    /// futures_lite::future::block_on(mmap.flush_async())?;
    /// assert_eq!(mmap.pending_bytes(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn flush_async(&self) -> Result<()> {
        let mmap = self.clone();
        blocking::unblock(move || mmap.flush()).await
    }

    /// [`flush_range`](Self::flush_range), off the calling task.
    ///
    /// # Errors
    ///
    /// As [`flush_range`](Self::flush_range).
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 8192)?;
    /// mmap.update_region(5000, b"data")?;
    /// futures_lite::future::block_on(mmap.flush_range_async(5000, 4))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn flush_range_async(&self, offset: u64, len: u64) -> Result<()> {
        let mmap = self.clone();
        blocking::unblock(move || mmap.flush_range(offset, len)).await
    }
}
