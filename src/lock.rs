//! Keeping pages in RAM: [`MemoryMappedFile::lock`] and friends (`mlock`).

use crate::errors::{MmapIoError, Result};
use crate::mmap::MemoryMappedFile;

impl MemoryMappedFile {
    /// Locks the pages covering `len` bytes at `offset` in RAM, so they are never swapped
    /// out or dropped. The range is widened to page boundaries; a zero-length range is a
    /// no-op. Locks stay until [`unlock`](Self::unlock) or the mapping is dropped.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end;
    /// [`MmapIoError::LockFailed`] if the kernel refuses, typically because the process
    /// lacks `CAP_IPC_LOCK` and the range exceeds `RLIMIT_MEMLOCK`.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// match mmap.lock(0, 4096) {
    ///     Ok(()) => mmap.unlock(0, 4096)?,
    ///     Err(e) => println!("not allowed to lock memory here: {e}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock(&self, offset: u64, len: u64) -> Result<()> {
        self.lock_range(Some((offset, len)))
    }

    /// Unlocks the pages covering `len` bytes at `offset`; unlocking pages that are not
    /// locked is not an error.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::OutOfBounds`] if the range is past the end;
    /// [`MmapIoError::UnlockFailed`] if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 4096)?;
    /// mmap.unlock(0, 4096)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlock(&self, offset: u64, len: u64) -> Result<()> {
        self.unlock_range(Some((offset, len)))
    }

    /// Locks every page of the mapping in RAM (see [`lock`](Self::lock)).
    ///
    /// # Errors
    ///
    /// [`MmapIoError::LockFailed`] if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 8192)?;
    /// if mmap.lock_all().is_ok() {
    ///     mmap.unlock_all()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock_all(&self) -> Result<()> {
        self.lock_range(None)
    }

    /// Unlocks every page of the mapping.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::UnlockFailed`] if the kernel refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mmap = mmap_io::create_mmap(dir.path().join("d.bin"), 8192)?;
    /// mmap.unlock_all()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn unlock_all(&self) -> Result<()> {
        self.unlock_range(None)
    }

    fn lock_range(&self, range: Option<(u64, u64)>) -> Result<()> {
        self.range_op(range, |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`.
            unsafe { crate::os::lock(base, start, len) }
        })
        .map_err(|e| e.into_error(|e| MmapIoError::LockFailed(e.to_string())))
    }

    fn unlock_range(&self, range: Option<(u64, u64)>) -> Result<()> {
        self.range_op(range, |base, start, len| {
            // SAFETY: `range_op` passes a range of the live mapping at `base`.
            unsafe { crate::os::unlock(base, start, len) }
        })
        .map_err(|e| e.into_error(|e| MmapIoError::UnlockFailed(e.to_string())))
    }
}
